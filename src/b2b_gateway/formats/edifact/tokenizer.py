"""The byte-level EDIFACT tokenizer: text (bytes read as latin-1, so offsets are byte offsets) -> segments.

Speed comes from doing the work in C: one ``str.split`` on the segment terminator per interchange, a
parity merge for released terminators (``?'`` is data, ``??'`` ends a segment, ``???'`` does not), and
``str.split`` on the data and component separators for every segment without a release character.
Only segments holding the release character (or, in syntax 4, the repetition separator) take the
slower regular-expression path, at once; the others split their elements on first access
(:meth:`Segment.lazy <b2b_gateway.formats.edifact.model.Segment.lazy>`). Line and column numbers are
computed when asked for (a located finding), from a shared :class:`Source`.

Every problem becomes a located :class:`~b2b_gateway.errors.EdifactSyntaxError` (or a warning); the
tokenizer never raises.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field, replace
from functools import lru_cache
from itertools import accumulate, compress, count, repeat
from operator import add, contains, itemgetter, ne, sub

from b2b_gateway.errors import EdifactSyntaxError, GatewayError, Location
from b2b_gateway.formats.edifact.model import CarefulSegment, Delimiters, ReadSegment, Segment, Source

__all__ = ["WHITESPACE", "Scan", "segment_end", "tokenize"]

WHITESPACE = " \t\r\n\x0b\x0c"
"""Characters tolerated between segments."""
_TAG = re.compile(r"[A-Z][A-Z0-9]{2}\Z")


@dataclass(slots=True)
class Scan:
    """What :func:`tokenize` found: the segments, where each ended, where it stopped, and problems."""

    segments: list[Segment] = field(default_factory=list)
    end: int = 0
    """Offset where scanning stopped (after the UNZ terminator, or the end of the text)."""
    errors: list[GatewayError] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    """The segments' tags, in order (``segments[i].tag``)."""
    breaks: list[int] = field(default_factory=list)
    """Indexes of segments holding a line break or tab inside their data."""


@lru_cache(maxsize=32)
def _unz_pattern(terminator: str, element: str) -> re.Pattern[str]:
    t, e = re.escape(terminator), re.escape(element)
    return re.compile(f"(?<={t})[{re.escape(WHITESPACE)}]*UNZ(?:{e}|{t})")


@lru_cache(maxsize=32)
def _token_pattern(d: Delimiters) -> re.Pattern[str]:
    seps = d.element + d.component + (d.repetition if d.repetition.strip() else "")
    return re.compile(f"{re.escape(d.release)}(.)|([{re.escape(seps)}])", re.S)


def _released(text: str, pos: int, release: str) -> bool:
    """Whether the character at ``pos`` is preceded by an odd number of release characters."""
    n = 0
    while pos - n - 1 >= 0 and text[pos - n - 1] == release:
        n += 1
    return n % 2 == 1


def _block_end(text: str, start: int, d: Delimiters) -> int:
    """Offset just after the terminator of the next UNZ (or the end of the text)."""
    pos = start
    while True:
        at = text.find("UNZ", pos)
        if at < 0:
            return len(text)
        pos = at + 3
        if text[at + 3 : at + 4] not in (d.element, d.terminator):
            continue
        before = text[max(start - 1, 0) : at].rstrip(WHITESPACE)
        head = max(start - 1, 0) + len(before) - 1
        if before and before[-1] == d.terminator and not _released(text, head, d.release):
            return segment_end(text, at, d)


MARK = "\u0100"
"""Stands for a released terminator while splitting: text read as latin-1 never holds a character above U+00FF."""


def _protect_released(block: str, d: Delimiters) -> str:
    """``block`` with every released terminator (``?'`` after an even run of ``?``) replaced by :data:`MARK`."""
    pair = d.release + d.terminator
    pos = block.find(pair)
    if pos < 0:
        return block
    pieces: list[str] = []
    last = 0
    while pos >= 0:
        term = pos + 1
        if _released(block, term, d.release):
            pieces.append(block[last:term])
            pieces.append(MARK)
            last = term + 1
        pos = block.find(pair, term)
    pieces.append(block[last:])
    return "".join(pieces)


def _slow_elements(
    body: str, d: Delimiters, warn: list[tuple[int, str]]
) -> tuple[list[list[str]], dict[int, list[list[str]]] | None]:
    """Split a segment body (after the tag) that holds release or repetition characters."""
    elements: list[list[str]] = []
    reps: dict[int, list[list[str]]] | None = None
    occurrences: list[list[str]] = []
    comps: list[str] = []
    buf: list[str] = []
    pos = 0
    specials = d.specials
    for m in _token_pattern(d).finditer(body):
        buf.append(body[pos : m.start()])
        pos = m.end()
        released = m.group(1)
        if released is not None:
            if released not in specials:
                warn.append((m.start(), released))
            buf.append(released)
            continue
        sep = m.group(2)
        comps.append("".join(buf))
        buf = []
        if sep == d.component:
            continue
        occurrences.append(comps)
        comps = []
        if sep == d.element:
            if len(occurrences) > 1:
                reps = reps or {}
                reps[len(elements)] = occurrences
            elements.append(occurrences[0])
            occurrences = []
    buf.append(body[pos:])
    comps.append("".join(buf))
    occurrences.append(comps)
    if len(occurrences) > 1:
        reps = reps or {}
        reps[len(elements)] = occurrences
    elements.append(occurrences[0])
    return elements, reps


