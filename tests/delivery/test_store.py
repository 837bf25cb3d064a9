"""The message store on SQLite and PostgreSQL: migrations, idempotent saves, lineage, reads, counters, duplicates."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event, func, insert, select, text, update

from b2b_gateway.errors import BusinessRuleError, NotFoundError
from b2b_gateway.pipeline import Message, Output, Pipeline, PipelineContext, State
from b2b_gateway.pipeline.message import utcnow
from b2b_gateway.store import MessageFilter, MessageRepository, OutboxItem, repository
from b2b_gateway.store.migrate import current_revision, head_revision, upgrade
from b2b_gateway.store.outbox import AttemptOutcome
from b2b_gateway.store.records import output_key
from b2b_gateway.store.schema import audit_events, dedup, messages, metadata, outbox, payloads
from tests.delivery.conftest import order, settings_for


@pytest.fixture
async def repo(db_url: str, tmp_path: Path) -> AsyncIterator[MessageRepository]:
    r = await MessageRepository.open(settings_for(tmp_path, store={"url": db_url}))
    yield r
    await r.close()


def _processed(raw: bytes, *, key: str = "PO-1", state: State = State.STORED) -> Message:
    m = Message(raw=raw, channel="test", partner_id="ACME", document_type="order", business_key=key)
    m.record("receive", "ok", "in")
    m.state = state
    m.record("store", "ok")
    return m


async def test_migrations_reach_head_and_match_the_tables(repo: MessageRepository) -> None:
    assert await current_revision(repo.db) == head_revision()
    assert await upgrade(repo.db) == (head_revision(), head_revision())
    async with repo.db.connect() as conn:
        diff = await conn.run_sync(
            lambda c: compare_metadata(MigrationContext.configure(c, opts={"compare_type": True}), metadata)
        )
    assert diff == []


async def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    r = await MessageRepository.open(settings_for(tmp_path))
    try:
        async with r.db.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert Path(r.db.url.split("///")[1]) == tmp_path / "var" / "gateway.db"
    finally:
        await r.close()


async def test_saving_again_writes_nothing_twice(repo: MessageRepository) -> None:
    m = _processed(order("PO-1"))
    m.outputs.append(Output(destination="erp", payload=b'{"a": 1}', format="canonical-json"))
    for _ in range(3):
        await repo.save(m)
    m.record("route", "ok", "erp")
    await repo.save(m)
    detail = await repo.get(m.id)
    assert [e["stage"] for e in detail.events] == ["receive", "store", "route"]
    assert len(detail.outputs) == 1 and detail.outputs[0]["id"] == output_key(m.id, m.outputs[0])
    assert await repo.payload(m.sha256) == m.raw


async def test_payloads_are_stored_with_zstd_and_zlib_ones_of_earlier_versions_still_read(
    repo: MessageRepository,
) -> None:
    m = _processed(order("PO-Z"))
    await repo.save(m)
    async with repo.db.connect() as conn:
        kind = (await conn.execute(select(payloads.c.compression).where(payloads.c.sha256 == m.sha256))).scalar()
    assert kind == "zstd"
    assert await repo.payload(m.sha256) == m.raw
    earlier = order("PO-OLD") * 3
    sha = hashlib.sha256(earlier).hexdigest()
    row = {"sha256": sha, "size": len(earlier), "compression": "zlib", "data": zlib.compress(earlier, 1)}
    async with repo.db.begin() as conn:
        await conn.execute(insert(payloads).values(**row, created_at=utcnow()))
    assert await repo.payload(sha) == earlier


async def test_a_second_run_of_the_same_message_is_recorded_as_such(repo: MessageRepository) -> None:
    first = _processed(order("PO-1"))
    await repo.save(first)
    await asyncio.sleep(0.002)
    again = _processed(order("PO-1"))
    again.id = first.id
    await repo.save(again)
    detail = await repo.get(first.id)
    assert [e["stage"] for e in detail.events] == ["receive", "store", "receive", "store"]
    assert len({e["run"] for e in detail.events}) == 2


async def test_a_delivered_message_does_not_fall_back_to_routed(repo: MessageRepository) -> None:
    m = _processed(order("PO-1"), state=State.ROUTED)
    await repo.save(m)
    async with repo.db.begin() as conn:
        await conn.execute(update(messages).values(state="delivered"))
    m.record("acknowledge", "ok", "CONTRL")
    await repo.save(m)
    assert (await repo.get(m.id)).summary.state == "delivered"


async def test_errors_lineage_and_reload(repo: MessageRepository) -> None:
    root = Message(raw=b"UNB+...interchange", channel="test", partner_id="ACME")
    root.record("receive", "ok")
    kids = [root.child(b"UNH+1", document_type="order"), root.child(b"UNH+2", document_type="order")]
    root.state = State.SPLIT
    kids[0].state = State.ROUTED
    kids[1].errors.append(BusinessRuleError("totals are off", code="BR-CO-15"))
    kids[1].state = State.REJECTED
    for m in [root, *kids]:
        m.record("decode", "ok")
        await repo.save(m)
    again = Message(raw=root.raw, id=root.id)
    assert [again.child(b"x").id, again.child(b"y").id] == [k.id for k in kids]  # ids derive from the position
    tree = await repo.lineage(kids[1].id)
    assert [t.id for t in tree] == [root.id, kids[0].id, kids[1].id]
    assert {t.root_id for t in tree} == {root.id}
    shown = await repo.get(kids[1].id)
    assert shown.errors[0]["code"] == "BR-CO-15" and shown.summary.last_error.startswith("[BR-CO-15]")
    loaded = await repo.load_message(root.id)
    assert loaded.raw == root.raw and [c.id for c in loaded.children] == [k.id for k in kids]
    assert loaded.children[1].errors[0].code == "BR-CO-15"


async def test_list_and_filter(repo: MessageRepository) -> None:
    for i, state in enumerate([State.DELIVERED, State.PARKED, State.REJECTED]):
        m = _processed(order(f"PO-{i}"), key=f"PO-{i}", state=state)
        m.partner_id = "ACME" if i < 2 else "OTHER"
        await repo.save(m)
    assert [r.business_key for r in await repo.list_messages(MessageFilter(state=["parked"]))] == ["PO-1"]
    assert len(await repo.list_messages(MessageFilter(partner="ACME"))) == 2
    assert [r.business_key for r in await repo.list_messages(MessageFilter(business_key="PO-2"))] == ["PO-2"]
    assert len(await repo.list_messages(MessageFilter(business_key="PO-*", limit=2))) == 2
    assert len(await repo.list_messages(MessageFilter(since=utcnow() + dt.timedelta(minutes=1)))) == 0
    assert await repo.count_messages() == {"delivered": 1, "parked": 1, "rejected": 1}
    with pytest.raises(NotFoundError):
        await repo.get("0" * 32)


async def test_counters_survive_and_never_repeat(repo: MessageRepository) -> None:
    values = await asyncio.gather(*[repo.next("ACME:edifact:interchange") for _ in range(50)])
    assert sorted(values) == list(range(1, 51))
    assert await repo.next("OTHER:edifact:interchange") == 1


@pytest.mark.parametrize("block", [1, 2, 20])
async def test_two_stores_share_counters_in_any_order_without_deadlock(
    repo: MessageRepository, db_url: str, tmp_path: Path, block: int
) -> None:
    """Two gateways (two stores on one database) allocate several counters in opposite orders at once."""
    repo.counter_block = block
    other = await MessageRepository.open(settings_for(tmp_path, store={"url": db_url, "counter_block": block}))
    keys = ["B:edifact:message", "A:edifact:interchange", "B:edifact:interchange", "A:edifact:message"]
    try:
        jobs = [r.next(k) for i in range(40) for r, k in ((repo, keys[i % 4]), (other, keys[3 - i % 4]))]
        values = await asyncio.gather(*jobs)
    finally:
        await other.close()
    got: dict[str, list[int]] = {}
    mine: dict[str, list[int]] = {}
    for i, value in enumerate(values):
        pair, turn = divmod(i, 2)
        key = keys[pair % 4] if turn == 0 else keys[3 - pair % 4]
        got.setdefault(key, []).append(value)
        mine.setdefault(f"{turn}:{key}", []).append(value)
    for key, taken in got.items():
        assert len(set(taken)) == len(taken) == 20, key  # never one value twice, across the two processes
    assert all(v == sorted(v) for v in mine.values())  # in increasing order within each process
    if block == 1:
        assert {k: sorted(v) for k, v in got.items()} == {k: list(range(1, 21)) for k in keys}
    if block == 2:  # blocks of 2 cannot keep up with 10 values at once: they grew in both stores
        assert max(repo._sizes.values()) > 2 and max(other._sizes.values()) > 2


async def test_counter_blocks_save_commits_and_a_restart_never_repeats_a_value(
    repo: MessageRepository, db_url: str, tmp_path: Path
) -> None:
    repo.counter_block = 20
    before = repo.writer.jobs
    first = []
    for i in range(30):
        if i == 20:  # the second block was reserved in the background once half the first was used
            assert repo.writer.jobs - before == 2 and repo._ahead["ACME:edifact:interchange"][1].done()
        first.append(await repo.next("ACME:edifact:interchange"))
        await asyncio.sleep(0.01)
    assert first == list(range(1, 31))
    assert repo.writer.jobs - before == 2  # two blocks reserved, not thirty commits
    again = await MessageRepository.open(settings_for(tmp_path, store={"url": db_url, "counter_block": 20}))
    try:
        assert await again.next("ACME:edifact:interchange") == 41  # the rest of the first process's block is skipped
    finally:
        await again.close()


async def test_take_now_hands_out_a_held_block_without_a_commit(repo: MessageRepository) -> None:
    key = "ACME:edifact:interchange"
    repo.counter_block = 4
    assert repo.take_now(key) is None  # nothing held yet: next() reserves
    assert await repo.next(key) == 1
    before = repo.writer.jobs
    assert [repo.take_now(key), repo.take_now(key), repo.take_now(key)] == [2, 3, 4]
    assert repo.take_now(key) is None  # the block is used up
    assert await repo.next(key) == 5  # the block reserved ahead once half the first was handed out
    assert repo.writer.jobs - before == 1
    repo.counter_block = 1
    assert repo.take_now(key) is None  # no blocks: every value is its own commit


async def test_take_now_takes_the_block_reserved_ahead_once_it_has_arrived(repo: MessageRepository) -> None:
    """A document needing a reference does not fall back to the slow path (a second build of its CONTRL
    and a wait for a commit) while the next block is already committed."""
    key = "ACME:edifact:interchange"
    repo.counter_block = 4
    assert await repo.next(key) == 1
    assert [repo.take_now(key), repo.take_now(key), repo.take_now(key)] == [2, 3, 4]  # the next block reserved at 3
    await asyncio.wait_for(repo._ahead[key][1], 10)
    before = repo.writer.jobs
    assert [repo.take_now(key), repo.take_now(key)] == [5, 6]
    assert repo.writer.jobs == before  # no commit of its own


async def test_counter_blocks_grow_when_the_demand_outruns_them(
    repo: MessageRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    """300 references asked for at once with blocks of 4: 8 reservations (4, 4, 8 … 256), not 75."""
    key = "ACME:edifact:message"
    repo.counter_block = 4
    before = repo.writer.jobs
    values = await asyncio.gather(*[repo.next(key) for _ in range(300)])
    assert values == list(range(1, 301))
    assert repo.writer.jobs - before <= 9
    assert repo._sizes[key] >= 128
    assert await repo.next("OTHER:edifact:message") == 1 and "OTHER:edifact:message" not in repo._sizes

    monkeypatch.setattr(repository, "MAX_BLOCK", 16)
    capped = "CAPPED:edifact:message"
    values = await asyncio.gather(*[repo.next(capped) for _ in range(100)])
    assert values == list(range(1, 101))
    assert repo._sizes[capped] == 16  # never more than MAX_BLOCK


async def test_one_group_commit_transaction_at_a_time_unless_configured(
    repo: MessageRepository, db_url: str, tmp_path: Path
) -> None:
    """``store.writers`` (1): more transactions in flight made more, smaller commits (docs/delivery.md)."""
    assert repo.writer.workers == 1
    other = await MessageRepository.open(settings_for(tmp_path, store={"url": db_url, "writers": 3}))
    try:
        assert other.writer.workers == (1 if other.db.is_sqlite else 3)  # SQLite has one writer connection
    finally:
        await other.close()


async def test_duplicate_claims(repo: MessageRepository) -> None:
    first = _processed(order("PO-1"), state=State.VERIFIED)
    keys = [("ACME", "ref", "PO-1"), ("ACME", "sha256", first.sha256)]
    assert await repo.claim_unique(first, keys) is None
    assert await repo.claim_unique(first, keys) is None  # the same message again (a redelivery) is not a duplicate
    second = _processed(order("PO-1"), state=State.VERIFIED)
    assert await repo.claim_unique(second, keys) == (first.id, "verified")
    first.state = State.REJECTED
    await repo.save(first)
    third = _processed(order("PO-1"), state=State.VERIFIED)
    assert await repo.claim_unique(third, keys) is None  # a resend after a rejection goes through
    async with repo.db.connect() as conn:
        owner = await conn.execute(select(dedup.c.message_id).where(dedup.c.kind == "ref"))
        assert owner.scalar_one() == third.id


async def test_a_stalled_earlier_copy_does_not_block_a_resend(repo: MessageRepository) -> None:
    stuck = _processed(order("PO-9"), state=State.VERIFIED)
    keys = [("ACME", "ref", "PO-9")]
    assert await repo.claim_unique(stuck, keys) is None
    async with repo.db.begin() as conn:
        await conn.execute(update(messages).values(updated_at=utcnow() - dt.timedelta(hours=1)))
    assert await repo.claim_unique(_processed(order("PO-9"), state=State.VERIFIED), keys) is None


async def test_fresh_outbox_entries_are_handed_over_as_the_store_would_read_them(repo: MessageRepository) -> None:
    """New entries are built from the message (no read-back); they equal what the outbox holds."""
    from b2b_gateway.store.outbox import load_items

    m = _processed(order("PO-4"), state=State.ROUTED)
    m.correlation_id = "corr-4"
    m.outputs.append(
        Output(destination="erp", payload=b'{"a": 1}', format="canonical-json", headers={"traceparent": "00-x"})
    )
    m.outputs.append(Output(destination="partner:ACME", payload=b"UNA:+.? '", format="edifact", kind="acknowledgment"))
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(" ".join(statement.split()).upper())

    event.listen(repo.db.write.sync_engine, "before_cursor_execute", seen)
    try:
        assert await repo.claim_unique(m, [("ACME", "ref", "PO-4")]) is None
        handed = (await repo.save_and_enqueue(m, owner="a", lease_s=30)).items
    finally:
        event.remove(repo.db.write.sync_engine, "before_cursor_execute", seen)
    assert not [q for q in statements if q.startswith("SELECT")]  # first holder, new entries: nothing read back
    async with repo.db.connect() as conn:
        stored = await load_items(conn, [i.id for i in handed])
    assert all(i.lease_until is not None and i.lease_until > utcnow() for i in handed)  # the relay knows the lease
    unleased = [dataclasses.replace(i, lease_until=None) for i in handed]
    assert sorted(unleased, key=lambda i: i.id) == sorted(stored, key=lambda i: i.id) and len(handed) == 2


async def test_an_output_added_later_is_handed_over_alone(repo: MessageRepository) -> None:
    """A document saved with its ERP output, then again with its CONTRL: the ERP output is not handed twice."""
    m = _processed(order("PO-2"), state=State.ROUTED)
    m.outputs.append(Output(destination="erp", payload=b"{}", format="canonical-json"))
    first = await repo.save_and_enqueue(m, owner="a", lease_s=30)
    m.outputs.append(Output(destination="partner:ACME", payload=b"UNA", format="edifact", kind="acknowledgment"))
    second = await repo.save_and_enqueue(m, owner="a", lease_s=30)
    assert [i.destination for i in first.items] == ["erp"]
    assert [i.destination for i in second.items] == ["partner:ACME"]


async def test_rows_deferred_to_the_next_save_commit_with_it(repo: MessageRepository) -> None:
    from b2b_gateway.store.conversations import BusinessRef, ConversationStore

    talk = ConversationStore(repo)
    m = _processed(order("PO-3"), state=State.ROUTED)
    talk.record_refs_with(m, [BusinessRef(m.id, "PO-3", "ordered", "")])
    assert await talk.refs_of([m.id]) == {}  # nothing written yet: no commit of its own
    await repo.save(m)
    assert await talk.refs_of([m.id]) == {m.id: ["PO-3"]}
    await repo.save(m)  # written once
    async with repo.db.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM business_refs"))).scalar_one() == 1


async def test_rows_waiting_for_a_save_survive_the_save_cache_running_full(repo: MessageRepository) -> None:
    from b2b_gateway.store.conversations import BusinessRef, ConversationStore

    small = MessageRepository(repo.db, cache_size=2)
    try:
        talk = ConversationStore(small)
        waiting = _processed(order("PO-5"), state=State.ROUTED)
        talk.record_refs_with(waiting, [BusinessRef(waiting.id, "PO-5", "ordered", "")])
        others = [_processed(order(f"PO-6{i}"), state=State.ROUTED) for i in range(5)]
        for other in others:  # five other messages pass through a cache of two
            await small.save(other)
        await small.save(waiting)
        assert await talk.refs_of([waiting.id]) == {waiting.id: ["PO-5"]}
    finally:
        await small.writer.close()


async def test_deferred_claims_go_with_the_outbox_save_each_with_its_own_error(repo: MessageRepository) -> None:
    """Receipt and document keys claimed in the outbox save: a copy fails with the error of the group
    whose key is held, nothing of it written; a message saved before its outbox save claims nothing;
    ``claim_deferred`` claims at once (an interchange about to be split)."""
    from b2b_gateway.errors import DuplicateDocumentError

    def error(kind: str) -> Any:
        return lambda earlier, state: DuplicateDocumentError(f"{kind} of {earlier} ({state})")

    def defer(m: Message, sha: str, number: str) -> None:
        repo.defer_claim(m, [("ACME", "ref", "IC-" + number), ("ACME", "sha256", sha)], error("receipt"))
        repo.defer_claim(m, [("ACME", "doc", "order:" + number)], error("document"))

    first = _processed(order("PO-8"), state=State.ROUTED)
    first.outputs.append(Output(destination="erp", payload=b"{}", format="canonical-json"))
    defer(first, first.sha256, "PO-8")
    assert len((await repo.save_and_enqueue(first, owner="a", lease_s=30)).items) == 1

    copy = _processed(order("PO-8", note="a new interchange"), state=State.ROUTED)
    copy.outputs.append(Output(destination="erp", payload=b"{}", format="canonical-json"))
    defer(copy, copy.sha256, "PO-8")  # the same interchange reference: the receipt's error
    with pytest.raises(DuplicateDocumentError, match=f"receipt of {first.id} \\(routed\\)"):
        await repo.save_and_enqueue(copy, owner="a", lease_s=30)
    assert await repo.existing([copy.id]) == set()  # rolled back: nothing of the copy stored

    other = _processed(order("PO-8", note="another"), state=State.ROUTED)
    other.outputs.append(Output(destination="erp", payload=b"{}", format="canonical-json"))
    repo.defer_claim(other, [("ACME", "ref", "IC-other")], error("receipt"))
    repo.defer_claim(other, [("ACME", "doc", "order:PO-8")], error("document"))  # a new interchange, same order
    with pytest.raises(DuplicateDocumentError, match="document of"):
        await repo.save_and_enqueue(other, owner="a", lease_s=30)

    stopped = _processed(order("PO-8", note="rejected"), state=State.REJECTED)
    defer(stopped, stopped.sha256, "PO-8")
    await repo.save(stopped)  # stopped before its outbox save: its claims are dropped
    stopped.outputs.append(Output(destination="partner:ACME", payload=b"UNA", format="edifact", kind="acknowledgment"))
    assert len((await repo.save_and_enqueue(stopped, owner="a", lease_s=30)).items) == 1  # its CONTRL goes

    parent = _processed(order("PO-8", note="split"), state=State.SPLIT)
    repo.defer_claim(parent, [("ACME", "ref", "IC-PO-8")], error("receipt"))
    with pytest.raises(DuplicateDocumentError, match="receipt of"):
        await repo.claim_deferred(parent)
    assert await repo.existing([parent.id]) == {parent.id}  # saved with the claim's verdict
    await repo.claim_deferred(parent)  # nothing left to claim

    racing = [_processed(order("PO-10"), state=State.ROUTED) for _ in range(10)]
    for m in racing:
        m.outputs.append(Output(destination="erp", payload=b"{}", format="canonical-json"))
        defer(m, m.sha256, "PO-10")
    won = await asyncio.gather(
        *(repo.save_and_enqueue(m, owner="a", lease_s=30) for m in racing), return_exceptions=True
    )
    assert sum(not isinstance(w, BaseException) for w in won) == 1
    assert all(isinstance(w, DuplicateDocumentError) for w in won if isinstance(w, BaseException))


async def test_concurrent_identical_documents_claim_once(repo: MessageRepository) -> None:
    msgs = [_processed(order("PO-7"), state=State.VERIFIED) for _ in range(20)]
    results = await asyncio.gather(*[repo.claim_unique(m, [("ACME", "ref", "PO-7")]) for m in msgs])
    assert sum(r is None for r in results) == 1


async def test_outbox_enqueue_is_idempotent(repo: MessageRepository) -> None:
    m = _processed(order("PO-1"), state=State.ROUTED)
    m.outputs.append(Output(destination="erp", payload=b"{}", format="canonical-json"))
    first = await repo.save_and_enqueue(m, owner="a", lease_s=30)
    assert (await repo.save_and_enqueue(m, owner="a", lease_s=30)).items == []  # handed over once per process
    rerun = _processed(order("PO-1"), state=State.ROUTED)  # the same input processed again (its id is stable)
    rerun.id = m.id
    rerun.outputs.append(Output(destination="erp", payload=b"{}", format="canonical-json", id=m.outputs[0].id))
    again = await repo.save_and_enqueue(rerun, owner="a", lease_s=30)
    assert [i.id for i in first.items] == [i.id for i in again.items] and len(first.items) == 1
    assert first.items[0].payload == b"{}" and first.items[0].idempotency_key == output_key(m.id, m.outputs[0])
    other = await repo.save_and_enqueue(m, owner="b", lease_s=30)
    assert other.items == []  # leased to another process
    assert await repo.claim_due(owner="b", limit=10, lease_s=30) == []  # lease still running
    async with repo.db.begin() as conn:
        await conn.execute(update(outbox).values(lease_until=utcnow() - dt.timedelta(seconds=1)))
    taken = await repo.claim_due(owner="b", limit=10, lease_s=30)
    assert [i.id for i in taken] == [first.items[0].id]
    async with repo.db.connect() as conn:
        # two runs of the document (the first and the rerun) with their own events; payloads stored once
        assert (await conn.execute(select(func.count()).select_from(audit_events))).scalar_one() == 4
        assert (await conn.execute(select(func.count()).select_from(payloads))).scalar_one() == 2


async def test_two_attempts_of_one_entry_at_once_are_both_counted_and_audited(repo: MessageRepository) -> None:
    """An entry whose lease ran out while an attempt was in flight is tried again: both attempts are recorded."""
    m = _processed(order("PO-2"), state=State.ROUTED)
    m.outputs.append(Output(destination="partner:ACME", payload=b"{}", format="canonical-json"))
    (first,) = (await repo.save_and_enqueue(m, owner="a", lease_s=30)).items
    second = dataclasses.replace(first)  # claimed again by another process while the first was in flight
    await repo.apply_outcome(AttemptOutcome(first, "retry", "HTTP 500", "http://p", next_attempt_at=utcnow()))
    await repo.apply_outcome(AttemptOutcome(second, "retry", "HTTP 500", "http://p", next_attempt_at=utcnow()))
    late = dataclasses.replace(first, attempts=1)
    await repo.apply_outcome(AttemptOutcome(late, "delivered", "HTTP 200", "http://p"))
    await repo.apply_outcome(AttemptOutcome(dataclasses.replace(late), "dead", "HTTP 500", "http://p"))
    detail = await repo.get(m.id)
    attempts = [e["detail"] for e in detail.events if e["stage"] == "deliver"]
    assert [a.split(":")[1] for a in attempts] == [
        "ACME attempt 1",
        "ACME attempt 2",
        "ACME attempt 3",
        "ACME attempt 4",
    ]
    assert "recorded, not acted on" in attempts[1] and "recorded, not acted on" in attempts[3]
    assert detail.outputs[0]["state"] == "delivered" and detail.outputs[0]["attempts"] == 4
    assert detail.summary.state == "delivered" and detail.errors == []  # the stale dead verdict changed nothing


async def _rows_of(repo: MessageRepository, message_id: str) -> dict[str, list[tuple[Any, ...]]]:
    """What the store holds of a message, table by table (without generated ids and times)."""
    async with repo.db.connect() as conn:
        return {
            "messages": [
                tuple(r)
                for r in await conn.execute(
                    select(messages.c.state, messages.c.partner_id, messages.c.document_type, messages.c.size).where(
                        messages.c.id == message_id
                    )
                )
            ],
            "events": [
                tuple(r)
                for r in await conn.execute(
                    select(audit_events.c.stage, audit_events.c.outcome, audit_events.c.detail, audit_events.c.data)
                    .where(audit_events.c.message_id == message_id)
                    .order_by(audit_events.c.id)
                )
            ],
            "outbox": [
                tuple(r)
                for r in await conn.execute(
                    select(outbox.c.kind, outbox.c.destination, outbox.c.state).where(outbox.c.message_id == message_id)
                )
            ],
        }


async def test_one_document_is_written_in_one_statement_on_postgresql_as_it_would_be_table_by_table(
    repo: MessageRepository,
) -> None:
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    def document(key: str) -> Message:
        m = _processed(order(key), key=key, state=State.ROUTED)
        m.record("route", "ok", "erp", destinations=["erp"])
        m.signature = b"signature"
        m.outputs.append(Output(destination="erp", payload=b'{"n": 1}', format="json"))
        m.outputs.append(Output(destination="partner:ACME", payload=b"UNB'", format="edifact", kind="acknowledgment"))
        return m

    event.listen(repo.db.write.sync_engine, "before_cursor_execute", seen)
    try:
        held = {}
        for combine in (True, False, True):  # the second time, the statement built for the shape is reused
            repo.writer.combine = combined = combine and not repo.db.is_sqlite  # SQLite has no DML in CTEs
            statements.clear()
            m = document(f"PO-{len(held)}")
            result = await repo.save_and_enqueue(m, owner="me", lease_s=30)
            assert len(result.items) == 2
            inserts = [s for s in statements if s.lstrip().upper().startswith(("INSERT", "WITH"))]
            assert len(inserts) == (2 if combined else 6), inserts  # + the outbox (its RETURNING says what is new)
            held[combine, len(held)] = (m.id, combined)
    finally:
        event.remove(repo.db.write.sync_engine, "before_cursor_execute", seen)
    written = [await _rows_of(repo, mid) for mid, _ in held.values()]
    assert written[0] == written[1] == written[2]  # the same rows either way
    assert len(written[0]["events"]) == 3 and len(written[0]["outbox"]) == 2
    assert written[0]["events"][2][3] == {"destinations": ["erp"]}  # JSON kept as JSON
    saved = await repo.load_message(held[True, 0][0])
    detail = await repo.get(saved.id)
    assert detail.signature is not None and saved.raw == order("PO-0")
    assert sorted([await repo.payload(o["payload_sha256"]) for o in detail.outputs]) == [b"UNB'", b'{"n": 1}']


async def _record_after(repo: MessageRepository, delay_s: float, item: OutboxItem) -> None:
    await asyncio.sleep(delay_s)  # one after another, as the broker confirms them
    await repo.apply_outcome(AttemptOutcome(item, "delivered", "confirmed", "amqp://erp"))


async def test_delivery_outcomes_recorded_close_together_share_one_transaction(db_url: str, tmp_path: Path) -> None:
    """``store.outcome_linger_ms``: outcomes off the documents' path are written together, not one by one."""
    commits = {}
    for linger_ms in (50.0, 0.0):
        settings = settings_for(tmp_path / str(linger_ms), store={"url": db_url, "outcome_linger_ms": linger_ms})
        repo = await MessageRepository.open(settings)
        try:
            items = []
            for i in range(5):
                key = f"PO-L{linger_ms:.0f}-{i}"
                m = _processed(order(key), key=key, state=State.ROUTED)
                m.outputs.append(Output(destination="erp", payload=b"{}", format="canonical-json"))
                items += (await repo.save_and_enqueue(m, owner="a", lease_s=30)).items
            before, delivered = repo.writer.commits, (await repo.outbox_counts()).get("delivered", 0)
            await asyncio.gather(*(_record_after(repo, 0.004 * i, item) for i, item in enumerate(items)))
            commits[linger_ms] = repo.writer.commits - before
            assert (await repo.outbox_counts())["delivered"] == delivered + 5
            late = items[0]
            closing = asyncio.create_task(repo.apply_outcome(AttemptOutcome(late, "delivered", "again", "amqp://erp")))
            await asyncio.sleep(0)
        finally:
            await repo.close()  # what still lingers is written first
        if linger_ms:
            assert closing.done() and closing.exception() is None
    assert commits[50.0] == 1 and commits[0.0] > 1


