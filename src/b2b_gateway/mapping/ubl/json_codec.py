"""The ``ubl-json`` codec: the OASIS UBL 2.1 JSON alternative representation, read and written through the
same XSD, rules and mapping as UBL XML; every error carries its JSON pointer and line."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from lxml import etree

from b2b_gateway.canonical.documents import Document
from b2b_gateway.errors import GatewayError
from b2b_gateway.formats.json import load_json, pointer_lines
from b2b_gateway.formats.xml.ubl_json import dump_ubl_json, tree_to_ubl_json, ubl_json_to_tree
from b2b_gateway.mapping.codec import CodecOptions, EnvelopeInfo, Unit
from b2b_gateway.mapping.ubl.codec import UblCodec

__all__ = ["UblJsonCodec"]

_MARKER = re.compile(
    rb'^\s*(?:\xef\xbb\xbf)?\s*\{[^\0]{0,4096}?"_D"\s*:\s*"urn:oasis:names:specification:ubl:schema:xsd:', re.S
)


class UblJsonCodec(UblCodec):
    """UBL documents in the UBL-JSON (``_D``/``_A``/``_B``) form."""

    name = "ubl-json"

    def sniff(self, data: bytes) -> bool:
        return bool(_MARKER.match(data[:8192]))

    def _load(self, data: bytes, options: CodecOptions) -> Any:
        value = load_json(data, max_bytes=options.limits.max_document_bytes, max_depth=options.limits.max_json_depth)
        return ubl_json_to_tree(value)

    def envelope(self, data: bytes, options: CodecOptions) -> EnvelopeInfo:
        tree, _ = self._load(data, options)
        return super().envelope(etree.tostring(tree), options)

    def split(self, data: bytes, options: CodecOptions) -> list[Unit]:
        try:
            tree, pointers = self._load(data, options)
        except GatewayError as exc:
            self._to_json([exc], data, None)
            raise
        return [self.unit_of(tree, {"raw": data, "pointers": pointers})]

    def _to_json(self, errors: list[GatewayError], data: bytes, pointers: list[str] | None) -> None:
        """Replace tree line numbers (element indexes) with JSON pointers and real lines."""
        lines = pointer_lines(data)
        for err in errors:
            loc = err.location
            if pointers and loc.line is not None and 0 < loc.line <= len(pointers):
                pointer = pointers[loc.line - 1]
            elif loc.json_pointer is not None and loc.field is None:
                pointer = loc.json_pointer
            else:
                continue
            probe: str | None = pointer
            while probe and probe not in lines:
                probe = probe.rsplit("/", 1)[0]
            err.location = replace(loc, json_pointer=pointer, line=lines.get(probe or ""), column=None)

    def _fix(self, errors: list[GatewayError], unit: Unit) -> None:
        raw, pointers = unit.meta.get("raw"), unit.meta.get("pointers")
        if isinstance(raw, bytes) and isinstance(pointers, list):
            self._to_json(errors, raw, pointers)

    def validate(self, unit: Unit, options: CodecOptions) -> list[GatewayError]:
        findings = super().validate(unit, options)
        self._fix(findings, unit)
        return findings

    def locate(self, errors: list[GatewayError], unit: Unit) -> None:
        """XPath and line from the tree, then the JSON pointer and line in the input (``to_canonical`` of the
        UBL codec calls this for field errors too)."""
        super().locate(errors, unit)
        self._fix(errors, unit)

    def from_canonical(self, document: Document, options: CodecOptions) -> bytes:
        root = self.render_tree(document, options)
        return dump_ubl_json(tree_to_ubl_json(root))
