"""Building blocks shared by every canonical document (the UBL ABIEs that EN 16931 and Peppol reuse).

Each field carries its EN 16931 business term (``BT-n``/``BG-n``) as JSON Schema metadata
(``x-bt``) where one exists; for a Party the seller's term is given, the buyer's follows the table
in ``docs/canonical.md``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from b2b_gateway.canonical.codes import (
    Amount,
    CountryCode,
    Percent,
    Quantity,
    UnitCode,
    VatCategoryCode,
)

__all__ = [
    "Address",
    "AllowanceCharge",
    "Attachment",
    "CanonicalModel",
    "Contact",
    "Delivery",
    "DocumentReference",
    "Identifier",
    "Item",
    "ItemAttribute",
    "Party",
    "PaymentMeans",
    "Period",
    "Price",
    "SourceRef",
    "TaxSubtotal",
    "Totals",
    "bt",
]


def bt(term: str | None = None, description: str | None = None, *, required: bool = False, **kwargs: Any) -> Any:
    """A pydantic ``Field`` that records its EN 16931 business term (``x-bt``) in the JSON Schema.

    Optional (default ``None``) unless ``required`` or a default/default factory is given.
    """
    extra: dict[str, Any] = {"x-bt": term} if term else {}
    if not required and "default" not in kwargs and "default_factory" not in kwargs:
        kwargs["default"] = None
    return Field(json_schema_extra=extra or None, description=description, **kwargs)


class CanonicalModel(BaseModel):
    """Base of every canonical model: immutable, no unknown fields, Decimal-exact."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True, populate_by_name=True)


class Identifier(CanonicalModel):
    """An identifier with its scheme: ICD (``0088`` = GLN), EAS for endpoints, or a partner scheme."""

    value: str = Field(min_length=1)
    scheme: str | None = Field(default=None, description="ICD/EAS code or a list id (schemeID)")


class Period(CanonicalModel):
    start: dt.date | None = bt("BT-73")
    end: dt.date | None = bt("BT-74")


class Address(CanonicalModel):
    line1: str | None = bt("BT-35")
    line2: str | None = bt("BT-36")
    line3: str | None = bt("BT-162")
    city: str | None = bt("BT-37")
    postcode: str | None = bt("BT-38")
    subdivision: str | None = bt("BT-39")
    country: CountryCode | None = bt("BT-40")


class Contact(CanonicalModel):
    name: str | None = bt("BT-41")
    phone: str | None = bt("BT-42")
    email: str | None = bt("BT-43")


class Party(CanonicalModel):
    """A trading party under a role (seller BG-4, buyer BG-7, payee BG-10, deliver-to BG-13 …)."""

    name: str | None = bt("BT-27", "Legal name (RegistrationName; EDIFACT NAD C080)")
    trading_name: str | None = bt("BT-28")
    identifiers: list[Identifier] = bt("BT-29", "Party identifiers; a GLN has scheme 0088", default_factory=list)
    legal_registration_id: Identifier | None = bt("BT-30")
    vat_id: str | None = bt("BT-31")
    tax_registration_id: str | None = bt("BT-32")
    additional_legal_info: str | None = bt("BT-33")
    electronic_address: Identifier | None = bt("BT-34", "Endpoint id with its EAS scheme")
    address: Address | None = bt("BG-5")
    contact: Contact | None = bt("BG-6")

    def identifier(self, scheme: str) -> str | None:
        """The first identifier with ``scheme`` (``0088`` for a GLN)."""
        return next((i.value for i in self.identifiers if i.scheme == scheme), None)

    @property
    def gln(self) -> str | None:
        return self.identifier("0088")


class DocumentReference(CanonicalModel):
    id: str = Field(min_length=1)
    issue_date: dt.date | None = None
    document_type: str | None = Field(default=None, description="What is referenced (UNCL 1001 or a name)")
    line_id: str | None = None


class Attachment(CanonicalModel):
    id: str = bt("BT-122", required=True)
    description: str | None = bt("BT-123")
    uri: str | None = bt("BT-124")
    mime_code: str | None = bt("BT-125", "MIME code of the embedded document")
    filename: str | None = bt("BT-125", "Filename of the embedded document")
    content_base64: str | None = bt("BT-125")


