"""Reading UN/EDIFACT bytes into interchanges, with every problem located.

    >>> result = read(b"UNB+UNOC:3+SENDER:14+RECEIVER:14+240101:1200+42'UNH+1+ORDERS:D:96A:UN'BGM+220+PO1'"
    ...               b"UNT+3+1'UNZ+1+42'")
    >>> ic = result.interchanges[0]
    >>> ic.sender, ic.control_ref, ic.messages[0].type, ic.messages[0].segments[1].value(2)
    ('SENDER', '42', 'ORDERS', 'PO1')
    >>> result.ok
    True

What is read (ISO 9735): UNA exactly as defined (nine characters, positional; the repetition position
may be a space; without UNA the defaults ``:+.? '`` apply, with ``*`` as repetition separator in
syntax 4); a UTF-8 byte-order mark and whitespace between segments; banner text before UNA/UNB and
hard-wrapped lines only when the options allow them; UNB syntax versions 1-4 (6- or 8-digit dates);
UNG/UNE groups; several interchanges in one input, each with its own UNA.

:func:`read` never raises for any input: it returns a :class:`ReadResult` whose findings (errors
and warnings) each carry a :class:`~b2b_gateway.errors.Location` (byte offset, line, column,
interchange and message reference, segment number and tag, element and component position).
:func:`parse` raises :class:`~b2b_gateway.errors.DocumentRejected` when there is an error.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field, replace
from typing import Literal

from b2b_gateway.errors import (
    DocumentRejected,
    EdifactSyntaxError,
    GatewayError,
    InputTooLargeError,
    Location,
    MissingError,
    UnsupportedSyntaxError,
)
from b2b_gateway.formats.edifact._gc import paused_gc
from b2b_gateway.formats.edifact.charsets import charset_for
from b2b_gateway.formats.edifact.checks import check_characters, distribute, in_document_order
from b2b_gateway.formats.edifact.envelope import assemble, interchange_from_unb
from b2b_gateway.formats.edifact.model import Delimiters, Interchange, Segment, Source
from b2b_gateway.formats.edifact.tokenizer import WHITESPACE, segment_end, tokenize

__all__ = ["ReadResult", "ReaderOptions", "apply_syntax", "parse", "read", "read_header", "read_una"]

_BOM = "\xef\xbb\xbf"
_START = re.compile(r"(?:^|(?<=[\r\n']))[ \t]*(UNA|UNB)")
_ALNUM = re.compile(r"[A-Za-z0-9]")


@dataclass(frozen=True, slots=True)
class ReaderOptions:
    """Per-partner strictness (built from ``ParsingPolicy`` by the codec); strict by default."""

    allow_banner: bool = False
    allow_wrapped_lines: bool = False
    control_counts: Literal["reject", "warn"] = "reject"
    charset_fallback: str = "latin-1"
    charset_violations: Literal["reject", "warn"] = "reject"
    max_segments: int = 5_000_000


@dataclass(slots=True)
class ReadResult:
    """The interchanges read, and the findings that belong to no interchange (banner, trailing data)."""

    interchanges: list[Interchange] = field(default_factory=list)
    errors: list[GatewayError] = field(default_factory=list)

    @property
    def findings(self) -> list[GatewayError]:
        """Every finding, warnings included: the input's, then each interchange's and message's."""
        return [*self.errors, *(e for ic in self.interchanges for e in ic.all_errors)]

    @property
    def ok(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)


def read_una(text: str, pos: int) -> tuple[Delimiters, list[GatewayError]]:
    """The delimiters announced by the UNA at ``pos`` (``text[pos:pos + 3] == "UNA"``), and its problems."""
    chars = text[pos + 3 : pos + 9]
    where = Location(offset=pos, segment="UNA")
    if len(chars) < 6:
        return Delimiters(explicit=True), [
            EdifactSyntaxError("UNA is cut short: it needs six service characters", location=where, contrl="20")
        ]
    comp, elem, dec, rel, rep, term = (chars[i] for i in range(6))
    errors: list[GatewayError] = []
    if dec not in ".,":
        errors.append(EdifactSyntaxError(f"UNA decimal mark {dec!r} must be '.' or ','", location=where, contrl="20"))
        dec = "."
    used = [c for c in (comp, elem, rel, term, rep) if c != " "]
    if len(set(used)) != len(used) or any(_ALNUM.match(c) for c in used):
        errors.append(
            EdifactSyntaxError(
                f"UNA service characters {chars!r} must be distinct and not letters or digits",
                location=where,
                contrl="20",
            )
        )
    if " " in (comp, elem, term):
        errors.append(EdifactSyntaxError(f"UNA {chars!r}: a separator is a space", location=where, contrl="20"))
    return Delimiters(comp, elem, dec, rel, rep, term, explicit=True), errors