def _layout(block: str, term: str) -> str:
    """What separates the segments of ``block`` when every terminator is followed alike: ``'``, ``'\\n`` or
    ``'\\r\\n`` (the chunks then need no stripping); ``""`` for anything else (stripped one by one)."""
    n = block.count(term)
    if n == 0 or "\t" in block or "\x0b" in block or "\x0c" in block:
        return ""
    lf, cr = block.count("\n"), block.count("\r")
    end = 1 if block.endswith(term) else 0
    if lf == 0 and cr == 0:
        sep = term
    elif cr == 0 and lf == n - end and block.count(term + "\n") == lf:
        sep = term + "\n"
    elif cr == lf == n - end and block.count(term + "\r\n") == lf:
        sep = term + "\r\n"
    else:
        return ""
    return "" if (sep + " ") in block else sep


def _clean_breaks(block: str, term: str) -> bool:
    """Whether every CR/LF in ``block`` sits right after a terminator (no line break inside a segment)."""
    if "\t" in block:
        return False
    lf, cr = block.count("\n"), block.count("\r")
    crlf = block.count(term + "\r\n")
    return lf == block.count(term + "\n") + crlf and cr == crlf


def tokenize(
    text: str, start: int, d: Delimiters, *, src: Source | None = None, number: int = 0, single: bool = False
) -> Scan:
    """Tokenize ``text`` from ``start`` up to and including the next UNZ (or one segment when ``single``).

    The common segment (a three-letter tag, the data separator, no release or repetition character)
    is made in bulk by ``map`` over the chunks; the others are read one by one by :func:`_segment`.

    Args:
        text: the input read as latin-1 (one character per byte).
        start: where the first segment (or the whitespace before it) begins.
        d: the interchange's delimiters.
        src: what the segments share (separators, line index); made from ``text`` and ``d`` when absent.
        number: how many segments of the interchange came before (segments are numbered on).
        single: stop after the first segment (used for UNB, before the syntax version is known).
    """
    scan = Scan()
    src = src or Source(text, d.element, d.component)
    term, rel, elem = d.terminator, d.release, d.element
    rep = d.repetition if d.repetition.strip() else ""
    stop = segment_end(text, start, d) if single else _block_end(text, start, d)
    raw = text[start:stop]
    block = raw.lstrip(WHITESPACE)
    start += len(raw) - len(block)
    has_release = rel != " " and rel in block
    if has_release:
        block = _protect_released(block, d)
    sep = _layout(block, term)
    if sep:
        padded = block + sep[1:] if block.endswith(term) else block
        chunks = padded.split(sep)
        tail = chunks.pop()  # what follows the last terminator: nothing, or an unterminated segment
        stripped = chunks
        offsets = list(accumulate(map(add, map(len, chunks), repeat(len(sep))), initial=start))
    else:
        chunks = block.split(term)
        tail = chunks.pop()
        stripped = list(map(str.lstrip, chunks, repeat(WHITESPACE)))
        offsets = list(map(add, map(sub, accumulate(map(len, chunks)), map(len, stripped)), count(start)))
    tags = list(map(_TAG3, stripped))
    segments: list[Segment] = list(map(ReadSegment, tags, stripped, repeat(src), offsets, count(number + 1)))
    scan.segments, scan.tags = segments, tags
    odd = _odd_starts(block, sep, elem, stripped, tags, offsets, start) if sep else _odd_chunks(stripped, tags, elem)
    if has_release:
        odd.update(_holding(rel, block, stripped, offsets, start))
    if rep and rep in block:
        odd.update(_holding(rep, block, stripped, offsets, start))
    for index in sorted(odd):
        seg = _segment(stripped[index], d, offsets[index], number + index + 1, src, scan.errors, has_release, bool(rep))
        segments[index] = seg
        tags[index] = seg.tag
        if _TAG.match(seg.tag) is None:
            scan.errors.append(_bad_tag(seg.tag, stripped[index], seg))
    if not sep and not _clean_breaks(block, term):
        for char in "\n\r\t":
            scan.breaks.extend(compress(count(), map(contains, stripped, repeat(char))))
        scan.breaks = sorted(set(scan.breaks))
    _check_tail(tail, scan, src, term, stop)
    scan.end = stop
    return scan