class AllowanceCharge(CanonicalModel):
    """A document-level (BG-20/BG-21) or line-level (BG-27/BG-28) allowance or charge."""

    is_charge: bool = Field(description="true: a charge (BG-21/BG-28); false: an allowance (BG-20/BG-27)")
    amount: Amount = bt("BT-92", required=True)
    base_amount: Amount | None = bt("BT-93")
    percent: Percent | None = bt("BT-94")
    vat_category: VatCategoryCode | None = bt("BT-95")
    vat_rate: Percent | None = bt("BT-96")
    reason: str | None = bt("BT-97")
    reason_code: str | None = bt("BT-98", "UNCL 5189 (allowances) or UNCL 7161 (charges)")


class Price(CanonicalModel):
    net: Amount = bt("BT-146", "Item net price", required=True)
    gross: Amount | None = bt("BT-148")
    discount: Amount | None = bt("BT-147")
    base_quantity: Quantity | None = bt("BT-149")
    base_unit: UnitCode | None = bt("BT-150")


class ItemAttribute(CanonicalModel):
    name: str = bt("BT-160", required=True)
    value: str = bt("BT-161", required=True)


class Item(CanonicalModel):
    name: str | None = bt("BT-153")
    description: str | None = bt("BT-154")
    sellers_id: str | None = bt("BT-155")
    buyers_id: str | None = bt("BT-156")
    standard_id: Identifier | None = bt("BT-157", "GTIN has scheme 0160")
    manufacturer_id: str | None = None
    classifications: list[Identifier] = bt("BT-158", default_factory=list)
    origin_country: CountryCode | None = bt("BT-159")
    vat_category: VatCategoryCode | None = bt("BT-151")
    vat_rate: Percent | None = bt("BT-152")
    attributes: list[ItemAttribute] = bt("BG-32", default_factory=list)


class TaxSubtotal(CanonicalModel):
    """One VAT breakdown row (BG-23)."""

    taxable_amount: Amount = bt("BT-116", required=True)
    tax_amount: Amount = bt("BT-117", required=True)
    category: VatCategoryCode = bt("BT-118", required=True)
    rate: Percent | None = bt("BT-119")
    exemption_reason: str | None = bt("BT-120")
    exemption_reason_code: str | None = bt("BT-121")


class Totals(CanonicalModel):
    """Document totals (BG-22); for an order, the anticipated totals."""

    line_net_sum: Amount = bt("BT-106", required=True)
    allowance_total: Amount | None = bt("BT-107")
    charge_total: Amount | None = bt("BT-108")
    tax_exclusive: Amount = bt("BT-109", required=True)
    vat_total: Amount | None = bt("BT-110")
    vat_total_tax_currency: Amount | None = bt("BT-111")
    tax_inclusive: Amount = bt("BT-112", required=True)
    prepaid: Amount | None = bt("BT-113")
    rounding: Amount | None = bt("BT-114")
    payable: Amount = bt("BT-115", required=True)


class Delivery(CanonicalModel):
    """Where and when goods go (BG-13; order: requested delivery)."""

    party: Party | None = bt("BG-13", "Deliver-to party (name BT-70)")
    location_id: Identifier | None = bt("BT-71")
    address: Address | None = bt("BG-15")
    actual_date: dt.date | None = bt("BT-72")
    requested_period: Period | None = None


class PaymentMeans(CanonicalModel):
    code: str = bt("BT-81", "UNCL 4461", required=True)
    text: str | None = bt("BT-82")
    remittance_info: str | None = bt("BT-83")
    iban: str | None = bt("BT-84")
    account_name: str | None = bt("BT-85")
    bic: str | None = bt("BT-86")
    card_pan: str | None = bt("BT-87")
    card_holder: str | None = bt("BT-88")
    mandate_ref: str | None = bt("BT-89")
    creditor_id: str | None = bt("BT-90")
    debited_account: str | None = bt("BT-91")


class SourceRef(CanonicalModel):
    """Where the canonical document came from, so errors and ops can point back into the input."""

    format: str | None = None
    interchange_ref: str | None = Field(default=None, description="UNB 0020 or transport message id")
    message_ref: str | None = Field(default=None, description="UNH 0062 or document id")
    message_type: str | None = Field(default=None, description="e.g. ORDERS:D:96A:UN:EAN008 or UBL Invoice")
    sender: str | None = None
    recipient: str | None = None
