"""EDIFACT messages <-> canonical documents through mapping files: the mapper the EDIFACT codec uses.

For a partner's message, the mapping is the partner's own (its profile names a mapping file for the
exchange) or else the standard one for the message's document type (``mappings/_standard/…``, the
EANCOM D96A files that ship with the gateway).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from b2b_gateway.canonical.documents import Document
from b2b_gateway.errors import Location, MappingConfigError, UnknownDocumentTypeError
from b2b_gateway.formats.edifact.model import EdifactMessage, Group, Segment
from b2b_gateway.mapping.catalog import MappingSource
from b2b_gateway.mapping.codec import CodecOptions
from b2b_gateway.mapping.mapped import canonical_from_tree, tree_from_canonical
from b2b_gateway.mapping.paths.edifact import EdifactSyntax, build_tree
from b2b_gateway.mapping.plan import CompiledMapping

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

    def from_canonical(self, document: Document, options: CodecOptions) -> EdifactMessage:
        """An EDIFACT message (UNH to UNT) for ``document``, in the partner's dialect.

        The message reference is ``options.references['message']`` (``1`` when none was allocated).
        """
        partner = options.partner.id if options.partner else None
        mapping = self.mapping(partner, document.document_type, "outbound")
        syntax = mapping.syntax
        assert isinstance(syntax, EdifactSyntax)
        tree: Group = tree_from_canonical(mapping, document)
        body = [s for s in tree.walk() if s.tag not in ("UNH", "UNT")]
        ref = options.references.get("message", "1")
        spec = mapping.spec
        directory = spec.directory or "D96A"
        s009 = [spec.message or "", directory[0], directory[1:], "UN"] + (
            [spec.association] if spec.association else []
        )
        unh = Segment("UNH", [[ref], s009])
        unt = Segment("UNT", [[str(len(body) + 2)], [ref]])
        segments = [unh, *body, unt]
        root = Group(tree.name, [unh, *tree.children, unt])
        return EdifactMessage(
            ref=ref,
            type=spec.message or "",
            version=directory[0],
            release=directory[1:],
            agency="UN",
            association=spec.association,
            segments=segments,
            root=root,
        )


def segments_of(tree: Any) -> list[Segment]:
    """The segments of a built tree, in order (what a writer serialises)."""
    return list(tree.walk()) if isinstance(tree, Group) else []
