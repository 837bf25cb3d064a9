"""Invoice and credit note: the EN 16931-1 semantic model (BG-0)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from b2b_gateway.canonical.base import DocumentBase, PricedLineBase
from b2b_gateway.canonical.codes import Amount, CurrencyCode, InvoiceTypeCode, is_credit_note_type
from b2b_gateway.canonical.common import (
    AllowanceCharge,
    Attachment,
    Delivery,
    DocumentReference,
    Party,
    PaymentMeans,
    Period,
    TaxSubtotal,
    Totals,
    bt,
)

__all__ = ["Invoice", "InvoiceLine"]


class InvoiceLine(PricedLineBase):
    net_amount: Amount = bt(
        "BT-131", "Line net amount = quantity × price / base quantity − allowances + charges", required=True
    )
    order_line_ref: str | None = bt("BT-132")
    object_id: str | None = bt("BT-128")


class Invoice(DocumentBase):
    """An invoice or, with a credit-note type code (381 …), a credit note."""

    document_type: Literal["invoice"] = "invoice"
    invoice_type_code: InvoiceTypeCode = bt(
        "BT-3", "UNCL 1001: 380 invoice, 381 credit note, 384 corrected …", required=True
    )
    currency: CurrencyCode = bt("BT-5", required=True)
    tax_currency: CurrencyCode | None = bt("BT-6")
    tax_point_date: dt.date | None = bt("BT-7")
    due_date: dt.date | None = bt("BT-9")
    buyer_reference: str | None = bt("BT-10")
    project_reference: str | None = bt("BT-11")
    contract_reference: str | None = bt("BT-12")
    order_reference: str | None = bt("BT-13")
    sales_order_reference: str | None = bt("BT-14")
    receiving_advice_ref: str | None = bt("BT-15")
    despatch_advice_ref: str | None = bt("BT-16")
    tender_ref: str | None = bt("BT-17")
    invoiced_object_ref: str | None = bt("BT-18")
    buyer_accounting_ref: str | None = bt("BT-19")
    payment_terms: str | None = bt("BT-20")
    invoice_period: Period | None = bt("BG-14")
    preceding_invoices: list[DocumentReference] = bt("BG-3", default_factory=list)
    seller: Party = bt("BG-4", required=True)
    buyer: Party = bt("BG-7", required=True)
    payee: Party | None = bt("BG-10")
    seller_tax_representative: Party | None = bt("BG-11")
    delivery: Delivery | None = bt("BG-13")
    payment_means: list[PaymentMeans] = bt("BG-16", default_factory=list)
    allowances_charges: list[AllowanceCharge] = bt("BG-20", default_factory=list)
    vat_breakdown: list[TaxSubtotal] = bt("BG-23", min_length=1, required=True)
    totals: Totals = bt("BG-22", required=True)
    attachments: list[Attachment] = bt("BG-24", default_factory=list)
    lines: list[InvoiceLine] = bt("BG-25", min_length=1, required=True)

    @property
    def is_credit_note(self) -> bool:
        return is_credit_note_type(self.invoice_type_code)
