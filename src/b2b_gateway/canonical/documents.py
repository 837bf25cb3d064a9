"""The canonical document union, and turning raw data into a document with located errors."""

from __future__ import annotations

from typing import Annotated, Any, TypeAlias, get_args, get_origin

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from b2b_gateway.canonical.despatch import DespatchAdvice
from b2b_gateway.canonical.invoice import Invoice
from b2b_gateway.canonical.order import Order
from b2b_gateway.canonical.order_response import OrderResponse
from b2b_gateway.canonical.status import StatusDocument
from b2b_gateway.errors import (
    CodeListError,
    DocumentRejected,
    FieldError,
    GatewayError,
    Location,
    UnknownDocumentTypeError,
)

__all__ = [
    "DOCUMENT_TYPES",
    "Document",
    "document_from_data",
    "json_pointer",
    "pydantic_errors",
]

Document: TypeAlias = Annotated[
    Order | OrderResponse | DespatchAdvice | Invoice | StatusDocument, Field(discriminator="document_type")
]

#: document_type value -> model class.
DOCUMENT_TYPES: dict[str, type[BaseModel]] = {
    "order": Order,
    "order_response": OrderResponse,
    "despatch_advice": DespatchAdvice,
    "invoice": Invoice,
    "status": StatusDocument,
}

_ADAPTER: TypeAdapter[Document] = TypeAdapter(Document)


def json_pointer(loc: tuple[int | str, ...]) -> str:
    """RFC 6901 pointer for a pydantic location."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in loc)


def _business_term(model: type[BaseModel], loc: tuple[int | str, ...]) -> str | None:
    """Follow ``loc`` through the model's fields and return the last field's ``x-bt`` term, if any."""
    current: Any = model
    term: str | None = None
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return term
        info = current.model_fields.get(str(part))
        if info is None:
            return term
        extra = info.json_schema_extra
        term = extra.get("x-bt") if isinstance(extra, dict) and isinstance(extra.get("x-bt"), str) else None  # type: ignore[assignment]
        current = _inner_model(info.annotation)
    return term


def _inner_model(annotation: Any) -> Any:
    """The BaseModel inside ``X | None`` or ``list[X]``, else the annotation itself."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _inner_model(arg)
        if isinstance(found, type) and issubclass(found, BaseModel):
            return found
    if get_origin(annotation) is Annotated:
        return _inner_model(get_args(annotation)[0])
    return annotation


def pydantic_errors(
    exc: ValidationError,
    model: type[BaseModel],
    *,
    prefix: tuple[int | str, ...] = (),
    strip_tag: bool = False,
) -> list[GatewayError]:
    """Translate a pydantic ValidationError into located gateway errors (one per problem)."""
    out: list[GatewayError] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        if strip_tag and loc and loc[0] in DOCUMENT_TYPES:
            loc = loc[1:]
        full = prefix + loc
        term = _business_term(model, loc)
        field = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in loc).replace(".[", "[")
        where = Location(json_pointer=json_pointer(full), field=field or None)
        label = f"{field} ({term})" if term else field or "document"
        if err["type"] == "code_list":
            out.append(CodeListError(f"{label}: {err['msg']}", location=where, details={"business_term": term}))
        elif err["type"] == "missing":
            out.append(FieldError(f"{label} is required but missing", location=where, details={"business_term": term}))
        elif err["type"] == "extra_forbidden":
            out.append(
                FieldError(
                    f"{label} is not a field of the canonical model",
                    location=where,
                    hint="partner-specific data belongs under 'extensions'",
                )
            )
        else:
            value = err.get("input")
            shown = repr(value) if isinstance(value, str | int | float) else type(value).__name__
            out.append(FieldError(f"{label}: {err['msg']} (got {shown})", location=where))
    return out


def document_from_data(data: Any) -> Document:
    """Validate already-parsed data (a dict) as a canonical document.

    Raises:
        UnknownDocumentTypeError: ``document_type`` is missing or unknown.
        DocumentRejected: every field error, each with its JSON pointer and business term.
    """
    if not isinstance(data, dict):
        raise FieldError("a canonical document is a JSON object", location=Location(json_pointer=""))
    kind = data.get("document_type")
    if kind not in DOCUMENT_TYPES:
        raise UnknownDocumentTypeError(
            f"unknown document_type {kind!r}",
            location=Location(json_pointer="/document_type", field="document_type"),
            hint=f"use one of: {', '.join(DOCUMENT_TYPES)}",
        )
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise DocumentRejected(pydantic_errors(exc, DOCUMENT_TYPES[kind], strip_tag=True)) from None


def document_schema() -> dict[str, Any]:
    """The JSON Schema of the document union (one file per type is exported by ``schema export``)."""
    return _ADAPTER.json_schema(mode="validation")
