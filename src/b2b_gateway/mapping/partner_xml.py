"""Partner XML (format ``xml``): a partner's own XML documents, mapped by its mapping files with XPath.

A mapping file with ``format: xml`` names the document element in ``message`` (``ns:Root``, with its
prefix under ``namespaces``); an inbound document is recognised by that element and the mapping's
``match`` condition. Parsing is the hardened XML parser (no DTDs, entities or external references).
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from b2b_gateway.canonical.documents import Document
from b2b_gateway.errors import GatewayError, Location, MappingConfigError, UnknownDocumentTypeError
from b2b_gateway.formats.xml.parser import XmlLimits, parse_xml
from b2b_gateway.mapping.catalog import MappingSource
from b2b_gateway.mapping.codec import CodecOptions, EnvelopeInfo, Unit
from b2b_gateway.mapping.engine import MappingRun, condition_holds
from b2b_gateway.mapping.mapped import canonical_from_tree, tree_from_canonical
from b2b_gateway.mapping.paths.xml import XmlSyntax
from b2b_gateway.mapping.plan import CompiledMapping

__all__ = ["PartnerXmlCodec"]


def _limits(options: CodecOptions) -> XmlLimits:
    lim = options.limits
    return XmlLimits(max_bytes=lim.max_document_bytes, max_depth=lim.max_xml_depth, max_elements=lim.max_xml_elements)


def _root_matches(mapping: CompiledMapping, root: Any) -> bool:
    syntax = mapping.syntax
    if not isinstance(syntax, XmlSyntax) or not syntax.root:
        return False
    try:
        return bool(syntax.clark(syntax.root) == root.tag)
    except MappingConfigError:
        return False


def _matches(mapping: CompiledMapping, root: Any) -> bool:
    return mapping.match is None or condition_holds(MappingRun(mapping), mapping.match, root, inbound=True)


class PartnerXmlCodec:
    """Reads and writes partners' XML documents through their mapping files."""

    name = "xml"
    counters: tuple[str, ...] = ()

    def __init__(self, mappings: MappingSource) -> None:
        self.mappings = mappings

    def _candidates(self, root: Any, partner: str | None) -> list[tuple[str, CompiledMapping]]:
        found = [(p, m) for p, m in self.mappings.catalog().inbound("xml") if partner is None or p == partner]
        if not found and partner is not None:
            entry = self.mappings.catalog().partners.get(partner)
            found = [(partner, m) for m in (entry.mappings.values() if entry else []) if m.spec.format == "xml"]
        return [(p, m) for p, m in found if _root_matches(m, root) and _matches(m, root)]

    def sniff(self, data: bytes) -> bool:
        if not data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
            return False
        try:
            root = parse_xml(data).getroot()
        except GatewayError:
            return False
        return bool(self._candidates(root, None))

    def _pick(self, data: bytes, options: CodecOptions) -> tuple[Any, str, CompiledMapping]:
        root = parse_xml(data, _limits(options)).getroot()
        partner = options.partner.id if options.partner else None
        found = self._candidates(root, partner)
        if not found:
            raise UnknownDocumentTypeError(
                f"no XML mapping{' of partner ' + partner if partner else ''} reads a <{etree.QName(root).localname}>",
                location=Location(line=root.sourceline, xpath="/"),
                hint="give the mapping file the document element in 'message:' (and a 'match:' condition)",
            )
        return root, found[0][0], found[0][1]

    def _text(self, mapping: CompiledMapping, key: str, root: Any) -> str | None:
        path = mapping.envelope.get(key)
        hits = mapping.syntax.values(root, path) if path is not None else []
        return hits[0].value if hits else None

    def envelope(self, data: bytes, options: CodecOptions) -> EnvelopeInfo:
        root, partner, mapping = self._pick(data, options)
        return EnvelopeInfo(
            sender=self._text(mapping, "sender", root) or partner,
            recipient=self._text(mapping, "recipient", root),
            interchange_ref=self._text(mapping, "reference", root),
            document_type=mapping.document,
        )

    def split(self, data: bytes, options: CodecOptions) -> list[Unit]:
        root, partner, mapping = self._pick(data, options)
        meta = {"partner": partner, "mapping": mapping}
        return [Unit(mapping.document, self._text(mapping, "reference", root), root, meta=meta)]

    def validate(self, unit: Unit, options: CodecOptions) -> list[GatewayError]:
        return []  # well-formedness and limits are checked when parsing; the mapping checks the content

    def to_canonical(self, unit: Unit, options: CodecOptions) -> Document:
        mapping: CompiledMapping = unit.meta["mapping"]
        source = {"format": "xml", "sender": unit.meta.get("partner"), "message_ref": unit.ref}
        return canonical_from_tree(mapping, unit.native, source=source)

    def from_canonical(self, document: Document, options: CodecOptions) -> bytes:
        partner = options.partner.id if options.partner else None
        mapping = self.mappings.catalog().mapping_for(partner, document.document_type, "outbound", "xml")
        if mapping is None:
            raise MappingConfigError(
                f"partner {partner or '(none)'} has no XML mapping for outbound {document.document_type} documents",
                hint="add the exchange with 'format: xml' and a mapping file to the partner's profile",
            )
        tree = tree_from_canonical(mapping, document)
        return bytes(etree.tostring(tree, xml_declaration=True, encoding="UTF-8", pretty_print=True))
