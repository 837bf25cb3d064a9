"""A big interchange read as a stream: same children outcomes and CONTRL as in memory, children stored, and
the real ``b2b-gateway run`` on a file dropped into its pickup directory.

The interchanges are made by ``bench/interchange.py`` (MOCKBUYER's ORDERS); a few messages are broken on
purpose (a UNT count, a business rule) so that rejected children and their CONTRL lines are compared too.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from bench.interchange import orders_chunks, orders_message, write_orders

from b2b_gateway.mapping.codec import CodecOptions
from b2b_gateway.pipeline import Message, Pipeline, State
from b2b_gateway.pipeline.message import AuditEvent
from b2b_gateway.runtime.acknowledgments import contrl_for
from b2b_gateway.runtime.context import build_context
from b2b_gateway.settings import Settings
from b2b_gateway.store.repository import MessageRepository
from b2b_gateway.transport.directory import DirectoryPickup

ROOT = Path(__file__).resolve().parents[2]


def _settings(tmp_path: Path, **limits: int) -> Settings:
    return Settings(
        paths={"data_dir": tmp_path / "var", "mappings_dir": ROOT / "mappings"},  # type: ignore[arg-type]
        http={"enabled": False},  # type: ignore[arg-type]
        limits=limits,  # type: ignore[arg-type]
    )


def _broken(messages: int) -> bytes:
    """The generated interchange with message 3's UNT count wrong and message 5 without an order number."""
    data = b"".join(orders_chunks(messages))
    three = orders_message(3).encode()
    data = data.replace(three, three.replace(b"UNT+37+3'", b"UNT+36+3'"))
    five = orders_message(5).encode()
    return data.replace(five, five.replace(b"BGM+220+PO-5+9'", b"BGM+220++9'"))


def _outcome(m: Message) -> tuple[Any, ...]:
    return (m.id, m.message_ref, m.state.value, m.business_key, sorted((e.code, str(e.location)) for e in m.errors))


async def _in_memory(settings: Settings, data: bytes) -> tuple[list[tuple[Any, ...]], bytes]:
    ctx = build_context(settings)
    message = Message(raw=data, channel="test", id="0" * 32)
    await Pipeline(ctx).run(message, stop_after="check")
    contrl = contrl_for(message, CodecOptions())[0]
    return [_outcome(kid) for kid in message.children], contrl


async def _streamed(settings: Settings, path: Path) -> tuple[list[tuple[Any, ...]], bytes, Message]:
    ctx = build_context(settings)
    seen: list[tuple[Any, ...]] = []

    def last(message: Message, event: AuditEvent) -> None:
        if message.parent_id is not None and (event.stage == "check" or event.outcome == "error"):
            seen.append(_outcome(message))

    ctx.observers.append(last)
    message = Message(raw=b"", path=str(path), channel="test", id="0" * 32)
    await Pipeline(ctx).run(message, stop_after="check")
    contrl = contrl_for(message, CodecOptions())
    return sorted(seen), contrl[0] if contrl else b"", message



def _unclocked(interchange: bytes) -> bytes:
    """An interchange with its UNB preparation date and time masked (the two runs may straddle a minute)."""
    return re.sub(rb"^(UNB\+[^+']*\+[^+']*\+[^+']*\+)[0-9]+:[0-9]+", rb"\g<1>000000:0000", interchange, flags=re.M)

def test_a_streamed_interchange_has_the_children_outcomes_and_contrl_of_the_in_memory_one(tmp_path: Path) -> None:
    data = _broken(600)
    path = tmp_path / "big.edi"
    path.write_bytes(data)
    settings = _settings(tmp_path, stream_batch=50)
    expected, contrl = asyncio.run(_in_memory(settings, data))
    outcomes, streamed_contrl, parent = asyncio.run(_streamed(settings, path))
    assert outcomes == sorted(expected)
    assert len(outcomes) == 600
    assert {o[2] for o in outcomes} == {"checked", "rejected"}
    assert sorted(o[1] for o in outcomes if o[2] == "rejected") == ["3", "5"]
    assert _unclocked(streamed_contrl) == _unclocked(contrl)
    assert b"UCM+3+ORDERS:D:96A:UN+4" in contrl
    assert parent.state is State.SPLIT and parent.child_count == 600
    assert parent.outcomes == {"checked": 598, "rejected": 2}
    assert sorted(k.message_ref or "" for k in parent.children) == ["3", "5"]  # only the failed ones are kept


def test_an_interchange_with_a_wrong_unz_count_is_rejected_whole_before_any_child(tmp_path: Path) -> None:
    data = b"".join(orders_chunks(50)).replace(b"UNZ+50+1'", b"UNZ+49+1'")
    path = tmp_path / "bad.edi"
    path.write_bytes(data)
    _, _, parent = asyncio.run(_streamed(_settings(tmp_path), path))
    assert parent.state is State.REJECTED and parent.child_count == 0
    assert [e.code for e in parent.errors] == ["CONTROL_COUNT"]
    assert parent.errors[0].location.segment == "UNZ"


