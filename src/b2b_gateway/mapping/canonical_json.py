"""Canonical JSON: the canonical model's own serialisation (the ERP contract). Identity mapping."""

from __future__ import annotations

import re
from typing import Any

from b2b_gateway.canonical.documents import Document, document_from_data
from b2b_gateway.errors import DocumentRejected, GatewayError, Location
from b2b_gateway.formats.json import load_json, pointer_lines
from b2b_gateway.mapping.codec import CodecOptions, EnvelopeInfo, Unit

__all__ = ["CanonicalJsonCodec", "dump_canonical"]

_MARKER = re.compile(rb'^\s*(?:\xef\xbb\xbf)?\s*\{[^\0]{0,4096}?"document_type"\s*:', re.S)


def dump_canonical(document: Document, *, indent: int | None = 2) -> bytes:
    """Canonical JSON bytes of a document: amounts as strings, no nulls."""
    return document.model_dump_json(indent=indent, exclude_none=True).encode("utf-8")


def _party_id(data: Any) -> str | None:
    if not isinstance(data, dict):
        return None
    for ident in data.get("identifiers") or []:
        if isinstance(ident, dict) and ident.get("value"):
            return str(ident["value"])
    endpoint = data.get("electronic_address")
    if isinstance(endpoint, dict) and endpoint.get("value"):
        return str(endpoint["value"])
    return None


def _add_lines(errors: list[GatewayError], data: bytes) -> list[GatewayError]:
    lines = pointer_lines(data)
    for err in errors:
        pointer = err.location.json_pointer
        while pointer is not None and pointer not in lines and pointer:
            pointer = pointer.rsplit("/", 1)[0]
        if pointer is not None and pointer in lines:
            err.at(Location(line=lines[pointer]))
    return errors


class CanonicalJsonCodec:
    """Reads and writes canonical JSON documents (``document_type`` tells which)."""

    name = "canonical-json"
    counters: tuple[str, ...] = ()

    def sniff(self, data: bytes) -> bool:
        return bool(_MARKER.match(data[:8192]))

    def _load(self, data: bytes, options: CodecOptions) -> Any:
        return load_json(data, max_bytes=options.limits.max_document_bytes, max_depth=options.limits.max_json_depth)

    def envelope(self, data: bytes, options: CodecOptions) -> EnvelopeInfo:
        value = self._load(data, options)
        if not isinstance(value, dict):
            return EnvelopeInfo()
        source = value.get("source") if isinstance(value.get("source"), dict) else {}
        kind = value.get("document_type")
        # The partner of an inbound document is its issuer: the seller of an invoice, the buyer of an order.
        issuer_role = "buyer" if kind == "order" else "seller"
        return EnvelopeInfo(
            sender=(source or {}).get("sender") or _party_id(value.get(issuer_role)),
            recipient=(source or {}).get("recipient"),
            interchange_ref=str(value.get("document_number")) if value.get("document_number") else None,
            document_type=str(kind) if kind else None,
            test=bool(value.get("test", False)),
        )

    def split(self, data: bytes, options: CodecOptions) -> list[Unit]:
        value = self._load(data, options)
        kind = value.get("document_type") if isinstance(value, dict) else None
        ref = value.get("document_number") if isinstance(value, dict) else None
        return [
            Unit(
                document_type=str(kind or "unknown"),
                ref=str(ref) if ref else None,
                native=value,
                meta={"raw": data},
            )
        ]

    def validate(self, unit: Unit, options: CodecOptions) -> list[GatewayError]:
        return []  # the canonical model validates itself in to_canonical

    def to_canonical(self, unit: Unit, options: CodecOptions) -> Document:
        try:
            return document_from_data(unit.native)
        except DocumentRejected as exc:
            raw = unit.meta.get("raw")
            if isinstance(raw, bytes):
                _add_lines(exc.errors, raw)
            raise
        except GatewayError as exc:
            raw = unit.meta.get("raw")
            if isinstance(raw, bytes):
                _add_lines([exc], raw)
            raise

    def locate(self, errors: list[GatewayError], unit: Unit) -> None:
        """Add line numbers to errors found on the canonical document (business rules)."""
        raw = unit.meta.get("raw")
        if isinstance(raw, bytes):
            _add_lines(errors, raw)

    def from_canonical(self, document: Document, options: CodecOptions) -> bytes:
        return dump_canonical(document)
