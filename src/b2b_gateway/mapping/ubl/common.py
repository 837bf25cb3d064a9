"""UBL 2.1 <-> canonical for the building blocks every document shares (the common ABIEs).

Readers return plain canonical data (dicts, validated later by the model); writers append elements to a
parent in any order (the document writer sorts them into schema order at the end).
"""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from b2b_gateway.canonical.common import (
    Address,
    AllowanceCharge,
    Attachment,
    Delivery,
    Identifier,
    Party,
    Period,
    TaxSubtotal,
    Totals,
)
from b2b_gateway.formats.xml.ubl_tree import sub
from b2b_gateway.mapping.ubl.reader import Data, Reader

__all__ = [
    "E",
    "ident_element",
    "read_allowance_charge",
    "read_attachment",
    "read_delivery",
    "read_party",
    "read_period",
    "read_tax_total",
    "read_totals",
    "tax_category",
    "write_allowance_charge",
    "write_attachment",
    "write_delivery",
    "write_party",
    "write_period",
    "write_tax_category",
    "write_tax_total",
    "write_totals",
]

E = etree._Element
TOTALS = (
    ("line_net_sum", "LineExtensionAmount"),
    ("tax_exclusive", "TaxExclusiveAmount"),
    ("tax_inclusive", "TaxInclusiveAmount"),
    ("allowance_total", "AllowanceTotalAmount"),
    ("charge_total", "ChargeTotalAmount"),
    ("prepaid", "PrepaidAmount"),
    ("rounding", "PayableRoundingAmount"),
    ("payable", "PayableAmount"),
)


def ident_element(parent: E, qname: str, ident: Identifier | None) -> None:
    if ident is not None:
        sub(parent, qname, ident.value, schemeID=ident.scheme)


def read_address(r: Reader, el: E | None, field: str) -> Data | None:
    if el is None:
        return None
    out: Data = {}
    for key, path in (
        ("line1", "cbc:StreetName"),
        ("line2", "cbc:AdditionalStreetName"),
        ("line3", "cac:AddressLine/cbc:Line"),
        ("city", "cbc:CityName"),
        ("postcode", "cbc:PostalZone"),
        ("subdivision", "cbc:CountrySubentity"),
        ("country", "cac:Country/cbc:IdentificationCode"),
    ):
        r.put(out, key, el, path, field)
    r.mark(field, el)
    return out


def write_address(parent: E, qname: str, a: Address | None) -> None:
    if a is None:
        return
    el = sub(parent, qname)
    for value, name in ((a.line1, "StreetName"), (a.line2, "AdditionalStreetName"), (a.city, "CityName")):
        if value is not None:
            sub(el, f"cbc:{name}", value)
    if a.postcode is not None:
        sub(el, "cbc:PostalZone", a.postcode)
    if a.subdivision is not None:
        sub(el, "cbc:CountrySubentity", a.subdivision)
    if a.line3 is not None:
        sub(sub(el, "cac:AddressLine"), "cbc:Line", a.line3)
    if a.country is not None:
        sub(sub(el, "cac:Country"), "cbc:IdentificationCode", a.country)


