"""JSON Schema validation for partner JSON: every error with its JSON pointer, line and failing rule."""

from __future__ import annotations

import pytest

from b2b_gateway.errors import MappingConfigError, SchemaError
from b2b_gateway.formats.json import compile_schema, load_json, validate_json

SCHEMA = {
    "type": "object",
    "required": ["order_no", "lines"],
    "additionalProperties": False,
    "properties": {
        "order_no": {"type": "string", "minLength": 1},
        "date": {"type": "string", "format": "date"},
        "lines": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["qty"],
                "properties": {"qty": {"type": "integer", "minimum": 1}, "price": {"type": "number"}},
            },
        },
    },
}


def test_valid_document_has_no_errors() -> None:
    data = b'{"order_no": "A1", "lines": [{"qty": 2, "price": 1.50}, {"qty": 3.0}]}'
    assert validate_json(load_json(data), compile_schema(SCHEMA)) == []


def test_every_error_has_pointer_line_and_rule() -> None:
    data = b'{\n  "order_no": "",\n  "extra": 1,\n  "lines": [\n    {"qty": 0},\n    {"price": "x"}\n  ]\n}\n'
    errors = validate_json(load_json(data), compile_schema(SCHEMA, "partner.schema.json"), data=data)
    found = {(e.location.json_pointer, e.details["keyword"], e.location.line) for e in errors}
    assert found == {
        ("", "additionalProperties", 1),
        ("/order_no", "minLength", 2),
        ("/lines/0/qty", "minimum", 5),
        ("/lines/1", "required", 6),
        ("/lines/1/price", "type", 6),
    }
    assert all(isinstance(e, SchemaError) and e.location.file == "partner.schema.json" and e.hint for e in errors)


def test_invalid_schema_is_a_configuration_error() -> None:
    with pytest.raises(MappingConfigError, match="invalid JSON Schema"):
        compile_schema({"type": "nonsense"})


def test_remote_references_are_never_fetched() -> None:
    schema = compile_schema({"$ref": "http://127.0.0.1:9/remote.json"})
    with pytest.raises(MappingConfigError, match=r"127\.0\.0\.1"):
        validate_json({}, schema)
