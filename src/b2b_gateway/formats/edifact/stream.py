"""Reading UN/EDIFACT as a stream: one message at a time from chunks of bytes, never the whole input.

    >>> chunks = [b"UNB+UNOC:3+S:14+R:14+240101:1200+42'UNH+1+ORDERS:D:96A:UN'BG", b"M+220+PO1'UNT+3+1'UNZ+1+42'"]
    >>> reader = StreamReader(chunks)
    >>> [(m.interchange.control_ref, m.message.ref, m.message.segments[1].value(2)) for m in reader]
    [('42', '1', 'PO1')]
    >>> reader.result.ok, reader.messages
    (True, 1)

The input is read in *windows* of whole messages (about ``window`` bytes, cut only where a UNT is followed
by a UNH, so no message spans two windows). Each window goes through the reader's own parts (the
tokenizer, the envelope :class:`~b2b_gateway.formats.edifact.envelope.Assembler`, the character checks)
in its own coordinates; offsets, lines and columns are then moved to the input's, so every finding is
located as :func:`~b2b_gateway.formats.edifact.reader.read` locates it. The messages of a window are
yielded, and nothing of them is kept: the interchanges in :attr:`StreamReader.result` hold their header,
groups and findings, not their messages. UNT counts are checked per message, UNE and UNZ counts when the
trailer comes (a consumer must look at ``result`` after the last message before trusting the input).

Differences from :func:`read`, by design: character findings are limited to 20 per window (not per
interchange), and an input over ``max_segments`` is cut where the limit is passed. A partner allowed
hard-wrapped lines is read whole (its line breaks must all be known before any offset is).
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import lru_cache

from b2b_gateway.errors import (
    EdifactSyntaxError,
    GatewayError,
    InputTooLargeError,
    Location,
    MissingError,
    Severity,
)
from b2b_gateway.formats.edifact._gc import paused_gc
from b2b_gateway.formats.edifact.charsets import charset_for
from b2b_gateway.formats.edifact.checks import check_characters, distribute
from b2b_gateway.formats.edifact.envelope import Assembler, Assembly, interchange_from_unb
from b2b_gateway.formats.edifact.model import (
    Delimiters,
    EdifactMessage,
    FunctionalGroup,
    Interchange,
    Segment,
    Source,
)
from b2b_gateway.formats.edifact.reader import ReaderOptions, ReadResult, apply_syntax, read, read_una
from b2b_gateway.formats.edifact.tokenizer import WHITESPACE, segment_end, tokenize

__all__ = ["StreamReader", "StreamedMessage"]

_BOM = "\xef\xbb\xbf"
_START = re.compile(r"(?:^|(?<=[\r\n']))[ \t]*(UNA|UNB)")
WINDOW = 1 << 20
"""Default window: about a megabyte of whole messages read at once."""


@dataclass(slots=True)
class StreamedMessage:
    """One message of a streamed input, with its envelope.

    ``envelope`` is the bytes before the message as received (UNA/UNB up to the first UNG or UNH, and the
    message's UNG up to its first UNH): with the message's ``raw`` and a UNE/UNZ for one, a standalone
    interchange of this message alone.
    """

    interchange: Interchange
    message: EdifactMessage
    group: FunctionalGroup | None = None
    envelope: bytes = b""


class _WindowSource(Source):
    """A :class:`Source` over one window whose lines and columns are the input's (``base`` is where the
    window starts once its offsets are the input's; 0 while they are the window's own)."""

    __slots__ = ("base", "col0", "line0")

    def __init__(self, text: str, d: Delimiters, line0: int, col0: int) -> None:
        super().__init__(text, d.element, d.component)
        self.base, self.line0, self.col0 = 0, line0, col0

    def position(self, offset: int) -> tuple[int, int]:
        line, column = Source.position(self, offset - self.base)
        return (self.line0, column + self.col0) if line == 1 else (self.line0 + line - 1, column)


class _Input:
    """The unread rest of the input as latin-1 text: ``text`` starts at byte ``base`` of the input."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self.text = ""
        self.base = 0
        self.eof = False
        self.line = 1
        self.line_start = 0

    def fill(self, size: int) -> None:
        parts, n = [self.text], len(self.text)
        while n < size and not self.eof:
            chunk = next(self._chunks, None)
            if chunk is None:
                self.eof = True
            elif chunk:
                parts.append(chunk.decode("latin-1"))
                n += len(chunk)
        self.text = "".join(parts)

    def drop(self, n: int) -> None:
        newlines = self.text.count("\n", 0, n)
        if newlines:
            self.line += newlines
            self.line_start = self.base + self.text.rfind("\n", 0, n) + 1
        self.text = self.text[n:]
        self.base += n

    def where(self, local: int) -> Location:
        newlines = self.text.count("\n", 0, local)
        if not newlines:
            return Location(offset=self.base + local, line=self.line, column=self.base + local - self.line_start + 1)
        return Location(
            offset=self.base + local, line=self.line + newlines, column=local - self.text.rfind("\n", 0, local)
        )


