"""Hypothesis strategies for canonical invoices and orders that use every field UBL carries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

TEXT = (
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -.éüß&<>", min_size=1, max_size=16)
    .map(str.strip)
    .filter(bool)
)
CODE = st.sampled_from(["S", "Z", "E", "AE", "K", "G", "O"])
AMOUNT = st.decimals(min_value=Decimal("-9999"), max_value=Decimal("99999"), places=2, allow_nan=False)
POSITIVE = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999"), places=2, allow_nan=False)
RATE = st.sampled_from([Decimal("0"), Decimal("7"), Decimal("21"), Decimal("25.5")])
DATE = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31))
UNIT = st.sampled_from(["C62", "KGM", "H87", "LTR", "EA"])
COUNTRY = st.sampled_from(["NL", "DE", "SE", "FR", "BE"])


def opt(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


def ident(schemes: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(lambda v, s: {"value": v, **({"scheme": s} if s else {})}, TEXT, st.sampled_from([None, *schemes]))


@st.composite
def address(draw: st.DrawFn) -> dict[str, Any]:
    keys = ["line1", "line2", "line3", "city", "postcode", "subdivision"]
    out = {k: draw(TEXT) for k in keys if draw(st.booleans())}
    out["country"] = draw(COUNTRY)
    return out


@st.composite
def party(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {"name": draw(TEXT)}
    for key in ("trading_name", "vat_id", "tax_registration_id", "additional_legal_info"):
        if draw(st.booleans()):
            out[key] = draw(TEXT)
    out["identifiers"] = draw(st.lists(ident(["0088", "0184"]), max_size=2))
    if draw(st.booleans()):
        out["legal_registration_id"] = draw(ident(["0002"]))
    if draw(st.booleans()):
        out["electronic_address"] = draw(ident(["0088", "9930"]))
    if draw(st.booleans()):
        out["address"] = draw(address())
    if draw(st.booleans()):
        out["contact"] = {k: draw(TEXT) for k in ("name", "phone", "email") if draw(st.booleans())}
    return out


@st.composite
def allowance_charge(draw: st.DrawFn, tax: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"is_charge": draw(st.booleans()), "amount": draw(POSITIVE)}
    for key, strategy in (("base_amount", POSITIVE), ("percent", RATE), ("reason", TEXT), ("reason_code", TEXT)):
        if draw(st.booleans()):
            out[key] = draw(strategy)
    if tax:
        out["vat_category"] = draw(CODE)
        if draw(st.booleans()):
            out["vat_rate"] = draw(RATE)
    return out


@st.composite
def item(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {"name": draw(TEXT), "vat_category": draw(CODE)}
    for key in ("description", "sellers_id", "buyers_id", "manufacturer_id"):
        if draw(st.booleans()):
            out[key] = draw(TEXT)
    if draw(st.booleans()):
        out["vat_rate"] = draw(RATE)
    if draw(st.booleans()):
        out["standard_id"] = {"value": draw(TEXT), "scheme": "0160"}
    if draw(st.booleans()):
        out["origin_country"] = draw(COUNTRY)
    out["classifications"] = draw(st.lists(ident(["STI", "MP"]), max_size=2))
    out["attributes"] = draw(st.lists(st.builds(lambda n, v: {"name": n, "value": v}, TEXT, TEXT), max_size=2))
    return out


@st.composite
def price(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {"net": draw(POSITIVE)}
    if draw(st.booleans()):
        out["base_quantity"], out["base_unit"] = draw(POSITIVE), draw(UNIT)
    if draw(st.booleans()):
        out["discount"] = draw(POSITIVE)
        if draw(st.booleans()):
            out["gross"] = draw(POSITIVE)
    return out


@st.composite
def period(draw: st.DrawFn) -> dict[str, Any]:
    return {k: draw(DATE) for k in ("start", "end") if draw(st.booleans())} or {"start": draw(DATE)}


@st.composite
def line(draw: st.DrawFn, n: int, invoice: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"line_id": str(n + 1), "quantity": draw(AMOUNT), "unit": draw(UNIT), "item": draw(item())}
    out["net_amount"] = draw(AMOUNT)
    for key in ("note", "accounting_ref"):
        if draw(st.booleans()):
            out[key] = draw(TEXT)
    out["allowances_charges"] = draw(st.lists(allowance_charge(tax=False), max_size=2))
    if draw(st.booleans()):
        out["price"] = draw(price())
    if invoice:
        for key in ("order_line_ref", "object_id"):
            if draw(st.booleans()):
                out[key] = draw(TEXT)
        if draw(st.booleans()):
            out["period"] = draw(period())
    else:
        if draw(st.booleans()):
            out["partial_delivery_allowed"] = draw(st.booleans())
        if draw(st.booleans()):
            out["requested_delivery_period"] = draw(period())
        if draw(st.booleans()):
            out["delivery"] = draw(delivery(requested=False))
    return out


@st.composite
def delivery(draw: st.DrawFn, requested: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if draw(st.booleans()):
        out["actual_date"] = draw(DATE)
    if draw(st.booleans()):
        out["location_id"] = draw(ident(["0088"]))
    if draw(st.booleans()):
        out["address"] = draw(address())
    if draw(st.booleans()):
        out["party"] = draw(party())
    if requested and draw(st.booleans()):
        out["requested_period"] = draw(period())
    return out or {"actual_date": draw(DATE)}


def totals(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {k: draw(AMOUNT) for k in ("line_net_sum", "tax_exclusive", "tax_inclusive", "payable")}
    for key in ("allowance_total", "charge_total", "prepaid", "rounding"):
        if draw(st.booleans()):
            out[key] = draw(AMOUNT)
    out["vat_total"] = draw(AMOUNT)
    return out


def vat_row(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {"taxable_amount": draw(AMOUNT), "tax_amount": draw(AMOUNT), "category": draw(CODE)}
    if draw(st.booleans()):
        out["rate"] = draw(RATE)
    if draw(st.booleans()):
        out["exemption_reason"], out["exemption_reason_code"] = draw(TEXT), "VATEX-EU-G"
    return out


def header(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {"document_number": draw(TEXT), "issue_date": draw(DATE)}
    if draw(st.booleans()):
        out["issue_time"] = dt.time(draw(st.integers(0, 23)), draw(st.integers(0, 59)), draw(st.integers(0, 59)))
    out["customization_id"] = draw(TEXT)
    if draw(st.booleans()):
        out["profile_id"] = draw(TEXT)
    out["notes"] = draw(st.lists(TEXT, max_size=2))
    return out


@st.composite
def invoices(draw: st.DrawFn) -> dict[str, Any]:
    credit = draw(st.booleans())
    out = header(draw) | {
        "document_type": "invoice",
        "invoice_type_code": "381" if credit else draw(st.sampled_from(["380", "383", "384", "389"])),
        "currency": "EUR",
        "seller": draw(party()),
        "buyer": draw(party()),
    }
    if draw(st.booleans()):
        out["tax_currency"] = "SEK"
        out_total = draw(AMOUNT)
    else:
        out_total = None
    for key, strategy in (
        ("tax_point_date", DATE),
        ("buyer_reference", TEXT),
        ("project_reference", TEXT),
        ("contract_reference", TEXT),
        ("order_reference", TEXT),
        ("receiving_advice_ref", TEXT),
        ("despatch_advice_ref", TEXT),
        ("tender_ref", TEXT),
        ("invoiced_object_ref", TEXT),
        ("buyer_accounting_ref", TEXT),
        ("payment_terms", TEXT),
    ):
        if draw(st.booleans()):
            out[key] = draw(strategy)
    if "order_reference" in out and draw(st.booleans()):
        out["sales_order_reference"] = draw(TEXT)
    if draw(st.booleans()):
        out["invoice_period"] = draw(period())
    out["preceding_invoices"] = draw(
        st.lists(st.builds(lambda i, d: {"id": i, **({"issue_date": d} if d else {})}, TEXT, opt(DATE)), max_size=2)
    )
    for key in ("payee", "seller_tax_representative"):
        if draw(st.booleans()):
            out[key] = draw(party())
    if draw(st.booleans()):
        out["delivery"] = draw(delivery(requested=False))
    means = []
    for n in range(draw(st.integers(0 if not credit else 1, 2))):
        pm: dict[str, Any] = {"code": draw(st.sampled_from(["30", "31", "48", "49", "58", "59"]))}
        keys = ["text", "remittance_info", "iban", "card_pan", "mandate_ref", "debited_account"]
        keys += ["creditor_id"] if n == 0 else []
        for key in keys:
            if draw(st.booleans()):
                pm[key] = draw(TEXT)
        if "iban" in pm:
            pm.update({k: draw(TEXT) for k in ("account_name", "bic") if draw(st.booleans())})
        if "card_pan" in pm and draw(st.booleans()):
            pm["card_holder"] = draw(TEXT)
        means.append(pm)
    out["payment_means"] = means
    if draw(st.booleans()):
        out["due_date"] = draw(DATE)
    out["allowances_charges"] = draw(st.lists(allowance_charge(), max_size=2))
    out["vat_breakdown"] = [vat_row(draw) for _ in range(draw(st.integers(1, 2)))]
    out["totals"] = totals(draw)
    if out_total is not None:
        out["totals"]["vat_total_tax_currency"] = out_total
    out["attachments"] = [attachment(draw, n) for n in range(draw(st.integers(0, 2)))]
    out["lines"] = [draw(line(n, True)) for n in range(draw(st.integers(1, 3)))]
    return out


def attachment(draw: st.DrawFn, n: int) -> dict[str, Any]:
    out: dict[str, Any] = {"id": f"ATT-{n}"}
    if draw(st.booleans()):
        out["description"] = draw(TEXT)
    if draw(st.booleans()):
        out["uri"] = "https://example.com/" + str(n)
    if draw(st.booleans()):
        out["content_base64"], out["mime_code"] = "UjBsR09EbGhjZ0dT", "application/pdf"
        if draw(st.booleans()):
            out["filename"] = f"file{n}.pdf"
    return out


@st.composite
def orders(draw: st.DrawFn) -> dict[str, Any]:
    change = draw(st.booleans())
    out = header(draw) | {
        "document_type": "order",
        "message_function": "4" if change else "9",
        "buyer": draw(party()),
        "seller": draw(party()),
    }
    if not change:
        out["order_type_code"] = draw(st.sampled_from(["220", "227"]))
    keys = [
        "buyer_reference",
        "buyer_accounting_ref",
        "sales_order_reference",
        "contract_reference",
        "quotation_reference",
        "delivery_terms",
        "payment_terms",
    ]
    keys += [] if change else ["project_reference", "catalogue_reference"]
    for key in keys:
        if draw(st.booleans()):
            out[key] = draw(TEXT)
    out["currency"] = "EUR"
    if draw(st.booleans()):
        out["validity_end_date"] = draw(DATE)
    for key in ("invoicee", "originator"):
        if draw(st.booleans()):
            out[key] = draw(party())
    if draw(st.booleans()):
        out["delivery"] = draw(delivery(requested=True))
    out["allowances_charges"] = draw(st.lists(allowance_charge(), max_size=2))
    out["vat_breakdown"] = [vat_row(draw) for _ in range(draw(st.integers(0, 2)))]
    if draw(st.booleans()):
        out["totals"] = totals(draw)
    refs = [
        {
            "id": draw(TEXT),
            **({"issue_date": draw(DATE)} if draw(st.booleans()) else {}),
            **({"document_type": "220"} if draw(st.booleans()) else {}),
        }
        for _ in range(draw(st.integers(0, 1 if change else 2)))
    ]
    if draw(st.booleans()):
        refs.append({"id": draw(TEXT), "document_type": "originator"})
    out["references"] = refs
    out["attachments"] = [attachment(draw, n) for n in range(draw(st.integers(0, 2)))]
    out["lines"] = [draw(line(n, False)) for n in range(draw(st.integers(1, 3)))]
    return out
