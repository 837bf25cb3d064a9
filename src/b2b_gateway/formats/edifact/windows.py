"""The windows of a streamed interchange (see :mod:`b2b_gateway.formats.edifact.stream`).

A window is a run of whole messages read at once, in its own coordinates: the reader's parts (tokenizer,
envelope assembler, character checks) run on it, and its offsets, lines and columns are then moved to the
input's (:class:`WindowSource` gives the input's lines and columns all along).
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING

from b2b_gateway.errors import GatewayError, InputTooLargeError, Location
from b2b_gateway.formats.edifact._gc import paused_gc
from b2b_gateway.formats.edifact.charsets import charset_for
from b2b_gateway.formats.edifact.checks import check_characters, distribute, in_document_order
from b2b_gateway.formats.edifact.envelope import Assembler, Assembly
from b2b_gateway.formats.edifact.model import (
    Delimiters,
    EdifactMessage,
    FunctionalGroup,
    Interchange,
    Segment,
    Source,
)
from b2b_gateway.formats.edifact.tokenizer import WHITESPACE, segment_end, tokenize

if TYPE_CHECKING:
    from b2b_gateway.formats.edifact.stream import StreamReader

__all__ = ["Input", "InterchangeWindows", "StreamedMessage", "WindowSource", "shift"]


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


class WindowSource(Source):
    """A :class:`Source` over one window whose lines and columns are the input's (``base`` is where the
    window starts once its offsets are the input's; 0 while they are the window's own)."""

    __slots__ = ("base", "col0", "line0")

    def __init__(self, text: str, d: Delimiters, line0: int, col0: int) -> None:
        super().__init__(text, d.element, d.component)
        self.base, self.line0, self.col0 = 0, line0, col0

    def position(self, offset: int) -> tuple[int, int]:
        line, column = Source.position(self, offset - self.base)
        return (self.line0, column + self.col0) if line == 1 else (self.line0 + line - 1, column)


class Input:
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


def shift(errors: Iterable[GatewayError], base: int) -> None:
    for err in errors:
        if err.location.offset is not None:
            err.location = replace(err.location, offset=err.location.offset + base)


@dataclass(slots=True)
class _Window:
    """One window of an interchange being read, in its own coordinates."""

    text: str
    segments: list[Segment]
    sources: list[WindowSource] = field(default_factory=list)
    data: bytes = b""
    settled: int = 0
    """Messages in the interchange before this window's: the stubs its reader's consumer settled back
    (:meth:`~b2b_gateway.mapping.edifact.codec.EdifactUnitStream.settle`), kept for the CONTRL."""
    group_settled: dict[int, int] = field(default_factory=dict)
    """The same for each functional group (by ``id``)."""


class InterchangeWindows:
    """The windows of one interchange."""

    def __init__(
        self, reader: StreamReader, ic: Interchange, asm: Assembler, d: Delimiters, head_src: WindowSource
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
        w.settled = len(ic.messages)
        w.group_settled = {id(g): len(g.messages) for g in ic.groups}
        done = asm.feed(1 if first else 0)
        if done is None and final:
            asm.end_of_input(None, "the input ends before UNZ")
            done = Assembly(ic)
        owners = {id(m): g for g in ic.groups for m in g.messages[w.group_settled.get(id(g), 0) :]}
        self.opened.extend((msg, owners.get(id(msg))) for msg in ic.messages[w.settled :])
        return done, mark

    def _check(
        self, w: _Window, errors: list[GatewayError], breaks: list[int], end: int, done: Assembly | None, first: bool
    ) -> list[EdifactMessage]:
        ic = self.ic
        settled = ic.messages
        ic.messages = settled[w.settled :]  # the window's own while it is checked; the settled ones go back
        del settled[w.settled :]
        found = list(errors)
        charset = charset_for(ic.syntax_id)
        if charset is not None and w.segments:
            view = replace(ic, start=ic.start if first else 0, end=ic.end if done is not None else end, errors=[])
            checked = w.segments if first else [w.segments[0], *w.segments]
            found.extend(check_characters(view, checked, breaks, w.text, self.reader.options, charset))
            ic.charset = view.charset
        distribute(ic, w.segments, found, w.text)
        messages, ic.messages = ic.messages, settled
        for group in ic.groups:
            del group.messages[w.group_settled.get(id(group), 0) :]
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
        shift(ic.errors[mark:], base)
        for msg in messages:
            shift(msg.errors, base)
        if first:
            ic.start += base
        if done is not None:
            ic.end += base
            in_document_order(ic.errors)
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


@lru_cache(maxsize=32)
def _boundary(d: Delimiters) -> re.Pattern[str]:
    """A segment terminator, whitespace, and the start of a UNH."""
    return re.compile(f"{re.escape(d.terminator)}[{re.escape(WHITESPACE)}]*UNH{re.escape(d.element)}")


def _released(text: str, pos: int, release: str) -> bool:
    n = 0
    while pos - n - 1 >= 0 and text[pos - n - 1] == release:
        n += 1
    return n % 2 == 1
