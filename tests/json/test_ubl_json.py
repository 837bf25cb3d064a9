"""UBL-JSON (the OASIS alternative representation): read through the UBL mapping, written back, and every
error located by JSON pointer and line."""

from __future__ import annotations

import json

import pytest

from b2b_gateway.errors import DocumentRejected, SchemaError
from b2b_gateway.formats.xml.ubl_json import tree_to_ubl_json, ubl_json_to_tree
from b2b_gateway.mapping.codec import CodecOptions
from b2b_gateway.mapping.registry import CodecRegistry
from tests.conftest import FIXTURES, SHARED

SAMPLE = SHARED / "samples" / "json" / "Tradeshift_tradeshift-ubl-jsonschema__UBL-Order-2.1-Example.json"
OPTIONS = CodecOptions()


def test_detection_tells_ubl_json_from_canonical_json(registry: CodecRegistry) -> None:
    assert registry.detect(SAMPLE.read_bytes()).name == "ubl-json"
    assert registry.detect((FIXTURES / "canonical" / "order.json").read_bytes()).name == "canonical-json"


def test_tree_conversion_is_lossless_for_the_sample() -> None:
    value = json.loads(SAMPLE.read_text())
    tree, pointers = ubl_json_to_tree(value)
    root = tree.getroot()
    assert root.tag == "{urn:oasis:names:specification:ubl:schema:xsd:Order-2}Order"
    ident = root.find("{urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2}BuyerCustomerParty")
    assert ident is not None and pointers[ident.sourceline - 1] == "/Order/0/BuyerCustomerParty/0"
    back = tree_to_ubl_json(root)
    assert back["Order"] == value["Order"]


def test_sample_maps_to_the_same_order_as_ubl_xml(registry: CodecRegistry) -> None:
    xml = (SHARED / "samples" / "xml" / "kduvekot_ubl-release-package__UBL-Order-2.1-Example.xml").read_bytes()
    from_json = registry.get("ubl-json")
    from_xml = registry.get("ubl")
    a = from_json.to_canonical(from_json.split(SAMPLE.read_bytes(), OPTIONS)[0], OPTIONS)
    b = from_xml.to_canonical(from_xml.split(xml, OPTIONS)[0], OPTIONS)
    assert a.model_dump(exclude={"source"}) == b.model_dump(exclude={"source"})


def test_written_ubl_json_reads_back(registry: CodecRegistry) -> None:
    codec = registry.get("ubl-json")
    doc = codec.to_canonical(codec.split(SAMPLE.read_bytes(), OPTIONS)[0], OPTIONS)
    payload = codec.from_canonical(doc, OPTIONS)
    written = json.loads(payload)
    assert set(written) == {"_D", "_A", "_B", "Order"} and written["Order"][0]["ID"] == [{"IdentifierContent": "34"}]
    unit = codec.split(payload, OPTIONS)[0]
    assert codec.validate(unit, OPTIONS) == []
    assert codec.to_canonical(unit, OPTIONS).model_dump(exclude={"source"}) == doc.model_dump(exclude={"source"})


def test_xsd_and_field_errors_carry_json_pointer_and_line(registry: CodecRegistry) -> None:
    codec = registry.get("ubl-json")
    text = SAMPLE.read_text().replace('"DateContent":"2010-01-20"', '"DateContent":"20.01.2010"', 1)
    data = text.encode()
    unit = codec.split(data, OPTIONS)[0]
    [err] = codec.validate(unit, OPTIONS)
    assert isinstance(err, SchemaError) and err.location.json_pointer == "/Order/0/IssueDate/0"
    assert err.location.line == 1 + text[: text.index("20.01.2010")].count("\n")
    with pytest.raises(DocumentRejected) as info:
        codec.to_canonical(unit, OPTIONS)
    [field] = info.value.errors
    assert field.location.json_pointer == "/Order/0/IssueDate/0" and field.location.field == "issue_date"


def test_malformed_ubl_json_is_refused_with_a_pointer(registry: CodecRegistry) -> None:
    codec = registry.get("ubl-json")
    bad = (
        b'{"_D": "urn:oasis:names:specification:ubl:schema:xsd:Order-2",\n'
        b' "Order": [{"ID": {"IdentifierContent": "1"}}]}'
    )
    with pytest.raises(SchemaError, match="list of objects") as info:
        codec.split(bad, OPTIONS)
    assert info.value.location.json_pointer == "/Order/0/ID" and info.value.location.line == 2