def read_party(r: Reader, el: E | None, field: str) -> Data | None:
    """A ``cac:Party`` as canonical Party data."""
    if el is None:
        return None
    r.mark(field, el)
    out: Data = {}
    endpoint = r.ident(el, "cbc:EndpointID", f"{field}.electronic_address")
    if endpoint:
        out["electronic_address"] = endpoint
    ids = [
        r.ident(i, "", f"{field}.identifiers[{n}]") for n, i in enumerate(r.all(el, "cac:PartyIdentification/cbc:ID"))
    ]
    if ids:
        out["identifiers"] = [i for i in ids if i]
    r.put(out, "trading_name", el, "cac:PartyName/cbc:Name", field)
    address = read_address(r, r.find(el, "cac:PostalAddress"), f"{field}.address")
    if address is not None:
        out["address"] = address
    for scheme in r.all(el, "cac:PartyTaxScheme"):
        key = "vat_id" if r.text(scheme, "cac:TaxScheme/cbc:ID") == "VAT" else "tax_registration_id"
        if key not in out:
            r.put(out, key, scheme, "cbc:CompanyID", field)
    legal = r.find(el, "cac:PartyLegalEntity")
    r.put(out, "name", legal, "cbc:RegistrationName", field)
    legal_id = r.ident(legal, "cbc:CompanyID", f"{field}.legal_registration_id")
    if legal_id:
        out["legal_registration_id"] = legal_id
    r.put(out, "additional_legal_info", legal, "cbc:CompanyLegalForm", field)
    contact_el = r.find(el, "cac:Contact")
    if contact_el is not None:
        contact: Data = {}
        for key, path in (("name", "cbc:Name"), ("phone", "cbc:Telephone"), ("email", "cbc:ElectronicMail")):
            r.put(contact, key, contact_el, path, f"{field}.contact")
        out["contact"] = contact
    return out


def write_party(parent: E, qname: str, p: Party | None, *, wrap: bool = True) -> None:
    """Write ``p`` as ``qname``/``cac:Party`` (or as ``qname`` itself when ``wrap`` is false)."""
    if p is None:
        return
    el = sub(sub(parent, qname), "cac:Party") if wrap else sub(parent, qname)
    ident_element(el, "cbc:EndpointID", p.electronic_address)
    for ident in p.identifiers:
        ident_element(sub(el, "cac:PartyIdentification"), "cbc:ID", ident)
    if p.trading_name is not None:
        sub(sub(el, "cac:PartyName"), "cbc:Name", p.trading_name)
    write_address(el, "cac:PostalAddress", p.address)
    for value, scheme in ((p.vat_id, "VAT"), (p.tax_registration_id, "FC")):
        if value is not None:
            tax = sub(el, "cac:PartyTaxScheme")
            sub(tax, "cbc:CompanyID", value)
            sub(sub(tax, "cac:TaxScheme"), "cbc:ID", scheme)
    if p.name is not None or p.legal_registration_id is not None or p.additional_legal_info is not None:
        legal = sub(el, "cac:PartyLegalEntity")
        if p.name is not None:
            sub(legal, "cbc:RegistrationName", p.name)
        ident_element(legal, "cbc:CompanyID", p.legal_registration_id)
        if p.additional_legal_info is not None:
            sub(legal, "cbc:CompanyLegalForm", p.additional_legal_info)
    if p.contact is not None:
        contact = sub(el, "cac:Contact")
        for value, name in (
            (p.contact.name, "Name"),
            (p.contact.phone, "Telephone"),
            (p.contact.email, "ElectronicMail"),
        ):
            if value is not None:
                sub(contact, f"cbc:{name}", value)


def read_period(r: Reader, el: E | None, field: str) -> Data | None:
    if el is None:
        return None
    out: Data = {}
    r.put(out, "start", el, "cbc:StartDate", field)
    r.put(out, "end", el, "cbc:EndDate", field)
    return out


def write_period(parent: E, qname: str, period: Period | None) -> None:
    if period is None:
        return
    el = sub(parent, qname)
    if period.start is not None:
        sub(el, "cbc:StartDate", period.start)
    if period.end is not None:
        sub(el, "cbc:EndDate", period.end)


def tax_category(r: Reader, el: E | None, out: Data, field: str, cat: str, rate: str) -> None:
    r.put(out, cat, el, "cbc:ID", field)
    r.put(out, rate, el, "cbc:Percent", field)


def write_tax_category(
    parent: E, qname: str, category: str | None, rate: object, *extra: tuple[str, str | None]
) -> None:
    if category is None:
        return
    el = sub(parent, qname)
    sub(el, "cbc:ID", category)
    if rate is not None:
        sub(el, "cbc:Percent", rate)
    for name, value in extra:
        if value is not None:
            sub(el, f"cbc:{name}", value)
    sub(sub(el, "cac:TaxScheme"), "cbc:ID", "VAT")


