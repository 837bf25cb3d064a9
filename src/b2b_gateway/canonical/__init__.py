"""The canonical model: pure pydantic v2 models aligned with EN 16931 (invoices) and Peppol T01 (orders).

No I/O happens here. Every amount and quantity is a :class:`~decimal.Decimal`; codes are checked
against their code lists; :mod:`b2b_gateway.canonical.rules` holds the business rules.
"""

from __future__ import annotations

from b2b_gateway.canonical.common import (
    Address,
    AllowanceCharge,
    Attachment,
    Contact,
    Delivery,
    DocumentReference,
    Identifier,
    Item,
    ItemAttribute,
    Party,
    PaymentMeans,
    Period,
    Price,
    SourceRef,
    TaxSubtotal,
    Totals,
)
from b2b_gateway.canonical.despatch import DespatchAdvice, DespatchLine, Package, Shipment
from b2b_gateway.canonical.documents import DOCUMENT_TYPES, Document, document_from_data
from b2b_gateway.canonical.invoice import Invoice, InvoiceLine
from b2b_gateway.canonical.order import Order, OrderLine
from b2b_gateway.canonical.order_response import OrderResponse, OrderResponseLine
from b2b_gateway.canonical.rules import check_business_rules
from b2b_gateway.canonical.status import StatusDocument, StatusReason

__all__ = [
    "DOCUMENT_TYPES",
    "Address",
    "AllowanceCharge",
    "Attachment",
    "Contact",
    "Delivery",
    "DespatchAdvice",
    "DespatchLine",
    "Document",
    "DocumentReference",
    "Identifier",
    "Invoice",
    "InvoiceLine",
    "Item",
    "ItemAttribute",
    "Order",
    "OrderLine",
    "OrderResponse",
    "OrderResponseLine",
    "Package",
    "Party",
    "PaymentMeans",
    "Period",
    "Price",
    "Shipment",
    "SourceRef",
    "StatusDocument",
    "StatusReason",
    "TaxSubtotal",
    "Totals",
    "check_business_rules",
    "document_from_data",
]
