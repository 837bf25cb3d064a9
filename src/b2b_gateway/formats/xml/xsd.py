"""XSD validation against the official schemas, with errors people can act on.

:func:`validate_xsd` is pure (a parsed document and a compiled schema in, located errors out).
:class:`OfficialValidators` finds the installed schemas and rules under one directory and compiles each
once per process, per document type (:func:`load_xsd` and :func:`~b2b_gateway.formats.xml.cen.compile_rules`
are cached by path).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from lxml import etree

from b2b_gateway.errors import GatewayError, Location, OfficialSchemaError, SchemaError
from b2b_gateway.formats.xml.cen import CenRules, compile_rules, saxon_available

__all__ = ["CEN_XSLT", "DOCUMENT_XSD", "PREFIXES", "OfficialValidators", "load_xsd", "validate_xsd"]

UBL = "urn:oasis:names:specification:ubl:schema:xsd:"
#: Namespace URI -> the prefix used in messages and XPaths.
PREFIXES: dict[str, str] = {
    f"{UBL}CommonAggregateComponents-2": "cac",
    f"{UBL}CommonBasicComponents-2": "cbc",
    f"{UBL}CommonExtensionComponents-2": "ext",
    "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100": "rsm",
    "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100": "ram",
    "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100": "udt",
    "urn:un:unece:uncefact:data:standard:QualifiedDataType:100": "qdt",
}
_UBL_DOCS = ("Invoice", "CreditNote", "Order", "OrderChange", "OrderResponse", "DespatchAdvice", "ApplicationResponse")
#: Root element (namespace URI, local name) -> schema file under the installed directory.
DOCUMENT_XSD: dict[tuple[str, str], str] = {
    (f"{UBL}{doc}-2", doc): f"ubl-2.1/xsd/maindoc/UBL-{doc}-2.1.xsd" for doc in _UBL_DOCS
} | {
    (
        "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
        "CrossIndustryInvoice",
    ): "cii-d16b/CII/uncefact/data/standard/CrossIndustryInvoice_100pD16B.xsd"
}
#: Syntax -> the CEN EN 16931 stylesheet under the installed directory.
CEN_XSLT = {"ubl": "en16931/EN16931-UBL-validation.xslt", "cii": "en16931/EN16931-CII-validation.xslt"}

_QNAME = re.compile(r"\{([^}]*)\}([\w.-]+)")


def _readable(message: str, prefixes: dict[str, str]) -> str:
    def repl(m: re.Match[str]) -> str:
        prefix = prefixes.get(m.group(1))
        return f"{prefix}:{m.group(2)}" if prefix else m.group(2)

    text = _QNAME.sub(repl, message).strip()
    text = text.replace("This element is not expected.", "this element is not allowed here.")
    text = text.replace("Expected is one of", "the schema expects one of").replace("Expected is", "the schema expects")
    return text.rstrip(".")


def _hint(message: str) -> str:
    low = message.lower()
    if "not expected" in low or "not allowed here" in low:
        return "UBL fixes the order of elements: move the element to its place, or remove it if the schema has none"
    if "missing child" in low:
        return "add the required element(s) named in the message"
    if "not a valid value" in low or "is not accepted by the pattern" in low:
        return "correct the value to the data type the schema gives (dates YYYY-MM-DD, decimals with a dot)"
    return "see the UBL 2.1 schema for the element named in the message"


def validate_xsd(
    tree: etree._ElementTree, schema: etree.XMLSchema, *, prefixes: dict[str, str] | None = None
) -> list[GatewayError]:
    """Validate ``tree`` against ``schema``; one :class:`SchemaError` per violation, with XPath and line."""
    known = {**PREFIXES, **(prefixes or {})}
    if schema.validate(tree):
        return []
    root_name = etree.QName(tree.getroot()).localname
    out: list[GatewayError] = []
    for entry in schema.error_log:
        path = entry.path or ""
        if path.startswith("/*"):
            path = f"/{root_name}{path[2:]}"
        message = _readable(entry.message, known)
        out.append(
            SchemaError(
                f"XSD: {message}",
                location=Location(xpath=path or None, line=entry.line or None, column=entry.column or None),
                hint=_hint(message),
                details={"libxml2": entry.type_name},
            )
        )
    return out


@cache
def load_xsd(path: str) -> etree.XMLSchema:
    """Compile the schema at ``path`` (its imports are read from beside it; never from the network).

    Raises:
        OfficialSchemaError: the file is missing or does not compile.
    """
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    try:
        return etree.XMLSchema(etree.parse(path, parser))
    except (OSError, etree.XMLSyntaxError, etree.XMLSchemaParseError) as exc:
        raise OfficialSchemaError(f"cannot load the schema: {exc}", location=Location(file=path)) from None


class OfficialValidators:
    """The installed official schemas and rules under ``directory`` (``None``: nothing installed)."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory

    def _file(self, rel: str) -> Path | None:
        if self.directory is None:
            return None
        path = self.directory / rel
        return path if path.is_file() else None

    def xsd(self, namespace: str, root: str) -> etree.XMLSchema | None:
        """The compiled schema of a document root, or ``None`` when it is not installed."""
        rel = DOCUMENT_XSD.get((namespace, root))
        path = self._file(rel) if rel else None
        return load_xsd(str(path)) if path else None

    def cen(self, syntax: str) -> CenRules | None:
        """The compiled EN 16931 rules for ``ubl`` or ``cii``; ``None`` when not installed or no saxonche."""
        path = self._file(CEN_XSLT[syntax])
        if path is None or not saxon_available():
            return None
        return compile_rules(str(path))

    def off_warnings(self, namespace: str, root: str, *, invoice: bool, syntax: str) -> list[GatewayError]:
        """Warnings saying which official validation is off for this document, and why."""
        out: list[GatewayError] = []
        if (namespace, root) in DOCUMENT_XSD and self.xsd(namespace, root) is None:
            out.append(
                OfficialSchemaError(
                    f"XSD validation is off: the official schema of {root} is not installed",
                    severity="warning",
                    hint="run: b2b-gateway schemas install --from <UBL release zip or directory>",
                )
            )
        if invoice and self._file(CEN_XSLT[syntax]) is None:
            out.append(
                OfficialSchemaError(
                    "EN 16931 (CEN) rule validation is off: the official rules are not installed",
                    severity="warning",
                    hint="run: b2b-gateway schemas install --from <directory with en16931/>",
                )
            )
        elif invoice and not saxon_available():
            out.append(
                OfficialSchemaError(
                    "EN 16931 (CEN) rule validation is off: saxonche (XSLT 2) is not installed",
                    severity="warning",
                    hint="pip install 'b2b-gateway[rules]'",
                )
            )
        return out
