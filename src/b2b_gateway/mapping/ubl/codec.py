"""The ``ubl`` codec: UBL 2.1 XML documents through hardened parsing, the official XSD, the EN 16931 rules
(invoices) and the mappings to and from the canonical model."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lxml import etree

from b2b_gateway.canonical.despatch import DespatchAdvice
from b2b_gateway.canonical.documents import Document, document_from_data
from b2b_gateway.canonical.invoice import Invoice
from b2b_gateway.canonical.order import Order
from b2b_gateway.canonical.order_response import OrderResponse
from b2b_gateway.errors import (
    DocumentRejected,
    GatewayError,
    Location,
    MappingError,
    UnknownDocumentTypeError,
)
from b2b_gateway.formats.xml.parser import XmlLimits, parse_xml
from b2b_gateway.formats.xml.ubl_tree import NS, UBL_DOC
from b2b_gateway.formats.xml.xsd import PREFIXES, OfficialValidators, validate_xsd
from b2b_gateway.mapping.codec import CodecOptions, EnvelopeInfo, Unit
from b2b_gateway.mapping.ubl import invoice, order, responses
from b2b_gateway.mapping.ubl.reader import Data, Reader, locate_errors

__all__ = ["ROOTS", "UblCodec", "root_of", "xml_limits"]

Read = Callable[[Reader, etree._Element], Data]
#: UBL root -> (canonical document type, reader, issuer party path used to identify the sender).
ROOTS: dict[str, tuple[str, Read, str]] = {
    "Invoice": ("invoice", invoice.read_invoice, "cac:AccountingSupplierParty/cac:Party"),
    "CreditNote": ("invoice", invoice.read_invoice, "cac:AccountingSupplierParty/cac:Party"),
    "Order": ("order", order.read_order, "cac:BuyerCustomerParty/cac:Party"),
    "OrderChange": ("order", order.read_order, "cac:BuyerCustomerParty/cac:Party"),
    "OrderResponse": ("order_response", responses.read_order_response, "cac:SellerSupplierParty/cac:Party"),
    "DespatchAdvice": ("despatch_advice", responses.read_despatch_advice, "cac:DespatchSupplierParty/cac:Party"),
    "ApplicationResponse": ("status", responses.read_application_response, "cac:SenderParty"),
}
_ROOT = re.compile(rb"<(?:([\w.-]+):)?([\w.-]+)[\s/>]")
_PREFIX_DECL = rb"""xmlns%s\s*=\s*["']([^"']*)["']"""


def xml_limits(options: CodecOptions) -> XmlLimits:
    lim = options.limits
    return XmlLimits(max_bytes=lim.max_document_bytes, max_depth=lim.max_xml_depth, max_elements=lim.max_xml_elements)


def root_of(data: bytes) -> tuple[str, str] | None:
    """(namespace, local name) of the root element, read cheaply from the first bytes; ``None`` if unclear."""
    head = data[:16384]
    pos = 0
    while True:
        start = head.find(b"<", pos)
        if start < 0:
            return None
        if head.startswith((b"<?", b"<!--", b"<!"), start):
            end = head.find(b"-->" if head.startswith(b"<!--", start) else b">", start)
            if end < 0:
                return None
            pos = end + 1
            continue
        m = _ROOT.match(head, start)
        if m is None:
            return None
        tag_end = head.find(b">", start)
        tag = head[start : tag_end if tag_end > 0 else len(head)]
        prefix = b":" + m.group(1) if m.group(1) else b""
        ns = re.search(_PREFIX_DECL % re.escape(prefix), tag)
        return (ns.group(1).decode("utf-8", "replace") if ns else "", m.group(2).decode("utf-8", "replace"))


class UblCodec:
    """Reads and writes UBL 2.1 Invoice, CreditNote, Order, OrderChange, OrderResponse, DespatchAdvice and
    ApplicationResponse."""

    name = "ubl"
    counters: tuple[str, ...] = ()

    def __init__(self, validators: OfficialValidators | None = None, *, schemas_dir: Path | None = None) -> None:
        self.validators = validators or OfficialValidators(schemas_dir)

    def sniff(self, data: bytes) -> bool:
        root = root_of(data)
        return root is not None and root[1] in ROOTS and root[0] == f"{UBL_DOC}{root[1]}-2"

    # --- decoding ------------------------------------------------------------------------------------

    def _tree(self, data: bytes, options: CodecOptions) -> etree._ElementTree:
        return parse_xml(data, xml_limits(options))

    def _kind(self, root: etree._Element) -> tuple[str, Read, str]:
        q = etree.QName(root)
        entry = ROOTS.get(q.localname)
        if entry is None or q.namespace != f"{UBL_DOC}{q.localname}-2":
            raise UnknownDocumentTypeError(
                f"the root element {q.localname} ({q.namespace or 'no namespace'}) "
                "is not a UBL document the gateway reads",
                location=Location(xpath=f"/{q.localname}", line=root.sourceline),
                hint=f"UBL 2.1 documents read: {', '.join(ROOTS)}",
            )
        return entry

    def envelope(self, data: bytes, options: CodecOptions) -> EnvelopeInfo:
        root = self._tree(data, options).getroot()
        kind, _, issuer = self._kind(root)
        party = root.find(issuer, NS)
        sender = qualifier = None
        if party is not None:
            ident = party.find("cbc:EndpointID", NS)
            if ident is None:
                ident = party.find("cac:PartyIdentification/cbc:ID", NS)
            if ident is not None and ident.text:
                sender, qualifier = ident.text.strip(), ident.get("schemeID")
        receiver = root.find("cac:ReceiverParty/cbc:EndpointID", NS)
        return EnvelopeInfo(
            sender=sender,
            sender_qualifier=qualifier,
            recipient=receiver.text.strip() if receiver is not None and receiver.text else None,
            interchange_ref=root.findtext("cbc:ID", namespaces=NS),
            document_type=kind,
        )

    def unit_of(self, tree: etree._ElementTree, meta: dict[str, Any]) -> Unit:
        root = tree.getroot()
        kind, _, _ = self._kind(root)
        ref = root.findtext("cbc:ID", namespaces=NS)
        return Unit(document_type=kind, ref=ref.strip() if ref else None, native=tree, meta=meta)

    def split(self, data: bytes, options: CodecOptions) -> list[Unit]:
        return [self.unit_of(self._tree(data, options), {"raw": data})]

    # --- checking ------------------------------------------------------------------------------------

    def validate(self, unit: Unit, options: CodecOptions) -> list[GatewayError]:
        """XSD (when installed) and, for invoices, the EN 16931 rules (when installed with saxonche)."""
        tree: etree._ElementTree = unit.native
        q = etree.QName(tree.getroot())
        is_invoice = unit.document_type == "invoice"
        findings = self.validators.off_warnings(q.namespace or "", q.localname, invoice=is_invoice, syntax="ubl")
        schema = self.validators.xsd(q.namespace or "", q.localname)
        if schema is not None:
            findings.extend(validate_xsd(tree, schema))
        if is_invoice and not any(f.severity == "error" for f in findings):
            rules = self.validators.cen("ubl")
            if rules is not None:
                findings.extend(rules.run(tree, PREFIXES))
        return findings

    # --- mapping -------------------------------------------------------------------------------------

    def to_canonical(self, unit: Unit, options: CodecOptions) -> Document:
        tree: etree._ElementTree = unit.native
        root = tree.getroot()
        _, read, _ = self._kind(root)
        reader = Reader()
        unit.meta["reader"] = reader
        data = read(reader, root)
        data["source"] = {
            "format": self.name,
            "message_ref": unit.ref,
            "message_type": f"UBL {etree.QName(root).localname} 2.1",
        }
        try:
            return document_from_data(data)
        except DocumentRejected as exc:
            self.locate(exc.errors, unit)
            raise
        except GatewayError as exc:
            self.locate([exc], unit)
            raise

    def locate(self, errors: list[GatewayError], unit: Unit) -> None:
        """Turn the canonical field of each error (business rules, field errors) into XPath and line."""
        reader = unit.meta.get("reader")
        locate_errors(errors, reader if isinstance(reader, Reader) else None)

    # --- rendering -----------------------------------------------------------------------------------

    def render_tree(self, document: Document, options: CodecOptions) -> etree._Element:
        """The UBL element tree of a canonical document (schema order)."""
        exchange = options.partner.exchange(document.document_type, "outbound") if options.partner else None
        spec = exchange.customization_id if exchange else None
        try:
            if isinstance(document, Invoice):
                profile = invoice.PEPPOL_BILLING[1] if spec == invoice.PEPPOL_BILLING[0] else None
                return invoice.write_invoice(document, (spec, profile))
            if isinstance(document, Order):
                return order.write_order(document, (spec, None))
            if isinstance(document, OrderResponse):
                return responses.write_order_response(document)
            if isinstance(document, DespatchAdvice):
                return responses.write_despatch_advice(document)
            return responses.write_application_response(document)
        except ValueError as exc:  # an element out of place: a writer bug, reported, never a traceback
            raise MappingError(f"cannot write UBL: {exc}") from None

    def from_canonical(self, document: Document, options: CodecOptions) -> bytes:
        root = self.render_tree(document, options)
        return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