def apply_syntax(ic: Interchange) -> Delimiters:
    """The delimiters ``ic`` really uses (syntax 4 repetition; a reserved UNA position ignored), checking its syntax."""
    d = ic.delimiters
    if charset_for(ic.syntax_id) is None and ic.syntax_id:
        ic.errors.append(
            UnsupportedSyntaxError(
                f"syntax identifier {ic.syntax_id!r} is not supported",
                location=ic.header.location(1, 1),
                hint="supported: UNOA to UNOL, UNOW, UNOX, UNOY, IATA, IATB",
            )
        )
    if ic.syntax_version == "4":
        if not d.explicit:
            d = Delimiters(repetition="*")
    elif d.repetition != " ":
        ic.errors.append(
            EdifactSyntaxError(
                f"UNA repetition position {d.repetition!r} is reserved before syntax version 4; ignored",
                location=Location(offset=ic.start, segment="UNA"),
                severity="warning",
            )
        )
        d = Delimiters(d.component, d.element, d.decimal, d.release, " ", d.terminator, explicit=True)
    ic.delimiters = d
    return d


def _severity(policy: str) -> Literal["error", "warning"]:
    return "warning" if policy == "warn" else "error"


class _Reader:
    def __init__(self, data: bytes, options: ReaderOptions):
        self.data = data
        self.options = options
        self.text = data.decode("latin-1")
        self.result = ReadResult()
        self.removed: list[int] = []
        self.original = self.text
        self.segments: list[Segment] = []
        self.lines = Source(self.text)

    def run(self) -> ReadResult:
        text, errors = self.text, self.result.errors
        if self.options.allow_wrapped_lines and ("\n" in text or "\r" in text):
            self.unwrap()
            text = self.text
        pos = 3 if text.startswith(_BOM) else 0
        pos = self.skip_ws(pos)
        if text[pos : pos + 3] not in ("UNA", "UNB"):
            found = _START.search(text, pos)
            if found is None or not self.options.allow_banner:
                errors.append(self.no_start(pos, found is not None))
                return self.result
            errors.append(
                EdifactSyntaxError(
                    f"{found.start(1) - pos} byte(s) of text before {found.group(1)} skipped (banner allowed)",
                    location=self.where(pos),
                    severity="warning",
                )
            )
            pos = found.start(1)
        while pos < len(text):
            pos = self.interchange(pos)
            pos = self.skip_ws(pos)
            if pos < len(text) and text[pos : pos + 3] not in ("UNA", "UNB"):
                errors.append(
                    EdifactSyntaxError(
                        f"data after the end of the interchange: {text[pos : pos + 20]!r}…",
                        location=self.where(pos),
                        hint="an interchange ends with UNZ; only another UNA/UNB may follow",
                    )
                )
                break
        self.relocate()
        return self.result

    def source(self, d: Delimiters) -> Source:
        """The shared source of one interchange's segments (same line index for the whole input)."""
        src = Source(self.text, d.element, d.component)
        src._newlines = self.lines._newlines
        return src

    def skip_ws(self, pos: int) -> int:
        text = self.text
        while pos < len(text) and text[pos] in WHITESPACE:
            pos += 1
        return pos

    def no_start(self, pos: int, later: bool) -> GatewayError:
        shown = self.text[pos : pos + 20]
        return EdifactSyntaxError(
            f"an interchange starts with UNA or UNB, this input with {shown!r}",
            location=self.where(pos),
            hint="the partner profile may allow banner text (parsing.allow_banner)" if later else None,
        )

    def where(self, offset: int) -> Location:
        line, column = self.lines.position(offset)
        return Location(offset=offset, line=line, column=column)

    def interchange(self, pos: int) -> int:
        text = self.text
        start = pos
        if text.startswith("UNA", pos):
            delimiters, problems = read_una(text, pos)
            pos = min(pos + 9, len(text))
        else:
            delimiters, problems = Delimiters(), []
        if text.count(delimiters.terminator, pos) > self.options.max_segments:
            self.result.errors.append(
                InputTooLargeError(
                    f"more than {self.options.max_segments} segments",
                    location=self.where(pos),
                    hint="limits.max_segments",
                )
            )
            return len(text)
        head = tokenize(text, pos, delimiters, src=self.source(delimiters), single=True)
        unb = head.segments[0] if head.segments else None
        if unb is None or unb.tag != "UNB":
            self.result.errors.extend(problems + head.errors)
            self.result.errors.append(
                MissingError("UNB (interchange header) expected here", location=self.where(pos), contrl="13")
            )
            return len(text)
        ic = interchange_from_unb(unb, delimiters)
        ic.errors[:0] = problems + head.errors
        ic.start = start
        delimiters = self.syntax(ic)
        scan = tokenize(text, head.end, delimiters, src=self.source(delimiters), number=1)
        segments = [unb, *scan.segments]
        if self.removed:  # offsets to map back to the input (hard-wrapped lines)
            self.segments.extend(segments)

        def end_of(index: int) -> int:
            return segment_end(text, segments[index].offset, delimiters)

        tags = [unb.tag, *scan.tags]
        done = assemble(ic, segments, end_of, self.data, _severity(self.options.control_counts), tags)
        self.result.interchanges.append(ic)
        charset = charset_for(ic.syntax_id)
        found = list(scan.errors)
        if charset is not None:
            found.extend(check_characters(ic, segments, scan.breaks, self.text, self.options, charset))
        distribute(ic, segments, found, self.text)
        in_document_order(ic.errors)
        for err in ic.errors:
            err.at(Location(interchange=ic.control_ref))
        for msg in ic.messages:
            for err in msg.errors:
                err.at(Location(interchange=ic.control_ref, message=msg.ref))
        return done.restart if done.restart is not None else scan.end

    def syntax(self, ic: Interchange) -> Delimiters:
        return apply_syntax(ic)

    # --- hard-wrapped lines ------------------------------------------------------------------------

    def unwrap(self) -> None:
        """Drop every CR and LF, remembering where, so that offsets can be mapped back."""
        original = self.text
        self.removed = [m.start() for m in re.finditer("[\r\n]", original)]
        self.text = original.replace("\r", "").replace("\n", "")
        self.data = self.text.encode("latin-1")
        self.lines = Source(self.text)

    def relocate(self) -> None:
        """Map offsets in the unwrapped text back to the input's bytes, lines and columns."""
        if not self.removed:
            return
        keys = [r - j for j, r in enumerate(self.removed)]
        newlines = [i for i, c in enumerate(self.original) if c == "\n"]

        def fix(offset: int) -> tuple[int, int, int]:
            orig = offset + bisect_right(keys, offset)
            line = bisect_right(newlines, orig - 1)
            return orig, line + 1, orig - (newlines[line - 1] + 1 if line else 0) + 1

        for seg in self.segments:
            seg.offset, seg.line, seg.column = fix(seg.offset)
        for err in self.result.findings:
            if err.location.offset is not None:
                offset, line, column = fix(err.location.offset)
                err.location = replace(err.location, offset=offset, line=line, column=column)


