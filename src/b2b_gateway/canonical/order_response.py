"""Order response (Peppol T76 semantics; EDIFACT ORDRSP): the seller's answer, line by line."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from b2b_gateway.canonical.base import DocumentBase, LineBase
from b2b_gateway.canonical.codes import CurrencyCode, Quantity, UnitCode
from b2b_gateway.canonical.common import Delivery, DocumentReference, Party, Price, Totals, bt

__all__ = ["LineStatus", "OrderResponse", "OrderResponseLine", "ResponseStatus"]

ResponseStatus = Literal["accepted", "rejected", "changed"]
LineStatus = Literal["accepted", "changed", "rejected", "short"]


class OrderResponseLine(LineBase):
    """The seller's answer for one order line; ``quantity`` is the confirmed quantity.

    A line accepted as ordered may state no quantity (Peppol T76 allows it): ``quantity`` and ``unit``
    are then absent, meaning "as ordered".
    """

    quantity: Quantity | None = bt("BT-129", "Confirmed quantity; absent = as ordered")  # type: ignore[assignment]
    unit: UnitCode | None = bt("BT-130")  # type: ignore[assignment]
    status: LineStatus = Field(
        description="accepted as ordered; changed (price, date or item); rejected; short (less quantity)"
    )
    ordered_quantity: Quantity | None = Field(default=None, description="The quantity that was ordered")
    order_line_ref: str | None = bt("BT-132")
    price: Price | None = None
    delivery_date: dt.date | None = None
    reason: str | None = None


class OrderResponse(DocumentBase):
    """The seller's answer to an order."""

    document_type: Literal["order_response"] = "order_response"
    status: ResponseStatus = Field(description="Header status: accepted, rejected, or changed (accepted with changes)")
    response_code: str | None = Field(default=None, description="As sent: UNCL 1225 (BGM 1225) or UNCL 4343 code")
    order_reference: DocumentReference = bt("BT-13", required=True)
    sales_order_reference: str | None = bt("BT-14")
    currency: CurrencyCode | None = bt("BT-5")
    buyer: Party = bt("BG-7", required=True)
    seller: Party = bt("BG-4", required=True)
    delivery: Delivery | None = None
    totals: Totals | None = None
    lines: list[OrderResponseLine] = Field(default_factory=list)
