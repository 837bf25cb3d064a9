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
interchange), an input over ``max_segments`` is cut where the limit is passed, and the hint that banner
text could be allowed looks for a UNA/UNB in the first window only. A partner allowed
hard-wrapped lines is read whole (its line breaks must all be known before any offset is).
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterable, Iterator

from b2b_gateway.errors import (
    EdifactSyntaxError,
    GatewayError,
    MissingError,
    Severity,
)
from b2b_gateway.formats.edifact.envelope import Assembler, interchange_from_unb
from b2b_gateway.formats.edifact.model import (
    Delimiters,
    EdifactMessage,
    FunctionalGroup,
    Interchange,
)
from b2b_gateway.formats.edifact.reader import ReaderOptions, ReadResult, apply_syntax, read, read_una
from b2b_gateway.formats.edifact.tokenizer import WHITESPACE, tokenize
from b2b_gateway.formats.edifact.windows import Input, InterchangeWindows, StreamedMessage, WindowSource, shift

__all__ = ["StreamReader", "StreamedMessage"]

_BOM = "\xef\xbb\xbf"
_START = re.compile(r"(?:^|(?<=[\r\n']))[ \t]*(UNA|UNB)")
WINDOW = 1 << 16
"""Default window: about 64 KB of whole messages read at once (a bigger message makes its window bigger).

A window's segments and elements take about 60 times its bytes in memory while it is read (1 MB: a peak
of 62 MB on a 4 MB interchange, 64 KB: 4 MB), and small windows read faster (9.9 MB/s against 8.0)."""


class StreamReader:
    """Iterate over it for the messages (:class:`StreamedMessage`); then :attr:`result` holds the
    interchanges (headers, groups, findings; no messages) and the findings of the input itself.

    It never raises for any input, like :func:`~b2b_gateway.formats.edifact.reader.read`.
    """

    def __init__(self, chunks: Iterable[bytes], options: ReaderOptions | None = None, *, window: int = WINDOW):
        self.options = options or ReaderOptions()
        self.window = max(window, 64)
        self.input = Input(chunks)
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
            while found is None and self.options.allow_banner and not inp.eof:
                inp.fill(len(inp.text) + self.window)  # the banner goes on past the buffer
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

    def _source(self, text: str, d: Delimiters) -> WindowSource:
        inp = self.input
        return WindowSource(text, d, inp.line, inp.base - inp.line_start)

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
            shift(found, inp.base)
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
        reader = InterchangeWindows(self, ic, asm, d, head_src)
        return (yield from reader.run(head.end, unb))


def _envelope_of(data: bytes, ic: Interchange, messages: list[EdifactMessage], group: FunctionalGroup | None) -> bytes:
    first = ic.groups[0].header if ic.groups and ic.groups[0].header is not None else messages[0].segments[0]
    head = data[ic.start : first.offset]
    if group is not None and group.header is not None and group.messages:
        head += data[group.header.offset : group.messages[0].segments[0].offset]
    return head


def _header_cut(text: str) -> bool:
    """Whether ``text`` (an interchange's start) ends before its UNB's terminator could be seen."""
    una = text.startswith("UNA")
    return len(text) < 9 or text.find(text[8] if una else "'", 9 if una else 0) < 0
