"""Order (Peppol BIS Ordering 3, T01 semantics; EDIFACT ORDERS)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from b2b_gateway.canonical.base import DocumentBase, PricedLineBase
from b2b_gateway.canonical.codes import CurrencyCode, DocumentNameCode, MessageFunctionCode
from b2b_gateway.canonical.common import (
    AllowanceCharge,
    Attachment,
    Delivery,
    DocumentReference,
    Party,
    Period,
    TaxSubtotal,
    Totals,
    bt,
)

__all__ = ["Order", "OrderLine"]


class OrderLine(PricedLineBase):
    partial_delivery_allowed: bool | None = None
    requested_delivery_period: Period | None = None
    delivery: Delivery | None = Field(default=None, description="Line-level delivery, when it differs")


class Order(DocumentBase):
    """A purchase order from the buyer to the seller."""

    document_type: Literal["order"] = "order"
    order_type_code: DocumentNameCode = Field(default="220", description="UNCL 1001: 220 order, 227 consignment …")
    message_function: MessageFunctionCode = Field(
        default="9", description="UNCL 1225: 9 original, 5 replace, 1 cancel, 4 change"
    )
    currency: CurrencyCode | None = bt("BT-5")
    buyer_reference: str | None = bt("BT-10")
    buyer_accounting_ref: str | None = bt("BT-19")
    sales_order_reference: str | None = bt("BT-14")
    contract_reference: str | None = bt("BT-12")
    project_reference: str | None = bt("BT-11")
    quotation_reference: str | None = None
    catalogue_reference: str | None = None
    validity_end_date: dt.date | None = None
    buyer: Party = bt("BG-7", required=True)
    seller: Party = bt("BG-4", required=True)
    invoicee: Party | None = None
    originator: Party | None = None
    delivery: Delivery | None = bt("BG-13")
    delivery_terms: str | None = Field(default=None, description="Incoterms code (TOD)")
    payment_terms: str | None = bt("BT-20")
    allowances_charges: list[AllowanceCharge] = bt("BG-20", default_factory=list)
    vat_breakdown: list[TaxSubtotal] = bt("BG-23", default_factory=list)
    totals: Totals | None = Field(default=None, description="Anticipated totals")
    references: list[DocumentReference] = Field(default_factory=list)
    attachments: list[Attachment] = bt("BG-24", default_factory=list)
    lines: list[OrderLine] = bt("BG-25", min_length=1, required=True)
