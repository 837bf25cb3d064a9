"""Despatch advice (Peppol T16; EDIFACT DESADV): what was shipped, in which packages."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from b2b_gateway.canonical.base import DocumentBase, LineBase
from b2b_gateway.canonical.codes import Quantity, UnitCode
from b2b_gateway.canonical.common import CanonicalModel, Delivery, DocumentReference, Party, bt

__all__ = ["DespatchAdvice", "DespatchLine", "Package", "Shipment"]


class Package(CanonicalModel):
    """A package or pallet of the shipment (SSCC)."""

    id: str | None = Field(default=None, description="SSCC or package id")
    package_type: str | None = Field(default=None, description="UN/ECE Rec 21 package type")
    quantity: Quantity | None = None


class Shipment(CanonicalModel):
    """The consignment: carrier, tracking, weight."""

    id: str | None = None
    carrier: Party | None = None
    transport_mode: str | None = None
    tracking_id: str | None = None
    gross_weight: Quantity | None = None
    gross_weight_unit: UnitCode | None = None
    package_count: int | None = None


class DespatchLine(LineBase):
    """A shipped line; ``quantity`` is the despatched quantity."""

    order_line_ref: str | None = bt("BT-132")
    outstanding_quantity: Quantity | None = None
    package_id: str | None = None
    batch_id: str | None = None
    best_before: dt.date | None = None


class DespatchAdvice(DocumentBase):
    """What the seller shipped against an order: shipment, packages and lines."""

    document_type: Literal["despatch_advice"] = "despatch_advice"
    order_reference: DocumentReference = bt("BT-13", required=True)
    despatch_date: dt.date | None = None
    expected_delivery_date: dt.date | None = None
    seller: Party = Field(description="Despatch supplier")
    buyer: Party = Field(description="Delivery customer")
    delivery: Delivery | None = None
    shipment: Shipment | None = None
    packages: list[Package] = Field(default_factory=list)
    lines: list[DespatchLine] = Field(min_length=1)
