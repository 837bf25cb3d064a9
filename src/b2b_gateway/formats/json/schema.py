"""JSON Schema validation whose every error carries its JSON pointer and line.

For partner JSON (the mapping files name a schema) and anything else checked against a JSON Schema.
The schema is compiled once (:func:`compile_schema`); :func:`validate_json` returns every violation as a
:class:`~b2b_gateway.errors.SchemaError`. Remote ``$ref`` are never fetched.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators
from jsonschema.exceptions import SchemaError as JsonSchemaDefinitionError
from referencing import Registry
from referencing.exceptions import Unresolvable

from b2b_gateway.errors import GatewayError, Location, MappingConfigError, SchemaError
from b2b_gateway.formats.json.reader import pointer_lines

__all__ = ["JsonSchema", "compile_schema", "validate_json"]


def _is_integer(checker: Any, instance: Any) -> bool:
    """Integers, including the Decimal values the gateway's JSON reader produces (``1`` and ``1.0``)."""
    if isinstance(instance, bool):
        return False
    if isinstance(instance, Decimal):
        return instance.is_finite() and instance == instance.to_integral_value()
    return isinstance(instance, int) or (isinstance(instance, float) and instance.is_integer())


def _pointer(path: Any) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


class JsonSchema:
    """A compiled JSON Schema (any draft the schema declares; 2020-12 by default)."""

    def __init__(self, schema: dict[str, Any], name: str | None = None) -> None:
        cls = validators.validator_for(schema, default=Draft202012Validator)
        try:
            cls.check_schema(schema)
        except JsonSchemaDefinitionError as exc:
            raise MappingConfigError(
                f"invalid JSON Schema: {exc.message}",
                location=Location(file=name, json_pointer=_pointer(exc.path)),
            ) from None
        self.name = name
        checker = cls.TYPE_CHECKER.redefine("integer", _is_integer)
        cls = validators.extend(cls, type_checker=checker)  # type: ignore[no-untyped-call]
        self._validator = cls(schema, registry=Registry(), format_checker=cls.FORMAT_CHECKER)

    def errors(self, value: Any) -> list[ValidationError]:
        """Every violation, sorted by place.

        Raises:
            MappingConfigError: the schema refers to something that cannot be resolved (remote ``$ref``
                are never fetched).
        """
        try:
            return sorted(self._validator.iter_errors(value), key=lambda e: list(map(str, e.absolute_path)))
        except Unresolvable as exc:
            raise MappingConfigError(
                f"the JSON Schema refers to what cannot be resolved: {exc}",
                location=Location(file=self.name),
                hint="remote references are never fetched: bundle them into the schema ($defs)",
            ) from None


def compile_schema(schema: dict[str, Any], name: str | None = None) -> JsonSchema:
    """Check and compile ``schema``.

    Raises:
        MappingConfigError: the schema itself is invalid.
    """
    return JsonSchema(schema, name)


def _message(err: ValidationError) -> str:
    where = _pointer(err.absolute_path) or "the document"
    if err.validator == "required":
        return f"{where}: {err.message}"
    if err.validator == "additionalProperties":
        return f"{where}: {err.message} (not allowed by the schema)"
    return f"{where}: {err.message}"


def validate_json(value: Any, schema: JsonSchema, *, data: bytes | None = None) -> list[GatewayError]:
    """Every violation of ``schema`` by ``value``, each with its JSON pointer (and line when ``data``,
    the original bytes, is given) and the failing keyword."""
    lines = pointer_lines(data) if data is not None else {}
    out: list[GatewayError] = []
    for err in schema.errors(value):
        pointer = _pointer(err.absolute_path)
        probe = pointer
        while probe and probe not in lines:
            probe = probe.rsplit("/", 1)[0]
        out.append(
            SchemaError(
                f"JSON Schema: {_message(err)}",
                location=Location(json_pointer=pointer, line=lines.get(probe), file=schema.name),
                hint=f"the schema's '{err.validator}' rule at {_pointer(err.absolute_schema_path) or '/'}",
                details={"keyword": err.validator, "schema_path": _pointer(err.absolute_schema_path)},
            )
        )
    return out
