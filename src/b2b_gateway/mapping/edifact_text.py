"""A small EDIFACT reader and writer, standing in until the EDIFACT codec (issue 3) is registered.

It reads UNA/UNB … UNZ interchanges into :class:`~b2b_gateway.formats.edifact.model.EdifactMessage`
values (segments with positions; no validation) and writes messages into an interchange. The
mapping-driven :class:`StandInEdifactCodec` uses it so that EDIFACT partners can be mapped and
tested with ``mappings test`` whatever the state of the full codec; ``default_registry`` prefers the
full codec when it is installed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from b2b_gateway.canonical.documents import Document
from b2b_gateway.errors import DocumentRejected, EdifactSyntaxError, GatewayError, Location
from b2b_gateway.formats.edifact.model import DEFAULT_DELIMITERS, Delimiters, EdifactMessage, Segment
from b2b_gateway.mapping.catalog import MappingSource
from b2b_gateway.mapping.codec import CodecOptions, EnvelopeInfo, Unit
from b2b_gateway.mapping.edifact_mapping import DOCUMENT_OF_MESSAGE, EdifactMapper

__all__ = ["StandInEdifactCodec", "read_interchange", "write_interchange"]


def _split(text: str, sep: str, release: str) -> list[str]:
    out, current, i = [], "", 0
    while i < len(text):
        ch = text[i]
        if ch == release and i + 1 < len(text):
            current += text[i + 1]
            i += 2
            continue
        if ch == sep:
            out.append(current)
            current = ""
        else:
            current += ch
        i += 1
    out.append(current)
    return out


def _raw_split(text: str, sep: str, release: str) -> list[str]:
    """Split at ``sep`` but keep release characters (components are split later)."""
    out, start, i = [], 0, 0
    while i < len(text):
        if text[i] == release:
            i += 2
            continue
        if text[i] == sep:
            out.append(text[start:i])
            start = i + 1
        i += 1
    out.append(text[start:])
    return out


def read_interchange(data: bytes) -> tuple[dict[str, Any], list[EdifactMessage]]:
    """The UNB fields and the messages of an interchange. Raises DocumentRejected when unreadable."""
    text = data.decode("latin-1").lstrip("\ufeff \r\n")
    d = DEFAULT_DELIMITERS
    if text.startswith("UNA"):
        u = text[3:9]
        d = Delimiters(u[0], u[1], u[2], u[3], u[4], u[5], explicit=True)
        text = text[9:]
    segments: list[Segment] = []
    line = 1
    for number, raw in enumerate(_raw_split(text, d.terminator, d.release), start=1):
        body = raw.strip("\r\n")
        line += raw.count("\n")
        if not body.strip():
            continue
        parts = _raw_split(body, d.element, d.release)
        elements = [_split(p, d.component, d.release) for p in parts[1:]]
        segments.append(Segment(parts[0].strip(), elements, line=line, number=number))
    if not segments or segments[0].tag != "UNB":
        raise DocumentRejected([EdifactSyntaxError("an interchange starts with UNA or UNB", location=Location(line=1))])
    unb = segments[0]
    envelope = {
        "syntax": unb.value(1, 1),
        "sender": unb.value(2, 1),
        "sender_qualifier": unb.value(2, 2) or None,
        "recipient": unb.value(3, 1),
        "recipient_qualifier": unb.value(3, 2) or None,
        "reference": unb.value(5, 1),
        "ack_request": unb.value(9, 1) == "1",
        "test": unb.value(11, 1) == "1",
    }
    messages: list[EdifactMessage] = []
    current: list[Segment] = []
    for seg in segments[1:]:
        if seg.tag == "UNH":
            current = [seg]
        elif current:
            seg.position = len(current) + 1
            current.append(seg)
            if seg.tag == "UNT":
                head = current[0]
                head.position = 1
                messages.append(
                    EdifactMessage(
                        ref=head.value(1),
                        type=head.value(2, 1),
                        version=head.value(2, 2),
                        release=head.value(2, 3),
                        agency=head.value(2, 4),
                        association=head.value(2, 5) or None,
                        segments=current,
                        interchange_ref=str(envelope["reference"]),
                    )
                )
                current = []
    return envelope, messages


def _escape(value: str, d: Delimiters) -> str:
    for ch in d.release + d.component + d.element + d.terminator:
        value = value.replace(ch, d.release + ch)
    return value


def _render(seg: Segment, d: Delimiters) -> str:
    elements = []
    for comps in seg.trimmed():
        elements.append(d.component.join(_escape(c, d) for c in comps))
    return d.element.join([seg.tag, *elements]) + d.terminator


def write_interchange(
    messages: list[EdifactMessage],
    *,
    sender: tuple[str, str | None],
    recipient: tuple[str, str | None],
    reference: str,
    syntax: str = "UNOC:3",
    when: dt.datetime | None = None,
    test: bool = False,
) -> bytes:
    """An interchange (UNA, UNB, the messages, UNZ), one segment a line."""
    d = DEFAULT_DELIMITERS
    moment = when or dt.datetime.now()
    unb = Segment(
        "UNB",
        [
            syntax.split(":"),
            [sender[0], sender[1] or ""],
            [recipient[0], recipient[1] or ""],
            [moment.strftime("%y%m%d"), moment.strftime("%H%M")],
            [reference],
        ]
        + ([[""], [""], [""], [""], [""], ["1"]] if test else []),
    )
    lines = [d.una, _render(unb, d)]
    lines += [_render(s, d) for m in messages for s in m.segments]
    lines.append(_render(Segment("UNZ", [[str(len(messages))], [reference]]), d))
    return ("\n".join(lines) + "\n").encode("latin-1", "replace")


class StandInEdifactCodec:
    """EDIFACT through mapping files, with the stand-in reader and writer (no structure validation)."""

    name = "edifact"
    counters: tuple[str, ...] = ("interchange", "message")

    def __init__(self, mappings: MappingSource) -> None:
        self.mapper = EdifactMapper(mappings)
        self.mappings = mappings

    @property
    def company(self) -> Any:
        """This gateway's own profile (``mappings/_self.yaml``), when the source has one."""
        return getattr(self.mappings, "company", None)

    def sniff(self, data: bytes) -> bool:
        return data.lstrip(b"\xef\xbb\xbf \r\n")[:3] in (b"UNA", b"UNB")

    def envelope(self, data: bytes, options: CodecOptions) -> EnvelopeInfo:
        env, messages = read_interchange(data)
        kind = DOCUMENT_OF_MESSAGE.get(messages[0].type) if messages else None
        return EnvelopeInfo(
            sender=env["sender"],
            sender_qualifier=env["sender_qualifier"],
            recipient=env["recipient"],
            recipient_qualifier=env["recipient_qualifier"],
            interchange_ref=env["reference"],
            document_type=kind,
            test=env["test"],
            ack_requested=bool(env["ack_request"]),
        )

    def split(self, data: bytes, options: CodecOptions) -> list[Unit]:
        _, messages = read_interchange(data)
        return [Unit(DOCUMENT_OF_MESSAGE.get(m.type, m.type), m.ref, m) for m in messages]

    def validate(self, unit: Unit, options: CodecOptions) -> list[GatewayError]:
        return []

    def to_canonical(self, unit: Unit, options: CodecOptions) -> Document:
        message: EdifactMessage = unit.native
        return self.mapper.to_canonical(message, options)

    def from_canonical(self, document: Document, options: CodecOptions) -> bytes:
        message = self.mapper.from_canonical(document, options)
        partner = options.partner
        them = next((i for i in (partner.identifiers if partner else []) if i.kind == "edifact"), None)
        us = next((i for i in (self.company.identifiers if self.company else []) if i.kind == "edifact"), None)
        return write_interchange(
            [message],
            sender=(us.value, us.qualifier) if us else ("GATEWAY", None),
            recipient=(them.value, them.qualifier) if them else ((partner.id if partner else "PARTNER"), None),
            reference=options.references.get("interchange", "1"),
            when=_fixed_time(options),
            test=bool(partner and partner.test_mode),
        )


def _fixed_time(options: CodecOptions) -> dt.datetime | None:
    stamp = options.references.get("timestamp")
    return dt.datetime.fromisoformat(stamp) if stamp else None
