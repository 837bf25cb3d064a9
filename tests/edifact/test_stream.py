"""The streaming reader against the whole reader: same messages, same findings, same locations.

Every sample (``../shared/samples/edifact``, the partners' samples, a generated interchange) and
hypothesis' mutations of them are read both ways, whole and as a stream cut into chunks of any size
with windows of any size; what comes out must be identical (segments with their offsets, lines,
columns and numbers, raw bytes, every finding with its location, the interchanges' trailers).
"""

from __future__ import annotations

import itertools
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from bench.interchange import orders_chunks, orders_message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from b2b_gateway.errors import GatewayError
from b2b_gateway.formats.edifact.contrl import build_contrl
from b2b_gateway.formats.edifact.model import EdifactMessage, Interchange
from b2b_gateway.formats.edifact.reader import ReaderOptions, ReadResult, read
from b2b_gateway.formats.edifact.stream import StreamReader
from b2b_gateway.mapping.codec import CodecOptions
from b2b_gateway.mapping.edifact.codec import EdifactCodec, EdifactUnitStream
from tests.conftest import SHARED

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((SHARED / "samples" / "edifact").glob("*.edi")) + sorted(
    p for p in (ROOT / "mappings").glob("*/samples/*/*.edi")
)
OPTIONS = [ReaderOptions(), ReaderOptions(allow_banner=True, control_counts="warn", charset_violations="warn")]


def _error(e: GatewayError) -> tuple[Any, ...]:
    return (type(e).__name__, e.code, e.severity, e.message, e.location.to_dict())


def _message(ic: Interchange, m: EdifactMessage) -> tuple[Any, ...]:
    segments = [(s.tag, s.offset, s.line, s.column, s.number, s.position, s.elements) for s in m.segments]
    return (ic.control_ref, m.ref, m.type, m.group_ref, segments, m.raw, [_error(e) for e in m.errors])


def _interchanges(result: ReadResult) -> list[tuple[Any, ...]]:
    return [
        (ic.control_ref, ic.start, ic.end, ic.charset, [_error(e) for e in ic.errors], [g.ref for g in ic.groups])
        for ic in result.interchanges
    ] + [("input", [_error(e) for e in result.errors])]


def whole(data: bytes, options: ReaderOptions) -> tuple[list[Any], list[Any]]:
    result = read(data, options)
    return [_message(ic, m) for ic in result.interchanges for m in ic.messages], _interchanges(result)


def streamed(data: bytes, options: ReaderOptions, chunk: int, window: int) -> tuple[list[Any], list[Any]]:
    reader = StreamReader((data[i : i + chunk] for i in range(0, len(data), chunk)), options, window=window)
    messages = [_message(s.interchange, s.message) for s in reader]
    assert reader.messages == len(messages)
    return messages, _interchanges(reader.result)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_every_sample_streams_as_it_reads(path: Path) -> None:
    data = path.read_bytes()
    for options in OPTIONS:
        expected = whole(data, options)
        for chunk, window in ((1 << 20, 1 << 20), (1, 64), (7, 100), (100, 300)):
            assert streamed(data, options, chunk, window) == expected, (chunk, window)


def test_a_generated_interchange_of_many_windows_streams_as_it_reads() -> None:
    data = b"".join(orders_chunks(300))
    expected = whole(data, ReaderOptions())
    assert len(expected[0]) == 300
    for chunk, window in ((4096, 8192), (65536, 20_000), (997, 3000)):
        assert streamed(data, ReaderOptions(), chunk, window) == expected


def test_a_stream_holds_about_a_window_of_messages_not_the_input() -> None:
    """What the reader holds at its peak while a 2 MB interchange streams through it (every segment's
    elements read, each message dropped once seen) is a few windows' worth, under 8 MB: a window's
    segments take about 60 times its bytes, and the default window is small (64 KB: a 4 MB peak; with
    1 MB windows it was 59 MB)."""
    data = b"".join(orders_chunks(2000))
    assert len(data) > 1_900_000
    tracemalloc.start()
    try:
        seen = 0
        for item in StreamReader(data[i : i + 65536] for i in range(0, len(data), 65536)):
            seen += sum(len(s.elements) for s in item.message.segments)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert seen > 50_000
    assert peak < 8_000_000, f"peak {peak / 1e6:.1f} MB for {len(data) / 1e6:.1f} MB of input"


