"""Character checks of a read interchange: repertoire, decoding with a flagged fallback, breaks in data.

See :mod:`~b2b_gateway.formats.edifact.charsets` for what each syntax identifier allows. The tokenizer
reads bytes as latin-1 (one character per byte); here values are re-decoded with the declared
character set where that differs, and with the partner's fallback where the bytes do not decode.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import replace
from typing import TYPE_CHECKING

from b2b_gateway.errors import CharacterSetError, GatewayError, Location
from b2b_gateway.formats.edifact.charsets import Charset, codec_exists
from b2b_gateway.formats.edifact.model import Delimiters, Interchange, Segment

if TYPE_CHECKING:
    from b2b_gateway.formats.edifact.reader import ReaderOptions

__all__ = ["check_characters", "distribute", "element_at"]

LIMIT = 20
"""Character findings reported one by one per interchange; the rest are summed up in one more."""


def element_at(text: str, seg: Segment, offset: int, d: Delimiters) -> tuple[int | None, int | None]:
    """1-based (element, component) holding ``offset`` in ``seg`` (``(None, None)`` inside the tag)."""
    element, component = 0, 1
    i = seg.offset
    while i < offset and i < len(text):
        c = text[i]
        if c == d.release and d.release != " ":
            i += 2
            continue
        if c == d.element:
            element, component = element + 1, 1
        elif c == d.component:
            component += 1
        elif c == d.repetition and d.repetition != " ":
            component = 1
        i += 1
    return (element or None, component if element else None)


class _Checker:
    def __init__(self, ic: Interchange, segments: list[Segment], text: str, options: ReaderOptions, cs: Charset):
        self.ic, self.segments, self.text, self.cs = ic, segments, text, cs
        self.severity: str = "warning" if options.charset_violations == "warn" else "error"
        fallback = options.charset_fallback
        self.fallback = fallback if codec_exists(fallback) else "latin-1"
        self.region = text[ic.start : ic.end].encode("latin-1")
        self._offsets: list[int] | None = None
        self.reported = 0
        self.found: list[GatewayError] = []

    def report(self, offset: int, text: str, *, severity: str | None = None, hint: str | None = None) -> None:
        if self.reported == LIMIT:
            self.found.append(
                CharacterSetError(
                    "more character problems in this interchange (not listed one by one)",
                    location=self.ic.header.location(),
                    severity=severity or self.severity,  # type: ignore[arg-type]
                )
            )
        self.reported += 1
        if self.reported > LIMIT:
            return
        if self._offsets is None:
            self._offsets = [s.offset for s in self.segments]
        index = max(bisect_right(self._offsets, offset) - 1, 0)
        seg = self.segments[index]
        element, component = element_at(self.text, seg, offset, self.ic.delimiters)
        loc = seg.location(element, component)
        column = (loc.column or 1) + offset - seg.offset
        line = (loc.line or 1) + self.text.count("\n", seg.offset, offset)
        if line != loc.line:
            column = offset - self.text.rfind("\n", 0, offset)
        err = CharacterSetError(
            text,
            location=type(loc)(**{**loc.to_dict(), "offset": offset, "line": line, "column": column}),
            severity=severity or self.severity,  # type: ignore[arg-type]
            hint=hint,
        )
        self.found.append(err)

    def invalid(self) -> None:
        ident = self.cs.identifier
        if not self.cs.any_invalid(self.region):
            return
        for m in self.cs.invalid.finditer(self.text, self.ic.start, self.ic.end):
            found = m.group()
            shown = " ".join(f"0x{ord(c):02X}" for c in found[:8]) + (" …" if len(found) > 8 else "")
            self.report(
                m.start(),
                f"byte(s) {shown} ({found[:8]!r} read as latin-1) not in the {ident} repertoire",
                hint=f"decoded as {self.fallback}; the partner should declare the character set it really uses",
            )

    def decode(self) -> None:
        cs, start, end = self.cs, self.ic.start, self.ic.end
        region = self.text[start:end]
        escaped = cs.identifier == "UNOX" and "\x1b" in region
        if region.isascii() and not escaped:
            return
        codec = cs.codec if not cs.latin1_identical else self.fallback
        if codec == "latin-1":
            return
        self.ic.charset = codec
        if not cs.latin1_identical:
            try:
                region.encode("latin-1").decode(codec)
            except UnicodeDecodeError as exc:
                self.report(
                    start + exc.start,
                    f"the bytes do not decode as {cs.identifier} ({codec}): {exc.reason}",
                    hint=f"decoded as {self.fallback} where they fail",
                )
                self.ic.charset = f"{codec}+{self.fallback}"
        for seg in self.segments:
            self.convert(seg, codec)

    def convert(self, seg: Segment, codec: str) -> None:
        groups = [seg.elements, *(seg.repetitions or {}).values()]
        done: set[int] = set()  # a repeated element's first occurrence is also in ``elements``
        for elements in groups:
            for comps in elements:
                if id(comps) in done:
                    continue
                done.add(id(comps))
                for i, value in enumerate(comps):
                    if not value.isascii() or "\x1b" in value:
                        raw = value.encode("latin-1")
                        try:
                            comps[i] = raw.decode(codec)
                        except UnicodeDecodeError:
                            comps[i] = raw.decode(self.fallback, "replace")

    def outside(self) -> None:
        d = self.ic.delimiters
        pattern = self.cs.outside(d.specials)
        if pattern is None or not self.cs.any_outside(self.region, d.specials):
            return
        found = pattern.search(self.text, self.ic.start, self.ic.end)
        if found is None:
            return
        chars = sorted(set(pattern.findall(self.text, self.ic.start, self.ic.end)))
        shown = "".join(chars[:20])
        self.report(
            found.start(),
            f"characters outside the {self.cs.identifier} repertoire: {shown!r} (accepted)",
            severity="warning",
            hint="partners often send lower-case letters under UNOA; UNOB or UNOC would declare them",
        )

    def breaks(self, indexes: list[int]) -> None:
        for index in indexes:
            seg = self.segments[index + 1]
            start = seg.offset
            while start < len(self.text) and self.text[start] not in "\r\n\t":
                start += 1
            self.report(
                start,
                f"line break or tab inside segment {seg.tag}",
                hint="a partner that hard-wraps its files needs parsing.allow_wrapped_lines in its profile",
            )


def check_characters(
    ic: Interchange,
    segments: list[Segment],
    breaks: list[int],
    text: str,
    options: ReaderOptions,
    cs: Charset,
) -> list[GatewayError]:
    """Check and decode the characters of ``ic`` (``segments`` = UNB and the tokenized rest).

    ``breaks`` are indexes (into the segments after UNB) of segments with a line break or tab inside.
    Returns the findings (located; :func:`distribute` files them under their messages).
    """
    checker = _Checker(ic, segments, text, options, cs)
    checker.invalid()
    checker.breaks(breaks)
    checker.decode()
    checker.outside()
    return checker.found


def distribute(ic: Interchange, segments: list[Segment], errors: list[GatewayError], text: str) -> None:
    """File ``errors`` (located by byte offset) under the message whose segment they point at, or
    under the interchange; complete their locations (message position, element, interchange)."""
    if not errors:
        return
    offsets = [s.offset for s in segments]
    owners = {id(s): m for m in ic.messages for s in m.segments}
    for err in errors:
        loc = err.location
        if loc.offset is None or not segments or loc.offset < segments[0].offset:
            ic.errors.append(err.at(Location(interchange=ic.control_ref)))
            continue
        seg = segments[max(bisect_right(offsets, loc.offset) - 1, 0)]
        if loc.segment is not None and loc.segment != seg.tag:
            ic.errors.append(err.at(Location(interchange=ic.control_ref)))
            continue
        element, component = (loc.element, loc.component)
        if element is None:
            element, component = element_at(text, seg, loc.offset, ic.delimiters)
        msg = owners.get(id(seg))
        err.location = replace(
            loc,
            segment=seg.tag,
            segment_index=seg.position or seg.number,
            element=element,
            component=component,
            interchange=ic.control_ref,
            message=msg.ref if msg is not None else loc.message,
        )
        (msg.errors if msg is not None else ic.errors).append(err)


def in_document_order(errors: list[GatewayError]) -> None:
    """Sort an interchange's findings by where they point (stable; unlocated ones last), so that they
    come in the same order whether the interchange was read whole or streamed in windows."""
    errors.sort(key=lambda e: (e.location.offset is None, e.location.offset or 0))
