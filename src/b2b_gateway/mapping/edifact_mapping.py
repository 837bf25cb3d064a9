"""EDIFACT messages <-> canonical documents through mapping files: the mapper the EDIFACT codec uses.

For a partner's message, the mapping is the partner's own (its profile names a mapping file for the
exchange) or else the standard one for the message's document type (``mappings/_standard/…``, the
EANCOM D96A files that ship with the gateway).
"""

from __future__ import annotations

from dataclasses import replace

from b2b_gateway.canonical.documents import Document
from b2b_gateway.errors import Location, MappingConfigError, UnknownDocumentTypeError
from b2b_gateway.formats.edifact.model import EdifactMessage, Group
from b2b_gateway.mapping.catalog import MappingSource
from b2b_gateway.mapping.codec import CodecOptions
from b2b_gateway.mapping.edifact.codec import OutboundMessage
from b2b_gateway.mapping.mapped import canonical_from_tree, tree_from_canonical
from b2b_gateway.mapping.paths.edifact import EdifactSyntax, build_tree
from b2b_gateway.mapping.plan import CompiledMapping
from b2b_gateway.partners.profile import PartnerProfile

__all__ = ["DOCUMENT_OF_MESSAGE", "EdifactMapper"]

DOCUMENT_OF_MESSAGE = {
    "ORDERS": "order",
    "ORDRSP": "order_response",
    "DESADV": "despatch_advice",
    "INVOIC": "invoice",
}
"""EDIFACT message type -> canonical document type."""


class EdifactMapper:
    """Maps EDIFACT messages to canonical and back with the partner's (or the standard) mapping files."""

    def __init__(self, mappings: MappingSource) -> None:
        self.mappings = mappings

    def mapping(self, partner_id: str | None, document: str, direction: str) -> CompiledMapping:
        """The mapping for ``document`` in ``direction`` with ``partner_id``.

        Raises:
            MappingConfigError: neither the partner nor the standard mappings have one.
        """
        found = self.mappings.catalog().mapping_for(partner_id, document, direction, "edifact")
        if found is None:
            raise MappingConfigError(
                f"no EDIFACT mapping for {direction} {document} documents"
                + (f" of partner {partner_id}" if partner_id else ""),
                hint="name a mapping file in the partner's profile, or add a standard one under mappings/_standard/",
            )
        return found

    def to_canonical(self, message: EdifactMessage, options: CodecOptions) -> Document:
        """The canonical document of ``message``. Raises DocumentRejected with every error, located."""
        document = DOCUMENT_OF_MESSAGE.get(message.type)
        if document is None:
            raise UnknownDocumentTypeError(
                f"{message.type} messages are not mapped to canonical documents",
                location=message.location(),
                hint=f"mapped message types: {', '.join(DOCUMENT_OF_MESSAGE)}",
            )
        partner = options.partner.id if options.partner else None
        mapping = self.mapping(partner, document, "inbound")
        syntax = mapping.syntax
        assert isinstance(syntax, EdifactSyntax)
        if mapping.spec.message != message.type:
            raise MappingConfigError(
                f"mapping {mapping.file} is for {mapping.spec.message}, the message is {message.type}",
                location=Location(mapping=mapping.file),
            )
        tree = message.root if message.root is not None else build_tree(message.segments, syntax.message)
        kind = ":".join(
            p for p in (message.type, message.version, message.release, message.agency, message.association) if p
        )
        source = {
            "format": "edifact",
            "interchange_ref": message.interchange_ref,
            "message_ref": message.ref,
            "message_type": kind,
            "sender": partner,
        }
        context = Location(message=message.ref, interchange=message.interchange_ref)

        def where(loc: Location) -> Location:
            return loc.merge(context) if loc.segment else replace(context.merge(loc), json_pointer=None)

        return canonical_from_tree(mapping, tree, source=source, where=where)

    @property
    def company(self) -> PartnerProfile | None:
        """This gateway's own profile (``mappings/_self.yaml``), when the source has one."""
        company = getattr(self.mappings, "company", None)
        return company if isinstance(company, PartnerProfile) else None

    def from_canonical(self, document: Document, options: CodecOptions) -> OutboundMessage:
        """The message body for ``document`` in the partner's dialect, addressed from our company profile.

        The EDIFACT codec wraps it in UNH/UNT and UNB/UNZ with the allocated references.
        """
        partner = options.partner.id if options.partner else None
        mapping = self.mapping(partner, document.document_type, "outbound")
        tree: Group = tree_from_canonical(mapping, document)
        body = [s for s in tree.walk() if s.tag not in ("UNH", "UNT")]
        spec = mapping.spec
        directory = spec.directory or "D96A"
        us = next((i for i in (self.company.identifiers if self.company else []) if i.kind == "edifact"), None)
        return OutboundMessage(
            segments=body,
            message_type=spec.message,
            version=directory[0],
            release=directory[1:],
            association=spec.association,
            sender=us.value if us else None,
            sender_qualifier=us.qualifier if us else None,
        )