def read(data: bytes, options: ReaderOptions | None = None) -> ReadResult:
    """Read every interchange in ``data``; never raises for any input (see :class:`ReadResult`).

    The cyclic garbage collector is paused while reading: the reader makes hundreds of thousands of
    small objects and no reference cycles, and collections in between would cost a third of the time.
    """
    with paused_gc():
        return _Reader(data, options or ReaderOptions()).run()


def read_header(data: bytes) -> Interchange:
    """The first interchange's UNB (and UNA) only, cheaply: who sends what to whom (banner text skipped).

    Raises:
        DocumentRejected: there is no readable UNB.
    """
    head = data[:65536]
    reader = _Reader(head, ReaderOptions(allow_banner=True))
    text = reader.text
    pos = reader.skip_ws(3 if text.startswith(_BOM) else 0)
    if text[pos : pos + 3] not in ("UNA", "UNB"):
        found = _START.search(text, pos)
        if found is None:
            raise DocumentRejected([reader.no_start(pos, False)])
        pos = found.start(1)
    delimiters, problems = read_una(text, pos) if text.startswith("UNA", pos) else (Delimiters(), [])
    pos = pos + 9 if text.startswith("UNA", pos) else pos
    scan = tokenize(text, pos, delimiters, src=reader.source(delimiters), single=True)
    if not scan.segments or scan.segments[0].tag != "UNB":
        raise DocumentRejected(
            [*problems, MissingError("UNB (interchange header) expected here", location=reader.where(pos))]
        )
    return interchange_from_unb(scan.segments[0], delimiters)


def parse(data: bytes, options: ReaderOptions | None = None) -> list[Interchange]:
    """Read ``data`` and return its interchanges.

    Raises:
        DocumentRejected: there is at least one error (warnings do not count); it holds every finding.
    """
    result = read(data, options)
    if not result.ok:
        raise DocumentRejected(result.findings)
    return result.interchanges
