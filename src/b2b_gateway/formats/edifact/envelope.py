"""Assembling tokenized segments into an interchange: UNB/UNZ, UNG/UNE, UNH/UNT and their control checks.

Control checks (UNT segment count and reference, UNE message count and reference, UNZ count and
reference) and a missing UNE/UNZ are errors or warnings per ``ReaderOptions.control_counts``: real
partners get them wrong, and the partner profile decides. A missing UNT is always an error (the
message may be cut short).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter

from b2b_gateway.errors import (
    ControlCountError,
    ControlReferenceError,
    EdifactSyntaxError,
    EnvelopeError,
    GatewayError,
    Location,
    MissingError,
    RepresentationError,
    Severity,
    UnexpectedError,
    UnsupportedSyntaxError,
)
from b2b_gateway.formats.edifact.model import (
    Delimiters,
    EdifactMessage,
    FunctionalGroup,
    Interchange,
    Segment,
    number_positions,
)

__all__ = ["Assembler", "Assembly", "assemble", "interchange_from_unb"]

_DATE6 = re.compile(r"\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\Z")
_DATE8 = re.compile(r"\d{4}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\Z")
_TIME = re.compile(r"([01]\d|2[0-3])[0-5]\d\Z")
_ENVELOPE_TAGS = frozenset({"UNA", "UNB", "UNG", "UNE", "UNZ", "UNH", "UNT"})
_ENVELOPE = re.compile("UN[ABEGHTZ]")
LIMIT = 20
"""Segments outside a message reported one by one (the rest are not listed)."""


def _envelope_indexes(segments: list[Segment], tags: list[str] | None = None) -> list[int]:
    """Indexes of the envelope segments (UNA UNB UNG UNE UNZ UNH UNT), found at C speed when all tags
    have three characters (a regular expression over the joined tags, keeping aligned matches).
    ``tags`` are the segments' tags when the tokenizer has them already."""
    if tags is None or len(tags) != len(segments):
        tags = list(map(attrgetter("tag"), segments))
    joined = "".join(tags)
    if len(joined) != 3 * len(tags):
        return [i for i, tag in enumerate(tags) if tag in _ENVELOPE_TAGS]
    return [m.start() // 3 for m in _ENVELOPE.finditer(joined) if m.start() % 3 == 0]


def _missing(seg: Segment, what: str, element: int, component: int | None = None) -> MissingError:
    return MissingError(f"{seg.tag}: {what} is missing", location=seg.location(element, component))


def interchange_from_unb(unb: Segment, delimiters: Delimiters) -> Interchange:
    """The interchange described by its UNB, with the header's own problems in ``errors``."""
    v = unb.value
    ic = Interchange(
        delimiters=delimiters,
        syntax_id=v(1, 1).upper(),
        syntax_version=v(1, 2),
        sender=v(2, 1),
        sender_qualifier=v(2, 2) or None,
        recipient=v(3, 1),
        recipient_qualifier=v(3, 2) or None,
        date=v(4, 1),
        time=v(4, 2),
        control_ref=v(5),
        header=unb,
        password=v(6, 1) or None,
        application_ref=v(7) or None,
        priority=v(8) or None,
        ack_request=v(9) == "1",
        agreement=v(10) or None,
        test=v(11) == "1",
        sender_routing=v(2, 3) or None,
        recipient_routing=v(3, 3) or None,
    )
    errors = ic.errors
    for what, element, component in (
        ("syntax identifier (S001 0001)", 1, 1),
        ("syntax version (S001 0002)", 1, 2),
        ("sender identification (S002 0004)", 2, 1),
        ("recipient identification (S003 0010)", 3, 1),
        ("date of preparation (S004 0017)", 4, 1),
        ("time of preparation (S004 0019)", 4, 2),
        ("interchange control reference (0020)", 5, None),
    ):
        if not v(element, component or 1):
            errors.append(_missing(unb, what, element, component))
    if ic.syntax_version and ic.syntax_version not in ("1", "2", "3", "4"):
        errors.append(
            UnsupportedSyntaxError(
                f"UNB syntax version {ic.syntax_version!r} is not supported (1 to 4 are)",
                location=unb.location(1, 2),
            )
        )
    _check_date_time(ic, errors)
    return ic


def _check_date_time(ic: Interchange, errors: list[GatewayError]) -> None:
    unb = ic.header
    if ic.date and not (_DATE6.match(ic.date) or _DATE8.match(ic.date)):
        errors.append(
            RepresentationError(
                f"UNB date of preparation {ic.date!r} is not a date (YYMMDD or CCYYMMDD)",
                location=unb.location(4, 1),
                contrl="12",
            )
        )
    elif ic.date and (len(ic.date) == 8) != (ic.syntax_version == "4"):
        expected = "CCYYMMDD (8 digits)" if ic.syntax_version == "4" else "YYMMDD (6 digits)"
        errors.append(
            RepresentationError(
                f"UNB date {ic.date!r}: syntax version {ic.syntax_version} expects {expected}; accepted",
                location=unb.location(4, 1),
                severity="warning",
                contrl="12",
            )
        )
    if ic.time and not _TIME.match(ic.time):
        errors.append(
            RepresentationError(
                f"UNB time of preparation {ic.time!r} is not a time (HHMM)",
                location=unb.location(4, 2),
                contrl="12",
            )
        )


@dataclass(slots=True)
class Assembly:
    """What :func:`assemble` hands back: the interchange, and where to go on reading."""

    interchange: Interchange
    restart: int | None = None
    """Offset of a UNB met before this interchange's UNZ: a new interchange starts there."""


class Assembler:
    """Sorts segments into an interchange's groups and messages (:func:`assemble`; the streaming reader feeds it
    window by window through :meth:`feed`)."""

    def __init__(
        self, ic: Interchange, segments: list[Segment], end_of: Callable[[int], int], data: bytes, control: Severity
    ):
        self.ic = ic
        self.segments = segments
        self.tags: list[str] | None = None
        """The segments' tags as the tokenizer found them (``None``: read off the segments)."""
        self.end_of = end_of
        self.data = data
        self.control: Severity = control
        self.group: FunctionalGroup | None = None
        self.msg: EdifactMessage | None = None
        self.msg_start = 0
        self.in_groups = False
        self.outside_groups = False
        self.refs: set[str] = set()
        self.counted = 0
        """Messages opened in the interchange (a streaming reader does not keep them in ``ic.messages``)."""
        self.group_counted = 0

    def run(self) -> Assembly:
        done = self.feed(1)
        if done is not None:
            return done
        self.end_of_input(None, "the input ends before UNZ")
        return Assembly(self.ic)

    def feed(self, first: int) -> Assembly | None:
        """Sort ``self.segments[first:]``; an :class:`Assembly` when the interchange ended (UNZ, or a new
        UNB), ``None`` when the segments ran out first (a message left open stays in ``self.msg``)."""
        ic, segments = self.ic, self.segments
        prev = first - 1
        for index in _envelope_indexes(segments, self.tags):
            if index < first:
                continue
            seg = segments[index]
            tag = seg.tag
            if self.msg is not None:
                if tag == "UNT":
                    self.close_message(index, seg)
                    prev = index
                    continue
                self.unclosed_message(seg, index)
            else:
                self.outside(prev + 1, index)
            prev = index
            if tag == "UNB" or tag == "UNA":
                self.end_of_input(index, f"a new interchange starts with {tag} before this one's UNZ")
                return Assembly(ic, restart=seg.offset)
            if tag == "UNH":
                self.open_message(index, seg)
            elif tag == "UNG":
                self.open_group(seg)
            elif tag == "UNE":
                self.close_group(seg)
            elif tag == "UNZ":
                self.close_interchange(index, seg)
                return Assembly(ic)
            else:
                self.outside(index, index + 1)
        if self.msg is None:
            self.outside(prev + 1, len(segments))
        return None

    def outside(self, start: int, stop: int) -> None:
        """Segments ``start`` to ``stop`` (exclusive) stand outside any message."""
        for seg in self.segments[start:stop][:LIMIT]:
            self.ic.errors.append(
                UnexpectedError(
                    f"segment {seg.tag} outside a message (between UNH and UNT)",
                    location=seg.location(),
                    contrl="33",
                )
            )

    # --- messages -----------------------------------------------------------------------------

    def open_message(self, index: int, unh: Segment) -> None:
        unh.position = 1
        v = unh.value
        msg = EdifactMessage(
            ref=v(1),
            type=v(2, 1),
            version=v(2, 2),
            release=v(2, 3),
            agency=v(2, 4),
            association=v(2, 5) or None,
            segments=[],
            common_access_ref=v(3) or None,
            group_ref=self.group.ref if self.group else None,
            interchange_ref=self.ic.control_ref,
        )
        for what, value, element, component in (
            ("message reference number (0062)", msg.ref, 1, None),
            ("message type (S009 0065)", msg.type, 2, 1),
            ("message version number (S009 0052)", msg.version, 2, 2),
            ("message release number (S009 0054)", msg.release, 2, 3),
            ("controlling agency (S009 0051)", msg.agency, 2, 4),
        ):
            if not value:
                msg.errors.append(_missing(unh, what, element, component))
        if msg.ref and msg.ref in self.refs:
            msg.errors.append(
                EnvelopeError(
                    f"message reference {msg.ref!r} is used twice in interchange {self.ic.control_ref}",
                    location=unh.location(1),
                    severity="warning",
                    contrl="26",
                )
            )
        self.refs.add(msg.ref)
        self.counted += 1
        if self.group is not None:
            self.group_counted += 1
            self.group.messages.append(msg)
            self.in_groups = True
        else:
            self.outside_groups = True
        self.ic.messages.append(msg)
        self.msg, self.msg_start = msg, index

    def close_message(self, index: int, unt: Segment) -> None:
        msg = self.msg
        assert msg is not None
        msg.segments = self.segments[self.msg_start : index + 1]
        number_positions(msg.segments)
        msg.raw = self.data[msg.segments[0].offset : self.end_of(index)]
        count, ref = unt.value(1), unt.value(2)
        received = len(msg.segments)
        if count != str(received) and (not count.isdigit() or int(count) != received):
            msg.errors.append(
                ControlCountError(
                    f"UNT says the message has {count or 'no count'} segment(s) but it has {received} (UNH to UNT)",
                    location=unt.location(1),
                    severity=self.control,
                    details={"declared": count, "received": received},
                )
            )
        if ref != msg.ref:
            msg.errors.append(
                ControlReferenceError(
                    f"UNT reference {ref!r} does not match UNH reference {msg.ref!r}",
                    location=unt.location(2),
                    severity=self.control,
                )
            )
        self.msg = None

    def unclosed_message(self, seg: Segment | None, stop: int) -> None:
        """The open message ends without UNT before segment ``stop`` (``seg``, or the end of the input)."""
        msg = self.msg
        assert msg is not None
        msg.segments = self.segments[self.msg_start : stop]
        number_positions(msg.segments)
        last = stop - 1
        near = seg if seg is not None else msg.segments[-1]
        msg.errors.append(
            MissingError(
                f"message {msg.ref!r} has no UNT: {seg.tag if seg else 'the end of the input'} comes first",
                location=Location(segment="UNT", offset=near.offset, line=near.line, column=near.column),
                details={"missing": "UNT"},
            )
        )
        msg.raw = self.data[msg.segments[0].offset : self.end_of(last)]
        self.msg = None

    # --- groups and interchange --------------------------------------------------------------------

    def open_group(self, ung: Segment) -> None:
        if self.group is not None:
            self.trailer_missing("UNE", ung.location(), f"group {self.group.ref!r} has no UNE before the next UNG")
        v = ung.value
        self.group = FunctionalGroup(
            ref=v(5),
            type=v(1),
            sender=v(2, 1),
            sender_qualifier=v(2, 2) or None,
            recipient=v(3, 1),
            recipient_qualifier=v(3, 2) or None,
            agency=v(6),
            version=v(7, 1),
            release=v(7, 2),
            association=v(7, 3) or None,
            header=ung,
        )
        self.group_counted = 0
        if not self.group.ref:
            self.ic.errors.append(_missing(ung, "functional group reference number (0048)", 5))
        self.ic.groups.append(self.group)

    def close_group(self, une: Segment) -> None:
        group = self.group
        if group is None:
            self.ic.errors.append(UnexpectedError("UNE without a UNG", location=une.location(), contrl="33"))
            return
        group.trailer = une
        self.check_count(une, self.group_counted, "message(s) in the group", "UNE")
        if une.value(2) != group.ref:
            self.ic.errors.append(
                ControlReferenceError(
                    f"UNE reference {une.value(2)!r} does not match UNG reference {group.ref!r}",
                    location=une.location(2),
                    severity=self.control,
                )
            )
        self.group = None

    def close_interchange(self, index: int, unz: Segment) -> None:
        ic = self.ic
        if self.group is not None:
            self.trailer_missing("UNE", unz.location(), f"group {self.group.ref!r} has no UNE before UNZ")
            self.group = None
        ic.trailer = unz
        ic.end = self.end_of(index)
        if self.in_groups and self.outside_groups:
            ic.errors.append(
                EnvelopeError(
                    "the interchange mixes messages inside and outside functional groups",
                    location=unz.location(),
                    contrl="30",
                )
            )
        counted = len(ic.groups) if ic.groups else self.counted
        self.check_count(unz, counted, "group(s)" if ic.groups else "message(s)", "UNZ")
        if unz.value(2) != ic.control_ref:
            ic.errors.append(
                ControlReferenceError(
                    f"UNZ reference {unz.value(2)!r} does not match UNB reference {ic.control_ref!r}",
                    location=unz.location(2),
                    severity=self.control,
                )
            )

    def check_count(self, seg: Segment, received: int, what: str, tag: str) -> None:
        count = seg.value(1)
        if not count.isdigit() or int(count) != received:
            self.ic.errors.append(
                ControlCountError(
                    f"{tag} says {count or 'nothing'} but the interchange holds {received} {what}",
                    location=seg.location(1),
                    severity=self.control,
                    details={"declared": count, "received": received},
                )
            )

    def trailer_missing(self, tag: str, where: Location, text: str) -> None:
        self.ic.errors.append(MissingError(text, location=where, severity=self.control, details={"missing": tag}))

    def end_of_input(self, index: int | None, text: str) -> None:
        """The interchange stops without UNZ: at segment ``index`` (a new UNB) or at the end of the input."""
        seg = self.segments[index] if index is not None else None
        if self.msg is not None:
            self.unclosed_message(seg, index if index is not None else len(self.segments))
        if seg is None:
            end = self.end_of(len(self.segments) - 1)
            where = Location(offset=end, line=self.segments[-1].line, segment="UNZ")
        else:
            end, where = seg.offset, seg.location()
        if self.group is not None:
            self.trailer_missing("UNE", where, f"group {self.group.ref!r} has no UNE: {text}")
        self.trailer_missing("UNZ", where, f"interchange {self.ic.control_ref!r} has no UNZ: {text}")
        self.ic.end = end


def assemble(
    ic: Interchange,
    segments: list[Segment],
    end_of: Callable[[int], int],
    data: bytes,
    control: Severity,
    tags: list[str] | None = None,
) -> Assembly:
    """Sort ``segments`` (UNB first) into ``ic``'s groups and messages, checking every trailer.

    Args:
        ic: the interchange built from ``segments[0]`` (UNB) by :func:`interchange_from_unb`.
        segments: the interchange's segments as tokenized; ``end_of(i)`` is the offset after segment i.
        data: the input bytes (each message keeps its own raw bytes).
        control: the severity of control-count and reference findings (error or warning).
        tags: the segments' tags, when the tokenizer has them (saves reading them off every segment).
    """
    if not segments or segments[0].tag != "UNB":  # pragma: no cover - the reader guarantees it
        raise EdifactSyntaxError("an interchange starts with UNB")
    assembler = Assembler(ic, segments, end_of, data, control)
    assembler.tags = tags
    return assembler.run()
