"""Retention by age per partner: whole lineage trees go, what remains keeps its lineage; and the group writer."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update

from b2b_gateway.errors import StoreUnavailableError
from b2b_gateway.pipeline import Message, Output, State
from b2b_gateway.pipeline.message import utcnow
from b2b_gateway.store import MessageRepository, SqlQueue
from b2b_gateway.store.schema import messages, outbox, payloads
from tests.delivery.conftest import order, settings_for


@pytest.fixture
async def repo(db_url: str, tmp_path: Path) -> AsyncIterator[MessageRepository]:
    r = await MessageRepository.open(settings_for(tmp_path, store={"url": db_url}))
    yield r
    await r.close()


async def _tree(repo: MessageRepository, partner: str, age_days: float, *, pending: bool = False) -> list[str]:
    root = Message(raw=order(f"IC-{partner}-{age_days}-{pending}"), channel="test", partner_id=partner)
    root.record("receive", "ok")
    root.state = State.SPLIT
    kid = root.child(order(f"PO-{partner}-{age_days}"), document_type="order")
    kid.state = State.ROUTED if pending else State.DELIVERED
    kid.outputs.append(Output(destination="erp", payload=f"out-{partner}-{age_days}".encode(), format="canonical-json"))
    await repo.save(root)
    await repo.save_and_enqueue(kid, owner="t", lease_s=1)
    if not pending:
        async with repo.db.begin() as conn:
            await conn.execute(update(outbox).where(outbox.c.message_id == kid.id).values(state="delivered"))
    when = utcnow() - dt.timedelta(days=age_days)
    async with repo.db.begin() as conn:
        await conn.execute(update(messages).where(messages.c.root_id == root.id).values(received_at=when))
    return [root.id, kid.id]


async def test_old_trees_go_young_and_busy_ones_stay(repo: MessageRepository) -> None:
    old = await _tree(repo, "ACME", 40)
    young = await _tree(repo, "ACME", 5)
    busy = await _tree(repo, "ACME", 50, pending=True)
    long_kept = await _tree(repo, "KEEPER", 40)
    replayed = await _tree(repo, "ACME", 45)
    replay = Message(raw=b"again", channel="test", partner_id="ACME", metadata={"replay_of": replayed[0]})
    replay.record("receive", "ok")
    await repo.save(replay)
    now = utcnow()
    report = await repo.purge({None: now - dt.timedelta(days=30), "KEEPER": now - dt.timedelta(days=90)})
    assert report.trees == 1 and report.messages == 2
    remaining = {m.id for m in await repo.list_messages()}
    assert not set(old) & remaining
    assert set(young + busy + long_kept + replayed) <= remaining
    for mid in remaining:  # no survivor points at something gone
        tree = await repo.lineage(mid)
        assert {t.root_id for t in tree} <= remaining
    async with repo.db.connect() as conn:
        shas = {r[0] for r in (await conn.execute(select(payloads.c.sha256))).all()}
    for mid in remaining:
        assert (await repo.get(mid)).summary.raw_sha256 in shas
    assert report.payloads >= 3  # the old tree's raw inputs and its output


async def test_a_purge_goes_pass_by_pass_past_the_trees_that_must_stay(repo: MessageRepository) -> None:
    """The oldest trees are busy (an output still waiting): the purge goes on past them, two roots a pass,
    each pass its own transaction, and deletes the old trees after them."""
    busy = [await _tree(repo, f"BUSY{i}", 60 - i, pending=True) for i in range(3)]
    old = [await _tree(repo, f"OLD{i}", 50 - i) for i in range(2)]
    young = await _tree(repo, "ACME", 5)
    commits = repo.writer.commits
    report = await repo.purge({None: utcnow() - dt.timedelta(days=30)}, per_pass=2)
    assert (report.trees, report.messages) == (2, 4)
    assert repo.writer.commits - commits >= 4  # three passes and the payload sweep, each its own commit
    remaining = {m.id for m in await repo.list_messages()}
    assert not {i for t in old for i in t} & remaining
    assert {i for t in busy for i in t} | set(young) <= remaining
    again = await repo.purge({None: utcnow() - dt.timedelta(days=30)}, per_pass=2)
    assert (again.trees, again.messages, again.payloads) == (0, 0, 0)


async def test_a_payload_shared_with_a_kept_message_stays(repo: MessageRepository) -> None:
    await _tree(repo, "ACME", 40)
    raw = order("IC-ACME-40-False")  # the old tree's input
    resent = Message(raw=raw, channel="test", partner_id="ACME")  # the same bytes again, today
    resent.record("receive", "ok")
    await repo.save(resent)
    report = await repo.purge({None: utcnow() - dt.timedelta(days=30)})
    assert report.trees == 1
    sha = (await repo.get(resent.id)).summary.raw_sha256
    assert await repo.payload(sha) == raw


async def test_queue_backend_put_claim_release_move(repo: MessageRepository) -> None:
    q = SqlQueue(repo.db, repo.writer)
    row = {"queue": "q", "exchange": "x", "routing_key": "k", "content_type": "text/plain", "headers": {"h": 1}}
    await q.put([{**row, "message_id": "m1", "body": b"one"}, {**row, "message_id": "m2", "body": b"two"}])
    await q.put([{**row, "message_id": "m1", "body": b"one"}])  # the same message id is queued once
    taken = await q.claim("q", owner="a", limit=10, lease_s=30)
    assert [t.message_id for t in taken] == ["m1", "m2"] and taken[0].body == b"one"
    assert await q.claim("q", owner="b", limit=10, lease_s=30) == []
    await q.ack(taken[0].id)
    await q.release(taken[1].id, delay_s=0, attempts=1, headers={"x-b2b-attempt": 1})
    again = await q.claim("q", owner="b", limit=10, lease_s=30)
    assert [(t.message_id, t.attempts, t.headers) for t in again] == [("m2", 1, {"x-b2b-attempt": 1})]
    await q.move(again[0].id, queue="q.dead", headers={"reason": "x"})
    assert await q.depths() == {"q.dead": (1, 0)}


async def test_one_bad_job_does_not_fail_its_batch(repo: MessageRepository) -> None:
    async def bad(conn: object) -> None:
        raise RuntimeError("boom")

    good = [Message(raw=order(f"PO-{i}"), channel="t") for i in range(5)]
    for m in good:
        m.record("receive", "ok")
    results = await asyncio.gather(*[repo.save(m) for m in good], repo.writer.run(bad), return_exceptions=True)
    assert [type(r).__name__ for r in results] == ["NoneType"] * 5 + ["RuntimeError"]
    assert len(await repo.list_messages()) == 5


async def test_a_locked_sqlite_store_is_unavailable_not_broken(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, store={"busy_timeout_ms": 200})
    repo = await MessageRepository.open(settings)
    blocker = await MessageRepository.open(settings)
    try:
        async with blocker.db.write.connect() as conn:
            await conn.begin()  # BEGIN IMMEDIATE: this connection holds the write lock
            await conn.execute(text("SELECT 1"))
            m = Message(raw=b"x", channel="t")
            m.record("receive", "ok")
            with pytest.raises(StoreUnavailableError):
                await repo.save(m)
            await conn.rollback()
        await repo.save(m)
        async with repo.db.connect() as c:
            assert (await c.execute(select(func.count()).select_from(messages))).scalar_one() == 1
    finally:
        await blocker.close()
        await repo.close()