def _holding(char: str, block: str, stripped: list[str], offsets: list[int], start: int) -> list[int]:
    """Indexes of the chunks holding ``char``: found by ``str.find`` from one to the next when ``char`` is
    rare in ``block``, by looking at every chunk when it is common."""
    if block.count(char) * 4 > len(stripped):
        return list(compress(count(), map(contains, stripped, repeat(char))))
    found: list[int] = []
    last = len(stripped)
    at = block.find(char)
    while at >= 0:
        index = bisect_right(offsets, start + at) - 1
        if index < last and (not found or found[-1] != index):
            found.append(index)
        at = block.find(char, at + 1)
    return found


def _odd_chunks(stripped: list[str], tags: list[str], elem: str) -> set[int]:
    """Indexes of the chunks that are not a plain segment (a valid tag, then the data separator)."""
    odd = set(compress(count(), map(ne, map(_SEP, stripped), repeat(elem))))
    for tag in set(tags):
        if _TAG.match(tag) is None:
            odd.update(i for i, t in enumerate(tags) if t == tag)
    return odd


@lru_cache(maxsize=32)
def _odd_pattern(sep: str, elem: str) -> re.Pattern[str]:
    return re.compile(f"{re.escape(sep)}(?![A-Z][A-Z0-9]{{2}}{re.escape(elem)})")


def _odd_starts(
    block: str, sep: str, elem: str, stripped: list[str], tags: list[str], offsets: list[int], start: int
) -> set[int]:
    """:func:`_odd_chunks` for a regular layout, in one regular-expression pass over ``block`` (the first chunk
    starts the block, every other one follows ``sep``), without looking at each chunk from Python."""
    odd = _odd_chunks(stripped[:1], tags[:1], elem)
    last = len(offsets) - 1  # offsets has one more item than there are chunks
    for m in _odd_pattern(sep, elem).finditer(block):
        index = bisect_left(offsets, start + m.end())
        if index < last:
            odd.add(index)
    return odd


_TAG3 = itemgetter(slice(0, 3))
_SEP = itemgetter(slice(3, 4))
_BODY = itemgetter(slice(4, None))


def segment_end(text: str, start: int, d: Delimiters) -> int:
    """Offset just after the first unreleased terminator from ``start``."""
    end = text.find(d.terminator, start)
    while end >= 0 and _released(text, end, d.release):
        end = text.find(d.terminator, end + 1)
    return len(text) if end < 0 else end + 1


def _check_tail(tail: str, scan: Scan, src: Source, term: str, stop: int) -> None:
    rest = tail.lstrip(WHITESPACE)
    if rest:
        offset = stop - len(rest)
        line, column = src.position(offset)
        scan.errors.append(
            EdifactSyntaxError(
                f"the input ends inside a segment ({rest[:20]!r}…): no segment terminator {term!r}",
                location=Location(offset=offset, line=line, column=column, segment=rest[:3]),
                hint="the file is truncated, or it uses another terminator than its UNA announces",
            )
        )


def _segment(
    s: str,
    d: Delimiters,
    offset: int,
    number: int,
    src: Source,
    errors: list[GatewayError],
    has_release: bool,
    has_rep: bool,
) -> Segment:
    """A segment read the careful way: release characters, repetitions, odd tags, no elements."""
    elem, comp, rel = d.element, d.component, d.release
    tag_end = s.find(elem)
    head = s if tag_end < 0 else s[:tag_end]
    if has_release and rel in head:
        tag_end = 3 if _TAG.match(s[:3]) and s[3:4] == rel else tag_end
        head = s if tag_end < 0 else s[:tag_end]
    tag = head.split(comp, 1)[0] if comp in head else head
    seg = CarefulSegment(tag, s, src, offset, number)
    if tag_end < 0:
        seg.elements = []
        return seg
    body = s[tag_end + 1 :].replace(MARK, d.terminator)
    if (has_release and rel in body) or (has_rep and d.repetition in body):
        warn: list[tuple[int, str]] = []
        seg.elements, reps = _slow_elements(body, d, warn)
        if reps:
            seg.repetitions = reps
        if warn:
            _release_warnings(seg, warn, tag_end + 1, errors)
    else:
        seg.elements = [e.split(comp) for e in body.split(elem)]
    return seg


def _release_warnings(seg: Segment, warn: list[tuple[int, str]], body: int, errors: list[GatewayError]) -> None:
    for at, char in warn:
        where = seg.location()
        errors.append(
            EdifactSyntaxError(
                f"release character before {char!r}, which is not a service character; kept as {char!r}",
                location=replace(where, offset=seg.offset + body + at, column=(where.column or 1) + body + at),
                severity="warning",
                contrl="22",
            )
        )


def _bad_tag(tag: str, s: str, seg: Segment) -> EdifactSyntaxError:
    if not s:
        return EdifactSyntaxError(
            "empty segment: two segment terminators in a row", location=seg.location(), contrl="18"
        )
    return EdifactSyntaxError(
        f"invalid segment tag {tag[:12]!r}: a tag is three upper-case letters or digits",
        location=seg.location(),
        hint="a line break or a stray character inside the previous segment? check the separators in UNA",
    )