def _shift(errors: Iterable[GatewayError], base: int) -> None:
    for err in errors:
        if err.location.offset is not None:
            err.location = replace(err.location, offset=err.location.offset + base)


@dataclass(slots=True)
class _Window:
    """One window of an interchange being read, in its own coordinates."""

    text: str
    segments: list[Segment]
    sources: list[_WindowSource] = field(default_factory=list)
    data: bytes = b""


class StreamReader:
    """Iterate over it for the messages (:class:`StreamedMessage`); then :attr:`result` holds the
    interchanges (headers, groups, findings; no messages) and the findings of the input itself.

    It never raises for any input, like :func:`~b2b_gateway.formats.edifact.reader.read`.
    """

    def __init__(self, chunks: Iterable[bytes], options: ReaderOptions | None = None, *, window: int = WINDOW):
        self.options = options or ReaderOptions()
        self.window = max(window, 64)
        self.input = _Input(chunks)
        self.result = ReadResult()
        self.messages = 0
        """Messages read so far."""
        self.segments = 0

    def __iter__(self) -> Iterator[StreamedMessage]:
        if self.options.allow_wrapped_lines:
            yield from self._whole()
            return
        inp = self.input
        inp.fill(self.window)
        pos = 3 if inp.text.startswith(_BOM) else 0
        pos = self._skip_ws(pos)
        if inp.text[pos : pos + 3] not in ("UNA", "UNB"):
            found = _START.search(inp.text, pos)
            if found is None or not self.options.allow_banner:
                self.result.errors.append(self._no_start(pos, found is not None))
                return
            self.result.errors.append(
                EdifactSyntaxError(
                    f"{found.start(1) - pos} byte(s) of text before {found.group(1)} skipped (banner allowed)",
                    location=inp.where(pos),
                    severity="warning",
                )
            )
            pos = found.start(1)
        while pos < len(inp.text):
            inp.drop(pos)
            done = yield from self._interchange()
            if not done:
                return
            pos = self._skip_ws(0)
            if pos < len(inp.text) and inp.text[pos : pos + 3] not in ("UNA", "UNB"):
                self.result.errors.append(
                    EdifactSyntaxError(
                        f"data after the end of the interchange: {inp.text[pos : pos + 20]!r}…",
                        location=inp.where(pos),
                        hint="an interchange ends with UNZ; only another UNA/UNB may follow",
                    )
                )
                return

    def _whole(self) -> Iterator[StreamedMessage]:
        """Hard-wrapped lines allowed: read whole (offsets need every removed line break)."""
        data = b"".join(self.input._chunks)
        self.result = read(data, self.options)
        for ic in self.result.interchanges:
            messages, ic.messages = ic.messages, []
            for msg in messages:
                self.messages += 1
                group = next((g for g in ic.groups if any(m is msg for m in g.messages)), None)
                yield StreamedMessage(ic, msg, group, _envelope_of(data, ic, messages, group))

    def _skip_ws(self, pos: int) -> int:
        inp = self.input
        while True:
            while pos < len(inp.text) and inp.text[pos] in WHITESPACE:
                pos += 1
            if pos < len(inp.text) or inp.eof:
                return pos
            inp.fill(len(inp.text) + self.window)

    def _no_start(self, pos: int, later: bool) -> GatewayError:
        return EdifactSyntaxError(
            f"an interchange starts with UNA or UNB, this input with {self.input.text[pos : pos + 20]!r}",
            location=self.input.where(pos),
            hint="the partner profile may allow banner text (parsing.allow_banner)" if later else None,
        )

    def _source(self, text: str, d: Delimiters) -> _WindowSource:
        inp = self.input
        return _WindowSource(text, d, inp.line, inp.base - inp.line_start)

    # --- one interchange, window by window -----------------------------------------------------------

    def _interchange(self) -> Generator[StreamedMessage, None, bool]:
        """Read the interchange at the start of the input; returns (as the generator's value) whether to go on."""
        inp = self.input
        inp.fill(self.window)
        while not inp.eof and _header_cut(inp.text):
            inp.fill(len(inp.text) + self.window)  # the whole UNB in the buffer
        text = inp.text
        pos = 0
        if text.startswith("UNA"):
            delimiters, problems = read_una(text, 0)
            pos = min(9, len(text))
        else:
            delimiters, problems = Delimiters(), []
        self.segments = 0
        head_src = self._source(text, delimiters)
        head = tokenize(text, pos, delimiters, src=head_src, single=True)
        unb = head.segments[0] if head.segments else None
        if unb is None or unb.tag != "UNB":
            found = [*problems, *head.errors]
            _shift(found, inp.base)
            self.result.errors.extend(found)
            where = inp.where(pos)
            self.result.errors.append(
                MissingError("UNB (interchange header) expected here", location=where, contrl="13")
            )
            return False
        ic = interchange_from_unb(unb, delimiters)
        ic.errors[:0] = problems + head.errors
        ic.start = 0
        d = apply_syntax(ic)
        self.result.interchanges.append(ic)
        severity: Severity = "warning" if self.options.control_counts == "warn" else "error"
        asm = Assembler(ic, [], lambda i: 0, b"", severity)
        reader = _Interchange(self, ic, asm, d, head_src)
        return (yield from reader.run(head.end, unb))


