"""Clean segment texts are remembered, findings never are (``elements._clean_memo``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from b2b_gateway.formats.edifact import elements
from b2b_gateway.formats.edifact.reader import read
from tests.conftest import ROOT
from tests.edifact.conftest import errors, everything

SAMPLE = (ROOT / "mappings" / "MOCKBUYER" / "samples" / "orders-in" / "input.edi").read_bytes()


def order(number: str, *, bgm: str | None = None, imd: str = "Widget, blue, 40mm") -> bytes:
    """The sample ORDERS with its own order number (a BGM text never seen before) and item text."""
    text = SAMPLE.replace(b"PO-9001", number.encode()).replace(b"Widget, blue, 40mm", imd.encode())
    if bgm is not None:
        text = text.replace(f"BGM+220+{number}+9'".encode(), bgm.encode())
    return text


@pytest.fixture
def full_checks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The text of every segment checked in full, in order."""
    seen: list[str] = []
    real = elements._clean

    def counting(seg: Any, plan: Any) -> bool:
        seen.append(seg.tag + "+" + "+".join(":".join(e) for e in seg.elements))
        return real(seg, plan)

    monkeypatch.setattr(elements, "_clean", counting)
    yield seen


def test_a_clean_segment_text_is_checked_in_full_once(full_checks: list[str]) -> None:
    number = f"PO-{uuid.uuid4().hex[:12]}"
    assert errors(everything(read(order(number)))) == []
    assert f"BGM+220+{number}+9" in full_checks, "a text never seen before is checked in full"
    full_checks.clear()

    assert errors(everything(read(order(number)))) == []
    assert full_checks == [], "every segment of the same order again was remembered as clean"

    other = f"PO-{uuid.uuid4().hex[:12]}"
    assert errors(everything(read(order(other)))) == []
    assert [t for t in full_checks if not t.startswith(("UNH", "UNT"))] == [f"BGM+220+{other}+9"]


def test_a_finding_is_never_remembered(full_checks: list[str]) -> None:
    number = f"PO-{uuid.uuid4().hex[:12]}"
    bad = f"BGM+999+{number}+9'"  # 999 is no document name code of D96A's 1001
    for _ in range(3):
        found = errors(everything(read(order(number, bgm=bad))))
        assert [(e.code, e.location.segment if e.location else None) for e in found] == [("CODE_LIST", "BGM")], found
        assert f"BGM+999+{number}+9" in full_checks
        full_checks.clear()


def test_a_text_clean_once_does_not_hide_the_same_element_wrong_elsewhere() -> None:
    number = f"PO-{uuid.uuid4().hex[:12]}"
    assert errors(everything(read(order(number)))) == []
    too_long = "x" * 71  # IMD 7008 is an..35
    found = errors(everything(read(order(number, imd=too_long))))
    assert len(found) == 1 and found[0].location is not None and found[0].location.segment == "IMD", found


def test_segments_read_the_careful_way_are_always_checked_in_full(full_checks: list[str]) -> None:
    number = f"PO-{uuid.uuid4().hex[:12]}"
    released = "Widget?+blue"  # a release character: its text alone does not give its elements
    for _ in range(2):
        assert errors(everything(read(order(number, imd=released)))) == []
        assert "IMD+F++:::Widget+blue" in full_checks
        full_checks.clear()


def test_other_separators_are_not_remembered(full_checks: list[str]) -> None:
    number = f"PO-{uuid.uuid4().hex[:12]}"
    swapped = order(number).replace(b"UNA:+.? '", b"UNA:*.? '").replace(b"+", b"*")
    for _ in range(2):
        assert errors(everything(read(swapped))) == []
        assert f"BGM+220+{number}+9" in full_checks
        full_checks.clear()


def test_long_texts_are_not_remembered(full_checks: list[str]) -> None:
    number = f"PO-{uuid.uuid4().hex[:12]}"
    ftx = "FTX+AAI+++" + ":".join(c * 70 for c in "ABC")  # free text of 220 characters, clean
    assert len(ftx) > elements._MEMO_TEXT
    data = order(number).replace(b"NAD+BY", ftx.encode() + b"'\nNAD+BY", 1).replace(b"UNT+21+1'", b"UNT+22+1'")
    for _ in range(2):
        assert errors(everything(read(data))) == []
        assert ftx in full_checks, "checked in full every time"
        full_checks.clear()