_CORPUS = [p.read_bytes() for p in SAMPLES] + [b"".join(orders_chunks(5))]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(_CORPUS)))
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["insert", "delete", "replace", "cut"]))
        piece = draw(
            st.sampled_from(
                [
                    b"'",
                    b"+",
                    b":",
                    b"?",
                    b"\n",
                    b"UNH+9+ORDERS:D:96A:UN'",
                    b"UNT+2+9'",
                    b"UNZ+1+1'",
                    b"UNB+UNOC:3+A+B+240101:1200+7'",
                    b"UNG+ORDERS+A+B+240101:1200+5+UN+D:96A'",
                    b"UNE+1+5'",
                    b"\xe9",
                    b"x",
                    b"  ",
                ]
            )
        )
        if kind == "insert":
            data[at:at] = piece
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        elif kind == "replace":
            data[at : at + len(piece)] = piece
        else:
            del data[at:]
    return bytes(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(), st.sampled_from(OPTIONS), st.integers(1, 400), st.integers(64, 600))
def test_mutated_inputs_stream_as_they_read(data: bytes, options: ReaderOptions, chunk: int, window: int) -> None:
    assert streamed(data, options, chunk, window) == whole(data, options)


def test_findings_of_different_windows_come_in_document_order() -> None:
    # Found by hypothesis: a UNB cut short ("UNB'") leaves a segment with no tag, whose syntax error was
    # filed after the UNZ's (a later window's) finding when read whole and before it when streamed.
    data = b"".join(orders_chunks(5)).replace(b"UNB+", b"UNB'+", 1)
    expected = whole(data, ReaderOptions())
    findings = expected[1][0][4]
    assert [f[1] for f in findings][-3:] == ["UNEXPECTED", "EDIFACT_SYNTAX", "CONTROL_REFERENCE"]
    offsets = [f[4]["offset"] for f in findings]
    assert offsets == sorted(offsets)
    for options in OPTIONS:
        for chunk, window in ((1, 64), (7, 100), (400, 64)):
            assert streamed(data, options, chunk, window) == whole(data, options), (chunk, window)


def test_the_codec_streams_the_units_it_splits() -> None:
    data = b"".join(orders_chunks(40))
    codec, options = EdifactCodec(), CodecOptions()
    expected = codec.split(data, options)
    stream = codec.stream_split([data[i : i + 5000] for i in range(0, len(data), 5000)], options)
    units = list(stream)
    assert [(u.ref, u.document_type, u.raw, [_error(w) for w in u.warnings]) for u in units] == [
        (u.ref, u.document_type, u.raw, [_error(w) for w in u.warnings]) for u in expected
    ]
    assert stream.findings() == []


def _grouped(messages: int) -> bytes:
    """The generated interchange with its messages in two functional groups."""
    half = messages // 2
    head = "UNA:+.? '\nUNB+UNOC:3+MOCKBUYER:ZZ+EURODIS:14+260301:1200+1++++++1'\n"
    groups = []
    for ref, numbers in (("11", range(1, half + 1)), ("12", range(half + 1, messages + 1))):
        body = "".join(orders_message(n) for n in numbers)
        groups.append(
            f"UNG+ORDERS+MOCKBUYER:ZZ+EURODIS:14+260301:1200+{ref}+UN+D:96A'\n{body}UNE+{len(numbers)}+{ref}'\n"
        )
    return (head + "".join(groups) + "UNZ+2+1'\n").encode("latin-1")


@pytest.mark.parametrize("grouped", [False, True], ids=["messages", "groups"])
def test_what_a_consumer_settles_between_windows_stays_for_the_contrl(grouped: bool) -> None:
    """The runner settles each processed message back into its interchange (a stub, for the CONTRL) while
    the stream is still being read: every window's reading must keep the stubs settled before it."""
    data = _grouped(120) if grouped else b"".join(orders_chunks(120))
    assert streamed(data, ReaderOptions(), 4096, 8192)[0] == whole(data, ReaderOptions())[0]
    stream = EdifactUnitStream(StreamReader((data[i : i + 4096] for i in range(0, len(data), 4096)), window=8192))
    units = iter(stream)
    while batch := list(itertools.islice(units, 7)):  # the runner takes a batch, runs it, settles it
        for unit in batch:
            stream.settle(unit, [])
    [ic] = stream.interchanges
    assert [m.ref for m in ic.messages] == [str(n) for n in range(1, 121)]
    assert [[m.ref for m in g.messages] for g in ic.groups] == (
        [[str(n) for n in range(1, 61)], [str(n) for n in range(61, 121)]] if grouped else []
    )
    assert stream.findings() == []
    assert b"UCM+120+ORDERS" in build_contrl(ic, [], control_ref="1")