async def test_the_messages_a_batch_of_outcomes_delivers_settle_in_one_statement(db_url: str, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, store={"url": db_url, "outcome_linger_ms": 50.0})
    repo = await MessageRepository.open(settings)
    statements: list[tuple[str, bool]] = []

    def seen(conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
        statements.append((statement, executemany))

    try:
        items, ids = [], []
        for i in range(5):
            m = _processed(order(f"PO-S{i}"), key=f"PO-S{i}", state=State.ROUTED)
            m.outputs.append(Output(destination="erp", payload=b"{}", format="canonical-json"))
            if i == 4:  # a second document output, not delivered: the message stays routed
                m.outputs.append(Output(destination="archive", payload=b"[]", format="canonical-json"))
            taken = (await repo.save_and_enqueue(m, owner="a", lease_s=30)).items
            items += [t for t in taken if t.destination == "erp"]
            ids.append(m.id)
        event.listen(repo.db.write.sync_engine, "before_cursor_execute", seen)
        await asyncio.gather(*(repo.apply_outcome(AttemptOutcome(t, "delivered", "ok", "amqp://erp")) for t in items))
        event.remove(repo.db.write.sync_engine, "before_cursor_execute", seen)
        settles = [(s, many) for s, many in statements if s.lstrip().upper().startswith("UPDATE MESSAGES")]
        assert len(settles) == 1 and settles[0][1] is False, settles  # one statement, one parameter set
        async with repo.db.connect() as conn:
            found = await conn.execute(select(messages.c.id, messages.c.state).where(messages.c.id.in_(ids)))
            states = dict(found.all())
        assert [states[i] for i in ids] == ["delivered"] * 4 + ["routed"]
    finally:
        await repo.close()


async def test_an_attempt_in_flight_that_delivers_a_dead_lettered_entry_makes_it_delivered(
    repo: MessageRepository,
) -> None:
    """Leases ran out: one attempt dead-letters the entry while another, in flight, reaches the partner."""
    m = _processed(order("PO-3"), state=State.ROUTED)
    m.outputs.append(Output(destination="partner:ACME", payload=b"{}", format="canonical-json"))
    (first,) = (await repo.save_and_enqueue(m, owner="a", lease_s=30)).items
    second = dataclasses.replace(first)
    await repo.apply_outcome(AttemptOutcome(first, "dead", "HTTP 500", "http://p"))
    failed = await repo.get(m.id)
    assert failed.summary.state == "failed" and failed.outputs[0]["state"] == "dead"
    await repo.apply_outcome(AttemptOutcome(second, "delivered", "HTTP 200", "http://p"))
    detail = await repo.get(m.id)
    assert detail.outputs[0]["state"] == "delivered" and detail.outputs[0]["attempts"] == 2
    assert detail.summary.state == "delivered" and not detail.summary.last_error
    attempts = [e["detail"] for e in detail.events if e["stage"] == "deliver"]
    assert "dead-lettered" in attempts[0] and "the partner has it, so it is delivered" in attempts[1]
    assert [e["code"] for e in detail.errors] == ["DELIVERY_FAILED"]  # the dead-letter stays in the history


async def test_an_output_that_is_the_canonical_document_is_stored_once(repo: MessageRepository) -> None:
    """Canonical JSON for the ERP is the message's canonical JSON: one payload row (compressed once) for both."""
    m = await Pipeline(PipelineContext()).run(Message(raw=order("PO-9"), channel="test"), stop_after="check")
    m.outputs.append(Output(destination="erp", payload=m.canonical_json(), format="canonical-json"))
    m.outputs.append(Output(destination="dir:/copies", payload=b"another rendering " * 20, format="x"))
    writes, _ = repo._plan(m)
    (shas,) = [[row["sha256"] for row in rows] for key, _, rows in writes if key == "payloads"]
    assert len(shas) == len(set(shas)) == 3  # the input, the canonical JSON (also the ERP's output), the copy
    (item, copy) = (await repo.save_and_enqueue(m, owner="a", lease_s=30)).items
    assert item.payload == m.canonical_json() and copy.payload == b"another rendering " * 20
    detail = await repo.get(m.id)
    assert {o["payload_sha256"] for o in detail.outputs} < set(shas)