def read_allowance_charge(r: Reader, el: E, field: str) -> Data:
    r.mark(field, el)
    out: Data = {"is_charge": (r.text(el, "cbc:ChargeIndicator") or "").lower() == "true"}
    r.put(out, "reason_code", el, "cbc:AllowanceChargeReasonCode", field)
    r.put(out, "reason", el, "cbc:AllowanceChargeReason", field)
    r.put(out, "percent", el, "cbc:MultiplierFactorNumeric", field)
    r.put(out, "amount", el, "cbc:Amount", field)
    r.put(out, "base_amount", el, "cbc:BaseAmount", field)
    tax_category(r, r.find(el, "cac:TaxCategory"), out, field, "vat_category", "vat_rate")
    return out


def write_allowance_charge(parent: E, ac: AllowanceCharge, currency: str | None, *, tax: bool = True) -> None:
    el = sub(parent, "cac:AllowanceCharge")
    sub(el, "cbc:ChargeIndicator", ac.is_charge)
    if ac.reason_code is not None:
        sub(el, "cbc:AllowanceChargeReasonCode", ac.reason_code)
    if ac.reason is not None:
        sub(el, "cbc:AllowanceChargeReason", ac.reason)
    if ac.percent is not None:
        sub(el, "cbc:MultiplierFactorNumeric", ac.percent)
    sub(el, "cbc:Amount", ac.amount, currencyID=currency)
    if ac.base_amount is not None:
        sub(el, "cbc:BaseAmount", ac.base_amount, currencyID=currency)
    if tax:
        write_tax_category(el, "cac:TaxCategory", ac.vat_category, ac.vat_rate)


def read_tax_total(r: Reader, els: Sequence[E], currency: str | None, tax_currency: str | None) -> Data:
    """``vat_breakdown`` and the VAT totals (BT-110 in the document currency, BT-111 in the tax currency)."""
    out: Data = {"vat_breakdown": [], "vat_total": None, "vat_total_tax_currency": None}
    for total in els:
        amount = r.find(total, "cbc:TaxAmount")
        subs = r.all(total, "cac:TaxSubtotal")
        in_tax_currency = amount is not None and tax_currency and amount.get("currencyID") == tax_currency
        if in_tax_currency and not subs and tax_currency != currency:
            out["vat_total_tax_currency"] = r.text(amount, "")
            r.mark("totals.vat_total_tax_currency", amount)
            continue
        if out["vat_total"] is None and amount is not None:
            out["vat_total"] = r.text(amount, "")
            r.mark("totals.vat_total", amount)
        for s in subs:
            field = f"vat_breakdown[{len(out['vat_breakdown'])}]"
            r.mark(field, s)
            row: Data = {}
            r.put(row, "taxable_amount", s, "cbc:TaxableAmount", field)
            r.put(row, "tax_amount", s, "cbc:TaxAmount", field)
            cat = r.find(s, "cac:TaxCategory")
            tax_category(r, cat, row, field, "category", "rate")
            r.put(row, "exemption_reason_code", cat, "cbc:TaxExemptionReasonCode", field)
            r.put(row, "exemption_reason", cat, "cbc:TaxExemptionReason", field)
            out["vat_breakdown"].append(row)
    return out


def write_tax_total(
    parent: E,
    rows: Sequence[TaxSubtotal],
    vat_total: object,
    currency: str | None,
    tax_currency: str | None = None,
    vat_total_tax_currency: object = None,
) -> None:
    if rows or vat_total is not None:
        el = sub(parent, "cac:TaxTotal")
        total = vat_total if vat_total is not None else sum((s.tax_amount for s in rows), start=rows[0].tax_amount * 0)
        sub(el, "cbc:TaxAmount", total, currencyID=currency)
        for row in rows:
            s = sub(el, "cac:TaxSubtotal")
            sub(s, "cbc:TaxableAmount", row.taxable_amount, currencyID=currency)
            sub(s, "cbc:TaxAmount", row.tax_amount, currencyID=currency)
            write_tax_category(
                s,
                "cac:TaxCategory",
                row.category,
                row.rate,
                ("TaxExemptionReasonCode", row.exemption_reason_code),
                ("TaxExemptionReason", row.exemption_reason),
            )
    if vat_total_tax_currency is not None and tax_currency:
        sub(sub(parent, "cac:TaxTotal"), "cbc:TaxAmount", vat_total_tax_currency, currencyID=tax_currency)


