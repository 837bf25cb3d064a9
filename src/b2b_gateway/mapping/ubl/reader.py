"""Reading UBL into canonical data, remembering which element each canonical field came from.

The :class:`Reader` builds plain dicts (the canonical model validates them) and a trace from canonical
field paths (``lines[0].net_amount``) to elements, so that field and business-rule errors found on the
canonical document point back to the XPath and line in the input (:func:`locate_errors`).
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from b2b_gateway.errors import GatewayError, Location
from b2b_gateway.formats.xml.parser import element_xpath
from b2b_gateway.formats.xml.ubl_tree import NS

__all__ = ["Data", "Reader", "locate_errors"]

Data = dict[str, Any]
_PREFIXES = {uri: prefix for prefix, uri in NS.items()}


class Reader:
    """Typed, traced lookups below UBL elements."""

    def __init__(self, namespaces: dict[str, str] | None = None) -> None:
        self.trace: dict[str, etree._Element] = {}
        self.ns = namespaces or NS
        self.prefixes = {uri: prefix for prefix, uri in self.ns.items()} or _PREFIXES

    def find(self, el: etree._Element | None, path: str) -> etree._Element | None:
        return None if el is None else el.find(path, self.ns)

    def all(self, el: etree._Element | None, path: str) -> list[etree._Element]:
        return [] if el is None else list(el.findall(path, self.ns))

    def text(self, el: etree._Element | None, path: str) -> str | None:
        found = self.find(el, path) if path else el
        if found is None or found.text is None:
            return None
        value = found.text.strip()
        return value or None

    def put(
        self, out: Data, key: str, el: etree._Element | None, path: str, field: str, attr: str | None = None
    ) -> None:
        """``out[key]`` = the text (or ``attr``) of ``path`` below ``el``, when present; traced as ``field``."""
        found = self.find(el, path) if path else el
        if found is None:
            return
        value = found.get(attr) if attr else found.text
        if value is None or not value.strip():
            return
        out[key] = value.strip()
        self.trace[f"{field}.{key}" if field else key] = found

    def mark(self, field: str, el: etree._Element | None) -> None:
        """Trace a whole aggregate (a party, a line) as ``field``."""
        if el is not None:
            self.trace[field] = el

    def ident(self, el: etree._Element | None, path: str, field: str) -> Data | None:
        """An identifier with its ``schemeID`` (``{"value": …, "scheme": …}``)."""
        found = self.find(el, path) if path else el
        if found is None or not (found.text or "").strip():
            return None
        self.trace[field] = found
        out: Data = {"value": (found.text or "").strip()}
        if found.get("schemeID"):
            out["scheme"] = found.get("schemeID")
        return out

    def where(self, field: str) -> Location | None:
        """The input location of canonical ``field`` (or of its nearest traced parent)."""
        key = field
        while key:
            el = self.trace.get(key)
            if el is not None:
                return Location(xpath=element_xpath(el, self.prefixes), line=el.sourceline)
            cut = max(key.rfind("."), key.rfind("["))
            key = key[:cut] if cut > 0 else ""
        return None


def locate_errors(errors: list[GatewayError], reader: Reader | None) -> None:
    """Add the XPath and line of each error's canonical field (``location.field``), where traced."""
    if reader is None:
        return
    for err in errors:
        if err.location.field:
            where = reader.where(err.location.field)
            if where is not None:
                err.at(where)
