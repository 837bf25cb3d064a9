"""The parts every canonical document and line has."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field

from b2b_gateway.canonical.codes import Amount, Quantity, UnitCode
from b2b_gateway.canonical.common import (
    AllowanceCharge,
    CanonicalModel,
    Item,
    Period,
    Price,
    SourceRef,
    bt,
)

__all__ = ["DocumentBase", "LineBase"]


class DocumentBase(CanonicalModel):
    """Header fields shared by all canonical documents (EN 16931 BG-2 and friends)."""

    document_type: str = Field(description="Which canonical document this is (the discriminator)")
    document_number: str = bt("BT-1", "Order, invoice, despatch or response number", min_length=1, required=True)
    issue_date: dt.date = bt("BT-2", required=True)
    issue_time: dt.time | None = None
    customization_id: str | None = bt("BT-24")
    profile_id: str | None = bt("BT-23")
    notes: list[str] = bt("BT-22", default_factory=list)
    test: bool = Field(default=False, description="A test document (UNB 0035 = 1); never reaches production")
    source: SourceRef | None = Field(default=None, description="Where this document was read from")
    extensions: dict[str, Any] = Field(
        default_factory=dict,
        description="Partner-specific data that has no canonical field (kept for round trips)",
    )

    @property
    def business_key(self) -> str:
        """The number people search for: the order or invoice number."""
        return self.document_number


class LineBase(CanonicalModel):
    """Fields common to order, invoice, response and despatch lines (BG-25 and friends)."""

    line_id: str = bt("BT-126", min_length=1, required=True)
    note: str | None = bt("BT-127")
    quantity: Quantity = bt("BT-129", required=True)
    unit: UnitCode = bt("BT-130", required=True)
    item: Item = bt("BG-31", default_factory=Item)


class PricedLineBase(LineBase):
    """A line with a price and an amount (order and invoice lines)."""

    net_amount: Amount | None = bt(
        "BT-131", "Line net amount = quantity × price / base quantity − allowances + charges"
    )
    accounting_ref: str | None = bt("BT-133")
    period: Period | None = bt("BG-26")
    allowances_charges: list[AllowanceCharge] = bt("BG-27", default_factory=list)
    price: Price | None = bt("BG-29")
