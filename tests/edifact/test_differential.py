"""Differential test against pydifact: the same segments for every sample both accept, and for generated
interchanges (release characters, empty and trailing elements, several messages)."""

from __future__ import annotations

import random
import warnings
from typing import Any

from pydifact.parser import Parser

from b2b_gateway.formats.edifact.model import Segment
from b2b_gateway.formats.edifact.reader import ReaderOptions, read
from b2b_gateway.formats.edifact.writer import message_segments, write_interchange
from tests.edifact.conftest import sample, sample_names

LOOSE = ReaderOptions(control_counts="warn", charset_violations="warn")


def _trim(items: list[str]) -> list[str]:
    while items and items[-1] == "":
        items = items[:-1]
    return items


def _normalise(elements: list[Any]) -> list[list[str]]:
    out = [_trim([e] if isinstance(e, str) else list(e)) for e in elements]
    while out and not out[-1]:
        out.pop()
    return out


def pydifact_segments(data: bytes) -> list[tuple[str, list[list[str]]]] | None:
    """pydifact's segments (UNA left out), or None when pydifact refuses the input."""
    text = data.decode("latin-1").lstrip("\ufeff")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            segments = list(Parser().parse(text))
    except Exception:  # pydifact raises its own errors (and others) on input it cannot read
        return None
    return [(s.tag, _normalise(list(s.elements))) for s in segments if s.tag != "UNA"]


def _as_pydifact_sees(seg: Segment, repetition: str, component: str) -> list[list[str]]:
    """pydifact does not know the syntax 4 repetition separator: it reads ``3*1`` as one value."""
    if not seg.repetitions:
        return seg.trimmed()
    elements = [list(e) for e in seg.elements]
    for index, occurrences in seg.repetitions.items():
        joined = repetition.join(component.join(occ) for occ in occurrences)
        elements[index] = joined.split(component)
    return _normalise(elements)


def our_segments(data: bytes) -> list[tuple[str, list[list[str]]]] | None:
    result = read(data, LOOSE)
    if not result.ok:
        return None
    out: list[tuple[str, list[list[str]]]] = []
    for ic in result.interchanges:
        envelope = [ic.header, *(g.header for g in ic.groups if g.header), *(g.trailer for g in ic.groups if g.trailer)]
        ordered = sorted([*envelope, *(s for m in ic.messages for s in m.segments)], key=lambda s: s.offset)
        ordered += [ic.trailer] if ic.trailer else []
        d = ic.delimiters
        out.extend((s.tag, _as_pydifact_sees(s, d.repetition, d.component)) for s in ordered)
    return out


def test_same_segments_as_pydifact_on_every_sample_both_accept() -> None:
    compared = []
    for name in sample_names():
        data = sample(name)
        theirs, ours = pydifact_segments(data), our_segments(data)
        if theirs is None or ours is None:
            continue
        assert ours == theirs, name
        compared.append(name)
    assert compared == sample_names()  # today both read every sample (with warn policies on our side)


_VALUES = ["ABC", "", "12.50", "O'Neil", "a+b", "x:y", "50%?", "end?", "??", "Tom's", "SOME LONGER TEXT", "*"]


def _generated(rng: random.Random) -> bytes:
    messages = []
    for n in range(1, rng.randint(2, 4)):
        body = []
        for _ in range(rng.randint(1, 12)):
            tag = rng.choice(["BGM", "DTM", "NAD", "FTX", "LIN", "QTY", "IMD", "RFF", "MOA"])
            elements = [[rng.choice(_VALUES) for _ in range(rng.randint(1, 4))] for _ in range(rng.randint(1, 6))]
            body.append(Segment(tag, elements))
        messages.append(message_segments(str(n), "ORDERS", "D", "96A", "UN", "EAN008", body))
    return write_interchange(messages, sender="S", recipient="R", control_ref="9", newline=rng.random() < 0.5,
                             una=rng.random() < 0.5)


def test_same_segments_as_pydifact_on_generated_interchanges() -> None:
    rng = random.Random(7)
    compared = 0
    for _ in range(200):
        data = _generated(rng)
        theirs, ours = pydifact_segments(data), our_segments(data)
        assert ours is not None
        if theirs is None:
            continue
        assert ours == theirs, data
        compared += 1
    assert compared >= 150
