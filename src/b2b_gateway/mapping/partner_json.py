"""Partner JSON (format ``json``): a partner's own JSON documents, mapped by its mapping files.

The partner's mapping files say how to recognise its documents (``match``), who sent them
(``envelope``), and how they map to canonical; the profile may name a JSON Schema the documents must
meet (checked inbound, and on what the gateway renders outbound).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from jsonschema.validators import validator_for

from b2b_gateway.canonical.documents import Document
from b2b_gateway.errors import GatewayError, Location, MappingConfigError, SchemaError, UnknownDocumentTypeError
from b2b_gateway.formats.json import load_json, pointer_lines
from b2b_gateway.mapping.catalog import MappingSource
from b2b_gateway.mapping.codec import CodecOptions, EnvelopeInfo, Unit
from b2b_gateway.mapping.engine import MappingRun, condition_holds
from b2b_gateway.mapping.mapped import canonical_from_tree, tree_from_canonical
from b2b_gateway.mapping.plan import CompiledMapping

__all__ = ["PartnerJsonCodec", "dump_json"]


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        if value == value.to_integral_value() and abs(value) < 2**53:
            return int(value)
        return float(value) if Decimal(repr(float(value))) == value else format(value, "f")
    return value


def dump_json(value: Any) -> bytes:
    """JSON bytes (2-space indent, UTF-8); decimals become numbers where that loses nothing."""
    return (json.dumps(_plain(value), indent=2, ensure_ascii=False) + "\n").encode("utf-8")


class PartnerJsonCodec:
    """Reads and writes partners' JSON documents through their mapping files."""

    name = "json"
    counters: tuple[str, ...] = ()

    def __init__(self, mappings: MappingSource) -> None:
        self.mappings = mappings

    def _load(self, data: bytes, options: CodecOptions) -> Any:
        return load_json(data, max_bytes=options.limits.max_document_bytes, max_depth=options.limits.max_json_depth)

    def _candidates(
        self, value: Any, partner: str | None, direction: str = "inbound"
    ) -> list[tuple[str, CompiledMapping]]:
        catalog = self.mappings.catalog()
        if direction == "inbound":
            found = [(p, m) for p, m in catalog.inbound("json") if partner is None or p == partner]
        else:
            entry = catalog.partners.get(partner or "")
            found = (
                []
                if entry is None
                else [
                    (entry.partner_id, m)
                    for (_d, dirn), m in entry.mappings.items()
                    if dirn == "outbound" and m.spec.format == "json"
                ]
            )
        return [
            (p, m) for p, m in found if m.match is None or condition_holds(MappingRun(m), m.match, value, inbound=True)
        ]

    def sniff(self, data: bytes) -> bool:
        head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
        if not head.startswith((b"{", b"[")):
            return False
        try:
            value = load_json(data)
        except GatewayError:
            return False
        return bool(self._candidates(value, None))

    def _pick(self, value: Any, options: CodecOptions) -> tuple[str, CompiledMapping, str]:
        partner = options.partner.id if options.partner else None
        found = self._candidates(value, partner)
        direction = "inbound"
        if not found and partner is not None:
            found, direction = self._candidates(value, partner, "outbound"), "outbound"
        if not found:
            raise UnknownDocumentTypeError(
                f"no JSON mapping{' of partner ' + partner if partner else ''} recognises this document",
                location=Location(json_pointer=""),
                hint="add a 'match:' condition to the partner's mapping file, or name the partner",
            )
        return found[0][0], found[0][1], direction

    def _text(self, mapping: CompiledMapping, key: str, value: Any) -> str | None:
        path = mapping.envelope.get(key)
        if path is None:
            return None
        hits = mapping.syntax.values(value, path)
        return hits[0].value if hits else None

    def envelope(self, data: bytes, options: CodecOptions) -> EnvelopeInfo:
        value = self._load(data, options)
        partner, mapping, _ = self._pick(value, options)
        return EnvelopeInfo(
            sender=self._text(mapping, "sender", value) or partner,
            recipient=self._text(mapping, "recipient", value),
            interchange_ref=self._text(mapping, "reference", value),
            document_type=mapping.document,
        )

    def split(self, data: bytes, options: CodecOptions) -> list[Unit]:
        value = self._load(data, options)
        partner, mapping, direction = self._pick(value, options)
        meta = {"raw": data, "partner": partner, "mapping": mapping, "direction": direction}
        return [Unit(mapping.document, self._text(mapping, "reference", value), value, meta=meta)]

    def validate(self, unit: Unit, options: CodecOptions) -> list[GatewayError]:
        schema = self.mappings.catalog().json_schema(
            unit.meta.get("partner"), unit.document_type, unit.meta.get("direction", "inbound")
        )
        if schema is None:
            return []
        raw = unit.meta.get("raw")
        lines = pointer_lines(raw) if isinstance(raw, bytes) else {}
        out: list[GatewayError] = []
        validator = validator_for(schema)(schema)
        for err in sorted(validator.iter_errors(unit.native), key=lambda e: list(e.absolute_path)):
            pointer = "".join(f"/{p}" for p in err.absolute_path)
            out.append(
                SchemaError(
                    f"JSON Schema: {err.message}", location=Location(json_pointer=pointer, line=lines.get(pointer))
                )
            )
        return out

    def to_canonical(self, unit: Unit, options: CodecOptions) -> Document:
        mapping: CompiledMapping = unit.meta["mapping"]
        raw = unit.meta.get("raw")
        lines = pointer_lines(raw) if isinstance(raw, bytes) else {}

        def where(loc: Location) -> Location:
            if loc.json_pointer is not None and loc.line is None and loc.json_pointer in lines:
                return Location(line=lines[loc.json_pointer]).merge(loc)
            return loc

        source = {"format": "json", "sender": unit.meta.get("partner"), "message_ref": unit.ref}
        return canonical_from_tree(mapping, unit.native, source=source, where=where)

    def from_canonical(self, document: Document, options: CodecOptions) -> bytes:
        partner = options.partner.id if options.partner else None
        mapping = self.mappings.catalog().mapping_for(partner, document.document_type, "outbound", "json")
        if mapping is None:
            raise MappingConfigError(
                f"partner {partner or '(none)'} has no JSON mapping for outbound {document.document_type} documents",
                hint="add the exchange with 'format: json' and a mapping file to the partner's profile",
            )
        return dump_json(tree_from_canonical(mapping, document))
