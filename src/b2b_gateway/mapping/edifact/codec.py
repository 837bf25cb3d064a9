"""The EDIFACT codec: the reader, validator and writer of :mod:`b2b_gateway.formats.edifact` in the pipeline.

* ``split``: one :class:`~b2b_gateway.mapping.codec.Unit` per message (``native`` is the
  :class:`~b2b_gateway.formats.edifact.model.EdifactMessage`; ``raw`` is a standalone interchange of
  that message alone: the original UNA/UNB (and UNG), the message's bytes, a UNE/UNZ for one).
  Interchange-level errors reject the whole input; a message's own reading errors (a UNT count, say)
  reject only that message, in ``validate``.
* ``validate``: the message's reading findings, the directory-driven structure validation and the
  partner's narrowing.
* ``to_canonical`` / ``from_canonical``: CONTRL and APERAK become canonical status documents here;
  business messages go through the injected :class:`EdifactMapper` (the declarative mapping engine),
  and without one a :class:`~b2b_gateway.errors.MappingConfigError` says so.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from b2b_gateway.canonical.documents import Document
from b2b_gateway.errors import DocumentRejected, GatewayError, Location, MappingConfigError, MissingError
from b2b_gateway.formats.edifact.model import EdifactMessage, FunctionalGroup, Interchange, Segment
from b2b_gateway.formats.edifact.reader import read, read_header
from b2b_gateway.formats.edifact.stream import StreamedMessage, StreamReader
from b2b_gateway.formats.edifact.validator import validate_message
from b2b_gateway.formats.edifact.writer import message_segments, render_segment, write_interchange
from b2b_gateway.mapping.codec import CodecOptions, EnvelopeInfo, Unit
from b2b_gateway.mapping.edifact.policy import narrowing_problems, narrowing_rules, reader_options, relaxed
from b2b_gateway.mapping.edifact.status import status_document
from b2b_gateway.partners.profile import PartnerProfile

__all__ = ["DOCUMENT_TYPES", "MESSAGE_TYPES", "EdifactCodec", "EdifactMapper", "EdifactUnitStream", "OutboundMessage"]

DOCUMENT_TYPES = {
    "ORDERS": "order",
    "ORDRSP": "order_response",
    "ORDCHG": "order_change",
    "DESADV": "despatch_advice",
    "INVOIC": "invoice",
    "CONTRL": "status",
    "APERAK": "status",
}
"""EDIFACT message type -> canonical document type (``Unit.document_type``)."""
MESSAGE_TYPES = {
    "order": "ORDERS",
    "order_response": "ORDRSP",
    "order_change": "ORDCHG",
    "despatch_advice": "DESADV",
    "invoice": "INVOIC",
    "status": "APERAK",
}
"""Canonical document type -> EDIFACT message type written by default."""
_START = re.compile(rb"^(?:\xef\xbb\xbf)?\s*UN[AB]")


@dataclass(slots=True)
class OutboundMessage:
    """What a mapper makes of a canonical document: the message body and, optionally, its addressing.

    ``segments`` is the body (BGM … without UNH/UNT), or a whole UNH … UNT (its count is redone).
    Anything left ``None`` comes from the partner's exchange settings or the defaults (D96A, EAN008).
    """

    segments: list[Segment]
    message_type: str | None = None
    version: str = "D"
    release: str | None = None
    agency: str = "UN"
    association: str | None = None
    sender: str | None = None
    sender_qualifier: str | None = None
    recipient: str | None = None
    recipient_qualifier: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class EdifactMapper(Protocol):
    """Maps business messages (ORDERS, ORDRSP, DESADV, INVOIC …) to and from canonical documents."""

    def to_canonical(self, message: EdifactMessage, options: CodecOptions) -> Document:
        """The canonical document of ``message``. Raises DocumentRejected with located mapping errors."""
        ...

    def from_canonical(self, document: Document, options: CodecOptions) -> OutboundMessage | list[Segment]:
        """The message for ``document`` (body segments, or an :class:`OutboundMessage`)."""
        ...


def _edifact_id(partner: PartnerProfile | None) -> tuple[str | None, str | None]:
    if partner is None:
        return None, None
    ident = next((i for i in partner.identifiers if i.kind == "edifact"), None)
    ident = ident or next((i for i in partner.identifiers if i.kind == "gln"), None)
    if ident is None:
        return None, None
    return ident.value, ident.qualifier or ("14" if ident.kind == "gln" else None)


class EdifactCodec:
    """UN/EDIFACT in the pipeline (name ``edifact``, counters ``interchange`` and ``message``)."""

    name = "edifact"
    counters: tuple[str, ...] = ("interchange", "message")

    def __init__(
        self,
        mapper: EdifactMapper | None = None,
        *,
        sender: str | None = None,
        sender_qualifier: str | None = None,
        syntax_id: str = "UNOC",
        syntax_version: str = "3",
    ) -> None:
        """Args:
        mapper: maps business messages; without one only CONTRL/APERAK map (to status documents).
        sender, sender_qualifier: our UNB identification when the mapper does not give one.
        syntax_id, syntax_version: what outbound interchanges declare.
        """
        self.mapper = mapper
        self.sender, self.sender_qualifier = sender, sender_qualifier
        self.syntax_id, self.syntax_version = syntax_id, syntax_version

    # --- reading ------------------------------------------------------------------------------------

    def sniff(self, data: bytes) -> bool:
        return bool(_START.match(data[:64]))

    def envelope(self, data: bytes, options: CodecOptions) -> EnvelopeInfo:
        ic = read_header(data)
        return EnvelopeInfo(
            sender=ic.sender or None,
            sender_qualifier=ic.sender_qualifier,
            recipient=ic.recipient or None,
            recipient_qualifier=ic.recipient_qualifier,
            interchange_ref=ic.control_ref or None,
            test=ic.test,
            ack_requested=ic.ack_request,
        )

    def split(self, data: bytes, options: CodecOptions) -> list[Unit]:
        result = read(data, reader_options(options))
        fatal = [*result.errors, *(e for ic in result.interchanges for e in ic.errors)]
        if any(e.severity == "error" for e in fatal) or not any(ic.messages for ic in result.interchanges):
            raise DocumentRejected(result.findings or _empty())
        units: list[Unit] = []
        total = sum(len(ic.messages) for ic in result.interchanges)
        for ic in result.interchanges:
            for index, msg in enumerate(ic.messages):
                warnings = [e for e in msg.errors if e.severity == "warning"]
                if index == 0:
                    warnings = [*(e for e in ic.errors if e.severity == "warning"), *warnings]
                units.append(
                    Unit(
                        document_type=DOCUMENT_TYPES.get(msg.type, msg.type.lower() or "unknown"),
                        ref=msg.ref or None,
                        native=msg,
                        raw=None if total == 1 else _standalone(data, ic, msg),
                        warnings=warnings,
                        meta={"interchange": ic, "interchange_ref": ic.control_ref, "message_type": msg.type},
                    )
                )
        units[0].warnings[:0] = [e for e in result.errors if e.severity == "warning"]
        return units

    def stream_split(self, chunks: Iterable[bytes], options: CodecOptions) -> EdifactUnitStream:
        """The messages of an interchange read as a stream (:class:`EdifactUnitStream`)."""
        return EdifactUnitStream(StreamReader(chunks, reader_options(options)))

    def validate(self, unit: Unit, options: CodecOptions) -> list[GatewayError]:
        msg = unit.native
        if not isinstance(msg, EdifactMessage):
            raise MappingConfigError("the EDIFACT codec was given a unit it did not split")
        if options.partner is not None:
            problems = narrowing_problems(options.partner)
            if problems:
                raise problems[0]
        ic = unit.meta.get("interchange")
        reading = [e for e in msg.errors if e.severity == "error"]
        found = validate_message(
            msg, ic if isinstance(ic, Interchange) else None, rules=narrowing_rules(options.partner)
        )
        return relaxed([*reading, *found], options.partner)

    def to_canonical(self, unit: Unit, options: CodecOptions) -> Document:
        msg = unit.native
        ic = unit.meta.get("interchange")
        if not isinstance(msg, EdifactMessage):
            raise MappingConfigError("the EDIFACT codec was given a unit it did not split")
        if msg.type in ("CONTRL", "APERAK"):
            return status_document(msg, ic if isinstance(ic, Interchange) else None)
        if self.mapper is None:
            raise MappingConfigError(
                f"no EDIFACT mapping is configured: {msg.type} messages cannot be mapped to canonical",
                location=msg.location(),
                hint="the gateway wires the declarative mapping engine (mappings/) into EdifactCodec(mapper=…)",
            )
        return self.mapper.to_canonical(msg, options)

    # --- writing ------------------------------------------------------------------------------------

    def from_canonical(self, document: Document, options: CodecOptions) -> bytes:
        if self.mapper is None:
            raise MappingConfigError(
                f"no EDIFACT mapping is configured: a {document.document_type} cannot be written as EDIFACT",
                hint="the gateway wires the declarative mapping engine (mappings/) into EdifactCodec(mapper=…)",
            )
        made = self.mapper.from_canonical(document, options)
        out = made if isinstance(made, OutboundMessage) else OutboundMessage(list(made))
        return self.write(out, document.document_type, options, test=document.test)

    def write(self, out: OutboundMessage, document_type: str, options: CodecOptions, *, test: bool = False) -> bytes:
        """An interchange of one message for the partner in ``options``, with the allocated references."""
        partner = options.partner
        exchange = partner.exchange(document_type, "outbound") if partner else None
        message_ref = options.references.get("message", "1")
        body = out.segments
        if body and body[0].tag == "UNH":
            unh = body[0]
            body = body[1:-1] if body[-1].tag == "UNT" else body[1:]
            out.message_type = out.message_type or unh.value(2, 1)
            out.release = out.release or unh.value(2, 3)
            out.association = out.association or unh.value(2, 5) or None
        message_type = out.message_type or (exchange.message_type if exchange else None)
        message_type = message_type or MESSAGE_TYPES.get(document_type, document_type.upper())
        version = (exchange.version if exchange and exchange.version else None) or f"D{out.release or '96A'}"
        # An exchange's association "" means none (plain UN messages); unset means EANCOM (EAN008).
        configured = exchange.association if exchange else None
        association = out.association or (configured if configured is not None else "EAN008") or None
        recipient, recipient_qualifier = _edifact_id(partner)
        segments = message_segments(
            message_ref, message_type, out.version, out.release or version[1:], out.agency, association, body
        )
        sender = out.sender or self.sender
        if not sender or not (out.recipient or recipient):
            raise MappingConfigError(
                "cannot address the EDIFACT interchange: "
                + ("no sender identification" if not sender else "the partner has no edifact or gln identifier"),
                hint="give the partner an identifier of kind edifact (with its 0007 qualifier)",
            )
        return write_interchange(
            [segments],
            sender=sender,
            sender_qualifier=out.sender_qualifier or self.sender_qualifier,
            recipient=out.recipient or recipient or "",
            recipient_qualifier=out.recipient_qualifier or recipient_qualifier,
            control_ref=options.references.get("interchange", "1"),
            syntax_id=self.syntax_id,
            syntax_version=self.syntax_version,
            test=test or bool(partner and partner.test_mode),
            prepared=_prepared(options),
            ack_request=bool(partner and partner.acknowledgments.expect_contrl),
        )


def _prepared(options: CodecOptions) -> datetime | None:
    """UNB preparation time from ``references["timestamp"]`` (ISO 8601), for reproducible output."""
    stamp = options.references.get("timestamp")
    if not stamp:
        return None
    try:
        return datetime.fromisoformat(stamp)
    except ValueError:
        raise MappingConfigError(f"references['timestamp'] {stamp!r} is not an ISO 8601 date-time") from None


def _empty() -> list[GatewayError]:
    return [MissingError("the interchange holds no message", location=Location(segment="UNH"))]


class EdifactUnitStream:
    """The units of an interchange read by a :class:`~b2b_gateway.formats.edifact.stream.StreamReader`.

    Each unit is what :meth:`EdifactCodec.split` makes of the message (``raw`` always a standalone
    interchange of it); the interchange's warnings known by its first message go with that message.
    :meth:`settle` puts a stub of each processed message (its S009 and its findings, no segments) back
    into its interchange, so that a CONTRL for the whole input can be built from :attr:`interchanges`.
    """

    def __init__(self, reader: StreamReader) -> None:
        self.reader = reader
        self.messages = 0

    @property
    def interchanges(self) -> list[Interchange]:
        return self.reader.result.interchanges

    def __iter__(self) -> Iterator[Unit]:
        first: set[int] = set()
        for sm in self.reader:
            self.messages += 1
            msg, ic = sm.message, sm.interchange
            warnings = [e for e in msg.errors if e.severity == "warning"]
            if id(ic) not in first:
                first.add(id(ic))
                warnings = [*(e for e in ic.errors if e.severity == "warning"), *warnings]
                if self.messages == 1:
                    warnings[:0] = [e for e in self.reader.result.errors if e.severity == "warning"]
            yield Unit(
                document_type=DOCUMENT_TYPES.get(msg.type, msg.type.lower() or "unknown"),
                ref=msg.ref or None,
                native=msg,
                raw=_streamed_standalone(sm),
                warnings=warnings,
                meta={
                    "interchange": ic,
                    "interchange_ref": ic.control_ref,
                    "message_type": msg.type,
                    "group": sm.group,
                },
            )

    def findings(self) -> list[GatewayError]:
        result = self.reader.result
        return [*result.errors, *(e for ic in result.interchanges for e in ic.errors)]

    def settle(self, unit: Unit, errors: list[GatewayError]) -> None:
        msg, ic, group = unit.native, unit.meta.get("interchange"), unit.meta.get("group")
        if not isinstance(msg, EdifactMessage) or not isinstance(ic, Interchange):
            return
        where = Location(message=msg.ref or None, interchange=ic.control_ref or None)
        kept: dict[int, GatewayError] = {id(e): e for e in msg.errors}
        for err in errors:
            kept.setdefault(id(err), err.at(where))
        stub = EdifactMessage(
            ref=sys.intern(msg.ref),
            type=sys.intern(msg.type),
            version=sys.intern(msg.version),
            release=sys.intern(msg.release),
            agency=sys.intern(msg.agency),
            association=sys.intern(msg.association) if msg.association else None,
            group_ref=msg.group_ref,
            interchange_ref=msg.interchange_ref,
            errors=list(kept.values()),
        )
        ic.messages.append(stub)
        if isinstance(group, FunctionalGroup):
            group.messages.append(stub)


def _streamed_standalone(sm: StreamedMessage) -> bytes:
    """A streamed message alone in a copy of its envelope (as :func:`_standalone` makes it)."""
    d = sm.interchange.delimiters
    tail = b""
    if sm.group is not None and sm.group.header is not None:
        tail = render_segment(Segment("UNE", [["1"], [sm.group.ref]]), d).encode("latin-1")
    tail += render_segment(Segment("UNZ", [["1"], [sm.interchange.control_ref]]), d).encode("latin-1")
    return sm.envelope + sm.message.raw + tail


def _standalone(data: bytes, ic: Interchange, msg: EdifactMessage) -> bytes:
    """``msg`` alone in a copy of its envelope: UNA/UNB (UNG) as received, the message, UNE/UNZ for one."""
    d = ic.delimiters
    first = ic.groups[0].header if ic.groups and ic.groups[0].header is not None else ic.messages[0].segments[0]
    head = data[ic.start : first.offset]
    group = next((g for g in ic.groups if msg in g.messages), None)
    tail = b""
    if group is not None and group.header is not None:
        head += data[group.header.offset : group.messages[0].segments[0].offset]
        tail = render_segment(Segment("UNE", [["1"], [group.ref]]), d).encode("latin-1")
    tail += render_segment(Segment("UNZ", [["1"], [ic.control_ref]]), d).encode("latin-1")
    return head + msg.raw + tail