def _envelope_of(data: bytes, ic: Interchange, messages: list[EdifactMessage], group: FunctionalGroup | None) -> bytes:
    first = ic.groups[0].header if ic.groups and ic.groups[0].header is not None else messages[0].segments[0]
    head = data[ic.start : first.offset]
    if group is not None and group.header is not None and group.messages:
        head += data[group.header.offset : group.messages[0].segments[0].offset]
    return head


class _Interchange:
    """The windows of one interchange."""

    def __init__(
        self, reader: StreamReader, ic: Interchange, asm: Assembler, d: Delimiters, head_src: _WindowSource
    ) -> None:
        self.reader, self.ic, self.asm, self.d = reader, ic, asm, d
        self.head_src = head_src
        self.prefix: bytes | None = None
        self.pending = b""
        self.group_prefix: dict[int, bytes] = {}
        self.opened: list[tuple[EdifactMessage, FunctionalGroup | None]] = []

    def run(self, start: int, unb: Segment) -> Generator[StreamedMessage, None, bool]:
        reader, inp, ic, d = self.reader, self.reader.input, self.ic, self.d
        first = True
        while True:
            cut = self._cut(start)
            text = inp.text[:cut]
            src = reader._source(text, d)
            scan = tokenize(text, start, d, src=src, number=reader.segments + 1)
            reader.segments += len(scan.segments)
            segments: list[Segment] = [unb, *scan.segments] if first else scan.segments
            window = _Window(text, segments, [src, self.head_src] if first else [src], text.encode("latin-1"))
            with paused_gc():
                done, mark = self._assemble(window, first, cut == len(inp.text) and inp.eof)
                messages = self._check(window, scan.errors, scan.breaks, scan.end, done, first)
                out = self._finish(window, messages, mark, first, done)
            stop = done.restart if done is not None and done.restart is not None else scan.end
            inp.drop(stop)
            yield from out
            if done is not None:
                return True
            if reader.segments > reader.options.max_segments:
                ic.errors.append(
                    InputTooLargeError(
                        f"more than {reader.options.max_segments} segments",
                        location=inp.where(0),
                        hint="limits.max_segments",
                    )
                )
                return False
            first, start = False, 0

    def _cut(self, start: int) -> int:
        """Where the window ends: before a UNH that follows a UNT, about ``window`` bytes in (or the end)."""
        reader, inp, d = self.reader, self.reader.input, self.d
        size = reader.window
        while True:
            inp.fill(size)
            text = inp.text
            if inp.eof and len(text) <= size:
                return len(text)
            low = max(start, size // 2)
            for m in reversed(list(_boundary(d).finditer(text, low, size))):
                term = m.start()
                before = text.rfind(d.terminator, 0, term)
                while before >= 0 and _released(text, before, d.release):
                    before = text.rfind(d.terminator, 0, before)
                if not _released(text, term, d.release) and text[before + 1 : term].lstrip(WHITESPACE)[:3] == "UNT":
                    return m.end() - 4
            size *= 2

    def _assemble(self, w: _Window, first: bool, final: bool) -> tuple[Assembly | None, int]:
        asm, ic, d = self.asm, self.ic, self.d
        mark = 0 if first else len(ic.errors)
        asm.segments = w.segments
        segments, text = w.segments, w.text
        asm.end_of = lambda i: segment_end(text, segments[i].offset, d)
        asm.data = w.data
        before = len(ic.messages)
        done = asm.feed(1 if first else 0)
        if done is None and final:
            asm.end_of_input(None, "the input ends before UNZ")
            done = Assembly(ic)
        owners = {id(m): g for g in ic.groups for m in g.messages}
        self.opened.extend((msg, owners.get(id(msg))) for msg in ic.messages[before:])
        return done, mark

    def _check(
        self, w: _Window, errors: list[GatewayError], breaks: list[int], end: int, done: Assembly | None, first: bool
    ) -> list[EdifactMessage]:
        ic = self.ic
        found = list(errors)
        charset = charset_for(ic.syntax_id)
        if charset is not None and w.segments:
            view = replace(ic, start=ic.start if first else 0, end=ic.end if done is not None else end, errors=[])
            checked = w.segments if first else [w.segments[0], *w.segments]
            found.extend(check_characters(view, checked, breaks, w.text, self.reader.options, charset))
            ic.charset = view.charset
        distribute(ic, w.segments, found, w.text)
        messages, ic.messages = ic.messages, []
        for group in ic.groups:
            group.messages = []
        for msg in messages:
            for err in msg.errors:
                err.at(Location(interchange=ic.control_ref, message=msg.ref))
        return messages

    def _finish(
        self, w: _Window, messages: list[EdifactMessage], mark: int, first: bool, done: Assembly | None
    ) -> list[StreamedMessage]:
        ic, base = self.ic, self.reader.input.base
        out = self._envelopes(w, first)
        for src in w.sources:
            src.base = base
        for seg in w.segments:
            seg.offset += base
        _shift(ic.errors[mark:], base)
        for msg in messages:
            _shift(msg.errors, base)
        if first:
            ic.start += base
        if done is not None:
            ic.end += base
            for err in ic.errors:
                err.at(Location(interchange=ic.control_ref))
        self.reader.messages += len(out)
        return out

    def _envelopes(self, w: _Window, first: bool) -> list[StreamedMessage]:
        """The messages of the window with their envelope bytes (before the offsets move)."""
        ic, out = self.ic, []
        ids = {id(s) for s in w.segments}
        start = ic.start if first else 0
        if self.prefix is None:
            firsts = [g.header for g in ic.groups if g.header is not None][:1] or [
                m.segments[0] for m, _ in self.opened[:1]
            ]
            if firsts and id(firsts[0]) in ids:
                self.prefix = self.pending + w.data[start : firsts[0].offset]
            else:
                self.pending += w.data[start:]
        for msg, group in self.opened:
            key = id(group)
            if group is not None and key not in self.group_prefix and group.header is not None:
                inside = id(group.header) in ids
                self.group_prefix[key] = w.data[group.header.offset : msg.segments[0].offset] if inside else b""
            envelope = (self.prefix or b"") + (self.group_prefix.get(key, b"") if group is not None else b"")
            out.append(StreamedMessage(ic, msg, group, envelope))
        self.opened = []
        return out


def _header_cut(text: str) -> bool:
    """Whether ``text`` (an interchange's start) ends before its UNB's terminator could be seen."""
    una = text.startswith("UNA")
    return len(text) < 9 or text.find(text[8] if una else "'", 9 if una else 0) < 0


@lru_cache(maxsize=32)
def _boundary(d: Delimiters) -> re.Pattern[str]:
    """A segment terminator, whitespace, and the start of a UNH."""
    return re.compile(f"{re.escape(d.terminator)}[{re.escape(WHITESPACE)}]*UNH{re.escape(d.element)}")


def _released(text: str, pos: int, release: str) -> bool:
    n = 0
    while pos - n - 1 >= 0 and text[pos - n - 1] == release:
        n += 1
    return n % 2 == 1