def read_totals(r: Reader, el: E | None) -> Data | None:
    if el is None:
        return None
    r.mark("totals", el)
    out: Data = {}
    for key, name in TOTALS:
        r.put(out, key, el, f"cbc:{name}", "totals")
    return out


def write_totals(parent: E, qname: str, totals: Totals | None, currency: str | None, skip: Sequence[str] = ()) -> None:
    if totals is None:
        return
    el = sub(parent, qname)
    for key, name in TOTALS:
        value = getattr(totals, key, None)
        if value is not None and key not in skip:
            sub(el, f"cbc:{name}", value, currencyID=currency)


def read_delivery(r: Reader, el: E | None, field: str) -> Data | None:
    if el is None:
        return None
    r.mark(field, el)
    out: Data = {}
    r.put(out, "actual_date", el, "cbc:ActualDeliveryDate", field)
    location = r.find(el, "cac:DeliveryLocation")
    loc_id = r.ident(location, "cbc:ID", f"{field}.location_id")
    if loc_id:
        out["location_id"] = loc_id
    address = read_address(r, r.find(location, "cac:Address"), f"{field}.address")
    if address is not None:
        out["address"] = address
    period = read_period(r, r.find(el, "cac:RequestedDeliveryPeriod"), f"{field}.requested_period")
    if period is not None:
        out["requested_period"] = period
    party = read_party(r, r.find(el, "cac:DeliveryParty"), f"{field}.party")
    if party is not None:
        out["party"] = party
    return out


def write_delivery(parent: E, d: Delivery | None, *, requested: Period | None = None) -> None:
    if d is None and requested is None:
        return
    el = sub(parent, "cac:Delivery")
    if d is not None and d.actual_date is not None:
        sub(el, "cbc:ActualDeliveryDate", d.actual_date)
    if d is not None and (d.location_id is not None or d.address is not None):
        loc = sub(el, "cac:DeliveryLocation")
        ident_element(loc, "cbc:ID", d.location_id)
        write_address(loc, "cac:Address", d.address)
    write_period(el, "cac:RequestedDeliveryPeriod", requested or (d.requested_period if d else None))
    if d is not None:
        write_party(el, "cac:DeliveryParty", d.party, wrap=False)


def read_attachment(r: Reader, el: E, field: str) -> Data:
    r.mark(field, el)
    out: Data = {}
    r.put(out, "id", el, "cbc:ID", field)
    r.put(out, "description", el, "cbc:DocumentDescription", field)
    r.put(out, "description", el, "cbc:DocumentType", field)
    r.put(out, "uri", el, "cac:Attachment/cac:ExternalReference/cbc:URI", field)
    binary = r.find(el, "cac:Attachment/cbc:EmbeddedDocumentBinaryObject")
    r.put(out, "content_base64", binary, "", field)
    r.put(out, "mime_code", binary, "", field, attr="mimeCode")
    r.put(out, "filename", binary, "", field, attr="filename")
    return out


def write_attachment(parent: E, a: Attachment, *, description: str = "DocumentDescription") -> None:
    el = sub(parent, "cac:AdditionalDocumentReference")
    sub(el, "cbc:ID", a.id)
    if a.description is not None:
        sub(el, f"cbc:{description}", a.description)
    if a.content_base64 is not None or a.uri is not None:
        att = sub(el, "cac:Attachment")
        if a.content_base64 is not None:
            sub(
                att,
                "cbc:EmbeddedDocumentBinaryObject",
                a.content_base64,
                mimeCode=a.mime_code or "application/pdf",
                filename=a.filename,
            )
        if a.uri is not None:
            sub(sub(att, "cac:ExternalReference"), "cbc:URI", a.uri)
