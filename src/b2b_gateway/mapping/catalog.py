"""Which mapping applies: the loaded mappings of every partner, and the standard ones.

Codecs ask a :class:`MappingSource` for the mapping of a partner's document in a direction. The
partner repository (``partners/loader.py``) is the source of a running gateway and swaps in a new
:class:`MappingCatalog` when files change; a catalog is also a source by itself (tests, tools).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from b2b_gateway.mapping.plan import CompiledMapping

__all__ = ["MappingCatalog", "MappingSource", "PartnerMappings"]


@dataclass(frozen=True, slots=True)
class PartnerMappings:
    """What one partner's files say about its documents."""

    partner_id: str
    formats: Mapping[tuple[str, str], str] = field(default_factory=dict)
    """(document, direction) -> format of the exchange (``edifact``, ``json`` …)."""
    mappings: Mapping[tuple[str, str], CompiledMapping] = field(default_factory=dict)
    """(document, direction) -> the partner's own mapping for the exchange, when it has one."""
    json_schemas: Mapping[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    """(document, direction) -> the JSON Schema the partner's JSON must meet."""


class MappingSource(Protocol):
    """Where codecs find mappings (a catalog, or a repository that reloads one)."""

    def catalog(self) -> MappingCatalog:
        """The mappings in force now."""
        ...


@dataclass(frozen=True, slots=True)
class MappingCatalog:
    """An immutable snapshot: every partner's mappings and the standard mappings by (format, document)."""

    partners: Mapping[str, PartnerMappings] = field(default_factory=dict)
    standards: Mapping[tuple[str, str], CompiledMapping] = field(default_factory=dict)

    def catalog(self) -> MappingCatalog:
        return self

    def mapping_for(self, partner_id: str | None, document: str, direction: str, fmt: str) -> CompiledMapping | None:
        """The partner's mapping for ``document`` in ``direction`` and format ``fmt``, else the standard one."""
        entry = self.partners.get(partner_id or "")
        if entry is not None:
            other = "outbound" if direction == "inbound" else "inbound"
            for key in ((document, direction), (document, other)):
                own = entry.mappings.get(key)
                if own is not None and own.spec.format == _syntax_of(fmt) and own.serves(direction):
                    return own
            if entry.formats.get((document, direction), fmt) != fmt:
                return None
        standard = self.standards.get((fmt, document))
        return standard if standard is not None and standard.serves(direction) else None

    def inbound(self, fmt: str) -> list[tuple[str, CompiledMapping]]:
        """Every partner's inbound mapping in ``fmt`` (to recognise and identify a document)."""
        out = []
        for pid, entry in self.partners.items():
            for (_doc, direction), mapping in entry.mappings.items():
                if direction == "inbound" and mapping.spec.format == _syntax_of(fmt):
                    out.append((pid, mapping))
        return out

    def json_schema(self, partner_id: str | None, document: str, direction: str) -> dict[str, Any] | None:
        entry = self.partners.get(partner_id or "")
        return entry.json_schemas.get((document, direction)) if entry else None


def _syntax_of(fmt: str) -> str:
    return {"edifact": "edifact", "json": "json", "xml": "xml"}.get(fmt, fmt)