async def _store_stream(settings: Settings, path: Path) -> tuple[Message, dict[str, int], int]:
    repo = await MessageRepository.open(settings)
    try:
        ctx = build_context(settings)
        ctx.store = repo
        message = Message(raw=b"", path=str(path), channel="test")
        await Pipeline(ctx).run(message, stop_after="store")
    finally:
        await repo.close()
    with sqlite3.connect(settings.paths.data_dir / "gateway.db") as conn:
        states = dict(conn.execute("select state, count(*) from messages where parent_id is not null group by state"))
        kind = conn.execute("select compression, size from payloads where sha256 = ?", (message.sha256,)).fetchone()
    assert kind == ("file", message.size)
    return message, states, message.child_count


def test_streamed_children_are_stored_in_sqlite_and_the_input_as_a_file_reference(tmp_path: Path) -> None:
    path = write_orders(tmp_path / "orders.edi", 400)
    message, states, count = asyncio.run(_store_stream(_settings(tmp_path, stream_batch=64), path))
    assert count == 400 and states == {"stored": 400} and message.size == path.stat().st_size
    assert message.outcomes == {"stored": 400} and message.children == []


def test_a_file_over_the_stream_limit_is_rejected_with_a_located_error(tmp_path: Path) -> None:
    path = write_orders(tmp_path / "orders.edi", 20)
    _, _, parent = asyncio.run(_streamed(_settings(tmp_path, max_stream_bytes=10_000), path))
    assert parent.state is State.REJECTED
    error = parent.errors[0]
    assert error.code == "TOO_LARGE" and error.location.offset == 10_000
    assert "limits.max_stream_bytes" in (error.hint or "")


@pytest.mark.slow
def test_run_streams_a_big_interchange_from_the_pickup_directory(tmp_path: Path) -> None:
    """``b2b-gateway run --once`` on a 12 MB interchange (12,000 messages) dropped into ``var/in``."""
    from bench.memory import measure_peak_rss

    path = write_orders(tmp_path / "orders-12k.edi", 12_000)
    work = tmp_path / "work"
    result = measure_peak_rss(path, command="run", keep=work)
    assert result["exit"] == 0, result
    assert result["states"] == {"delivered": 12_000}
    assert len(list((work / "var" / "erp").iterdir())) == 12_000
    archived = list((work / "var" / "in.archive").iterdir())
    assert len(archived) == 1 and archived[0].stat().st_size == path.stat().st_size
    with sqlite3.connect(work / "var" / "gateway.db") as conn:
        (meta,) = conn.execute("select meta from messages where parent_id is null").fetchone()
        (queued,) = conn.execute("select max(length(body)) from queue_messages").fetchone()
    assert json.loads(meta)["outcomes"] == "routed=12000"
    assert (queued or 0) < 100_000  # the file itself never went through the queue
    print(f"\n12,000 messages streamed: peak RSS {result['peak_rss_mb']} MB in {result['seconds']} s")


def test_a_queued_file_reference_is_followed_only_into_the_pickup_archive(tmp_path: Path) -> None:
    from b2b_gateway.pipeline import Direction
    from b2b_gateway.runtime.worker import message_from_envelope
    from b2b_gateway.transport import Envelope, Headers

    archive = tmp_path / "in.archive"
    archive.mkdir()
    inside = write_orders(archive / "x-orders.edi", 3)
    outside = write_orders(tmp_path / "elsewhere.edi", 3)

    def path_of(name: Path) -> str | None:
        envelope = Envelope(body=b"", message_id="a" * 32, headers={Headers.FILE: str(name)})
        return message_from_envelope(envelope, Direction.INBOUND, files=archive).path

    assert path_of(inside) == str(inside.resolve())
    assert path_of(outside) is None
    assert path_of(archive / ".." / "elsewhere.edi") is None


def test_only_big_edifact_files_are_left_to_be_streamed_others_are_read_whole(tmp_path: Path) -> None:
    pickup = DirectoryPickup(tmp_path / "in", settle_s=0.0, stream_threshold=1000)
    big_edifact = b"".join(orders_chunks(5))
    assert len(big_edifact) > 1000
    (pickup.inbox / "big.edi").write_bytes(b"\xef\xbb\xbf\n" + big_edifact)
    (pickup.inbox / "big.xml").write_bytes(b'<?xml version="1.0"?><Invoice>' + b"x" * 2000 + b"</Invoice>")
    (pickup.inbox / "banner.edi").write_bytes(b"BANNER FROM THE VAN\n" + big_edifact)
    (pickup.inbox / "small.edi").write_bytes(b"".join(orders_chunks(1))[:900])
    picked: dict[str, bytes | None] = {}
    for _ in range(3):
        picked.update({f.name: f.data for f in pickup.poll()})
    assert set(picked) == {"big.edi", "big.xml", "banner.edi", "small.edi"}
    assert picked["big.edi"] is None  # streamed from the archived file
    assert picked["big.xml"] is not None and picked["banner.edi"] is not None and picked["small.edi"] is not None
