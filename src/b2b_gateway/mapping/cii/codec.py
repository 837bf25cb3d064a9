"""The ``cii`` codec: CrossIndustryInvoice D16B read (hardened parsing, the official XSD, the EN 16931 CII
rules) and mapped to the canonical invoice. Writing CII is not supported."""

from __future__ import annotations

from lxml import etree

from b2b_gateway.canonical.documents import Document, document_from_data
from b2b_gateway.errors import (
    DocumentRejected,
    GatewayError,
    Location,
    MappingError,
    UnknownDocumentTypeError,
)
from b2b_gateway.formats.xml.parser import parse_xml
from b2b_gateway.formats.xml.xsd import PREFIXES, OfficialValidators, validate_xsd
from b2b_gateway.mapping.cii.invoice import CII_NS, read_cii_invoice
from b2b_gateway.mapping.codec import CodecOptions, EnvelopeInfo, Unit
from b2b_gateway.mapping.ubl.codec import root_of, xml_limits
from b2b_gateway.mapping.ubl.reader import Reader, locate_errors

__all__ = ["CiiCodec"]

_ROOT = (CII_NS["rsm"], "CrossIndustryInvoice")


class CiiCodec:
    """Reads UN/CEFACT CrossIndustryInvoice D16B documents."""

    name = "cii"
    counters: tuple[str, ...] = ()

    def __init__(self, validators: OfficialValidators | None = None) -> None:
        self.validators = validators or OfficialValidators(None)

    def sniff(self, data: bytes) -> bool:
        return root_of(data) == _ROOT

    def _tree(self, data: bytes, options: CodecOptions) -> etree._ElementTree:
        tree = parse_xml(data, xml_limits(options))
        q = etree.QName(tree.getroot())
        if (q.namespace, q.localname) != _ROOT:
            raise UnknownDocumentTypeError(
                f"the root element {q.localname} is not a CrossIndustryInvoice",
                location=Location(xpath=f"/{q.localname}", line=tree.getroot().sourceline),
            )
        return tree

    def envelope(self, data: bytes, options: CodecOptions) -> EnvelopeInfo:
        root = self._tree(data, options).getroot()
        seller = root.find(
            "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement/ram:SellerTradeParty", CII_NS
        )
        sender = qualifier = None
        if seller is not None:
            ident = seller.find("ram:URIUniversalCommunication/ram:URIID", CII_NS)
            if ident is None:
                ident = seller.find("ram:GlobalID", CII_NS)
            if ident is None:
                ident = seller.find("ram:ID", CII_NS)
            if ident is not None and ident.text:
                sender, qualifier = ident.text.strip(), ident.get("schemeID")
        return EnvelopeInfo(
            sender=sender,
            sender_qualifier=qualifier,
            interchange_ref=root.findtext("rsm:ExchangedDocument/ram:ID", namespaces=CII_NS),
            document_type="invoice",
        )

    def split(self, data: bytes, options: CodecOptions) -> list[Unit]:
        tree = self._tree(data, options)
        ref = tree.getroot().findtext("rsm:ExchangedDocument/ram:ID", namespaces=CII_NS)
        return [Unit(document_type="invoice", ref=ref.strip() if ref else None, native=tree, meta={"raw": data})]

    def validate(self, unit: Unit, options: CodecOptions) -> list[GatewayError]:
        tree: etree._ElementTree = unit.native
        findings = self.validators.off_warnings(*_ROOT, invoice=True, syntax="cii")
        schema = self.validators.xsd(*_ROOT)
        if schema is not None:
            findings.extend(validate_xsd(tree, schema))
        if not any(f.severity == "error" for f in findings):
            rules = self.validators.cen("cii")
            if rules is not None:
                findings.extend(rules.run(tree, PREFIXES))
        return findings

    def to_canonical(self, unit: Unit, options: CodecOptions) -> Document:
        reader = Reader(CII_NS)
        unit.meta["reader"] = reader
        data = read_cii_invoice(reader, unit.native.getroot())
        data["source"] = {"format": self.name, "message_ref": unit.ref, "message_type": "CII CrossIndustryInvoice D16B"}
        try:
            return document_from_data(data)
        except DocumentRejected as exc:
            locate_errors(exc.errors, reader)
            raise
        except GatewayError as exc:
            locate_errors([exc], reader)
            raise

    def locate(self, errors: list[GatewayError], unit: Unit) -> None:
        reader = unit.meta.get("reader")
        locate_errors(errors, reader if isinstance(reader, Reader) else None)

    def from_canonical(self, document: Document, options: CodecOptions) -> bytes:
        raise MappingError(
            "writing CII is not supported; the gateway reads CrossIndustryInvoice only",
            hint="send invoices to this partner as UBL (format: ubl)",
        )
