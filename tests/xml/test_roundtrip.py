"""Canonical -> UBL -> canonical keeps every field the model has (property tests), and what the writers
produce passes the official XSD (and, for invoices, the EN 16931 rules)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from lxml import etree

from b2b_gateway.canonical.documents import Document, document_from_data
from b2b_gateway.formats.xml.parser import parse_xml
from b2b_gateway.formats.xml.xsd import PREFIXES, OfficialValidators, validate_xsd
from b2b_gateway.mapping.codec import CodecOptions
from b2b_gateway.mapping.registry import CodecRegistry
from b2b_gateway.mapping.ubl.codec import UblCodec
from b2b_gateway.mapping.ubl.json_codec import UblJsonCodec
from tests.conftest import FIXTURES
from tests.xml.strategies import invoices, orders

OPTIONS = CodecOptions()
UNCHECKED = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _comparable(doc: Document) -> dict[str, Any]:
    data = doc.model_dump(mode="json", exclude={"source"})
    return data


def _through(codec: UblCodec, doc: Document) -> Document:
    payload = codec.from_canonical(doc, OPTIONS)
    unit = codec.split(payload, OPTIONS)[0]
    return codec.to_canonical(unit, OPTIONS)


@UNCHECKED
@given(invoices())
def test_invoice_round_trip_keeps_every_field(data: dict[str, Any]) -> None:
    doc = document_from_data(data)
    assert _comparable(_through(UblCodec(), doc)) == _comparable(doc)


@UNCHECKED
@given(orders())
def test_order_round_trip_keeps_every_field(data: dict[str, Any]) -> None:
    assume(all(r["id"] != data["document_number"] for r in data["references"]))
    doc = document_from_data(data)
    assert _comparable(_through(UblCodec(), doc)) == _comparable(doc)


@settings(max_examples=25, deadline=None)
@given(invoices())
def test_invoice_round_trip_through_ubl_json(data: dict[str, Any]) -> None:
    doc = document_from_data(data)
    assert _comparable(_through(UblJsonCodec(), doc)) == _comparable(doc)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=invoices())
def test_written_invoices_pass_the_ubl_xsd(data: dict[str, Any], validators: OfficialValidators) -> None:
    root = UblCodec().render_tree(document_from_data(data), OPTIONS)
    q = etree.QName(root)
    schema = validators.xsd(q.namespace or "", q.localname)
    assert schema is not None
    assert validate_xsd(etree.ElementTree(root), schema) == []


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=orders())
def test_written_orders_pass_the_ubl_xsd(data: dict[str, Any], validators: OfficialValidators) -> None:
    root = UblCodec().render_tree(document_from_data(data), OPTIONS)
    q = etree.QName(root)
    schema = validators.xsd(q.namespace or "", q.localname)
    assert schema is not None
    assert validate_xsd(etree.ElementTree(root), schema) == []


def test_written_invoices_pass_the_xsd_and_the_cen_rules(
    registry: CodecRegistry, validators: OfficialValidators
) -> None:
    """A sound canonical invoice, as invoice and as credit note, is valid UBL by XSD and EN 16931."""
    base = json.loads((FIXTURES / "canonical" / "invoice.json").read_text())
    codec = registry.get("ubl")
    for code in ("380", "381"):
        doc = document_from_data(base | {"invoice_type_code": code})
        payload = codec.from_canonical(doc, OPTIONS)
        unit = codec.split(payload, OPTIONS)[0]
        assert unit.native.getroot().tag.endswith("CreditNote" if code == "381" else "Invoice")
        assert [str(e) for e in codec.validate(unit, OPTIONS)] == []
        rules = validators.cen("ubl")
        assert rules is not None and rules.run(parse_xml(payload), PREFIXES) == []
        assert b"urn:fdc:peppol.eu:2017:poacc:billing:01:1.0" in payload or doc.customization_id


def test_written_documents_of_every_kind_pass_the_xsd(registry: CodecRegistry) -> None:
    codec = registry.get("ubl")
    for name in ("order", "order_response", "despatch_advice", "status"):
        doc = document_from_data(json.loads((FIXTURES / "canonical" / f"{name}.json").read_text()))
        payload = codec.from_canonical(doc, OPTIONS)
        unit = codec.split(payload, OPTIONS)[0]
        assert [str(e) for e in codec.validate(unit, OPTIONS)] == [], name
        again = codec.to_canonical(unit, OPTIONS)
        assert again.document_type == doc.document_type and again.business_key == doc.business_key
