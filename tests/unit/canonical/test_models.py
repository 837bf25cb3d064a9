"""The canonical models: exact decimals, code lists, business terms, located field errors."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from b2b_gateway.canonical import DOCUMENT_TYPES, Invoice, Order, document_from_data
from b2b_gateway.canonical.common import Party
from b2b_gateway.canonical.schema import document_schemas
from b2b_gateway.errors import CodeListError, DocumentRejected, FieldError, UnknownDocumentTypeError
from tests.conftest import load_fixture


def test_order_fixture_is_a_valid_order() -> None:
    doc = document_from_data(load_fixture("canonical/order.json"))
    assert isinstance(doc, Order)
    assert doc.lines[1].quantity == Decimal("2.5") and isinstance(doc.lines[1].quantity, Decimal)
    assert doc.buyer.gln == "4012345000016"
    assert doc.business_key == "PO-2026-0001"


def test_invoice_fixture_and_credit_note_flag() -> None:
    data = load_fixture("canonical/invoice.json")
    inv = document_from_data(data)
    assert isinstance(inv, Invoice) and not inv.is_credit_note
    data["invoice_type_code"] = "381"
    assert document_from_data(data).is_credit_note  # type: ignore[union-attr]


def test_amounts_serialise_as_exact_strings() -> None:
    inv = document_from_data(load_fixture("canonical/invoice.json"))
    dumped = json.loads(inv.model_dump_json())
    assert dumped["totals"]["payable"] == "177.20"
    assert dumped["lines"][1]["quantity"] == "2.5"


def test_floats_are_read_exactly_not_binary() -> None:
    data = load_fixture("canonical/order.json")
    data["lines"][0]["price"]["net"] = 0.1
    data["lines"][0]["quantity"] = 1.2345678901234567
    data["lines"][1]["quantity"] = 1e-7
    doc = document_from_data(data)
    assert doc.lines[0].price is not None and doc.lines[0].price.net == Decimal("0.1")
    assert doc.lines[0].quantity == Decimal("1.2345678901234567")
    assert doc.lines[1].quantity == Decimal("1E-7")


def test_codes_are_read_without_surrounding_blanks() -> None:
    data = load_fixture("canonical/order.json")
    data["currency"] = " EUR "
    data["lines"][0]["unit"] = "C62 "
    doc = document_from_data(data)
    assert doc.currency == "EUR" and doc.lines[0].unit == "C62"


@pytest.mark.parametrize(
    ("path", "value", "list_name"),
    [
        (("currency",), "EUX", "ISO 4217"),
        (("buyer", "address", "country"), "XX", "ISO 3166"),
        (("lines", 0, "unit"), "PCE", "Rec 20"),
        (("lines", 0, "item", "vat_category"), "Q", "UNCL 5305"),
        (("order_type_code",), "9999", "UNCL 1001"),
    ],
)
def test_codes_are_checked_against_their_lists(path: tuple[object, ...], value: str, list_name: str) -> None:
    data = load_fixture("canonical/order.json")
    node = data
    for p in path[:-1]:
        node = node[p]  # type: ignore[index]
    node[path[-1]] = value  # type: ignore[index]
    with pytest.raises(DocumentRejected) as info:
        document_from_data(data)
    (err,) = info.value.errors
    assert isinstance(err, CodeListError)
    assert list_name in err.message and repr(value) in err.message
    assert err.location.json_pointer == "/" + "/".join(str(p) for p in path)


def test_every_field_error_is_reported_with_pointer_and_business_term() -> None:
    data = load_fixture("canonical/invoice.json")
    del data["currency"]
    data["lines"][0]["quantity"] = "ten"
    data["surprise"] = 1
    with pytest.raises(DocumentRejected) as info:
        document_from_data(data)
    by_pointer = {e.location.json_pointer: e for e in info.value.errors}
    assert set(by_pointer) == {"/currency", "/lines/0/quantity", "/surprise"}
    assert "(BT-5)" in by_pointer["/currency"].message and "required" in by_pointer["/currency"].message
    assert "(BT-129)" in by_pointer["/lines/0/quantity"].message
    assert "extensions" in (by_pointer["/surprise"].hint or "")
    assert all(isinstance(e, FieldError) for e in info.value.errors)


def test_unknown_document_type() -> None:
    with pytest.raises(UnknownDocumentTypeError):
        document_from_data({"document_type": "catalogue"})
    with pytest.raises(FieldError):
        document_from_data(["not", "an", "object"])


def test_models_are_immutable() -> None:
    doc = document_from_data(load_fixture("canonical/order.json"))
    with pytest.raises(Exception):
        doc.document_number = "X"  # type: ignore[misc]


def test_business_terms_are_in_the_schema() -> None:
    schemas = document_schemas()
    assert set(schemas) == {f"{k}.schema.json" for k in DOCUMENT_TYPES}
    inv = schemas["invoice.schema.json"]
    assert inv["properties"]["document_number"]["x-bt"] == "BT-1"
    assert inv["properties"]["totals"]["x-bt"] == "BG-22"
    totals = inv["$defs"]["Totals"]["properties"]
    assert totals["tax_inclusive"]["x-bt"] == "BT-112"
    assert Party.model_json_schema()["properties"]["vat_id"]["x-bt"] == "BT-31"


def test_every_document_type_round_trips_through_json() -> None:
    for name in ("order", "invoice"):
        doc = document_from_data(load_fixture(f"canonical/{name}.json"))
        again = document_from_data(json.loads(doc.model_dump_json()))
        assert again == doc
