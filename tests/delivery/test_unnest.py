"""A batch's rows in one statement on PostgreSQL (``store/unnest.py``): the same rows as table by table."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.dialects import postgresql

from b2b_gateway.errors import BusinessRuleError, CodeListError, GatewayError
from b2b_gateway.pipeline import Message, Output, State
from b2b_gateway.store import MessageRepository
from b2b_gateway.store.schema import UtcDateTime, audit_events, dedup, errors, messages, outputs, payloads, signatures
from b2b_gateway.store.unnest import Inserts, UnnestInserts
from tests.delivery.conftest import order, settings_for

_TABLES = (messages, audit_events, errors, outputs, signatures)


@pytest.fixture
async def repo(db_url: str, tmp_path: Path) -> AsyncIterator[MessageRepository]:
    r = await MessageRepository.open(settings_for(tmp_path, store={"url": db_url}))
    yield r
    await r.close()


def _document(key: str, flavour: int) -> Message:
    """Messages of different shapes: plain; with errors and warnings; routed with outputs and a signature."""
    m = Message(raw=order(key), channel="test", partner_id="ACME", document_type="order", business_key=key)
    m.record("receive", "ok", "in", size=len(m.raw))
    if flavour == 1:
        m.errors.append(BusinessRuleError("totals are off", code="BR-CO-15", hint="add the lines again"))
        m.warnings.append(CodeListError("a currency code outside ISO 4217"))
        m.state = State.REJECTED
        m.record("check", "error", "BR-CO-15")
    elif flavour == 2:
        m.state = State.ROUTED
        m.record("route", "ok", "erp", destinations=["erp", "partner:ACME"], note=None)
        m.signature = b"\x00signature\xff"
        m.outputs.append(Output(destination="erp", payload=b'{"n": "' + key.encode() + b'"}', format="json"))
        m.outputs.append(Output(destination="partner:ACME", payload=b"UNB'", format="edifact", kind="acknowledgment"))
    else:
        m.state = State.STORED
    m.record("store", "ok")
    return m


async def _stored(repo: MessageRepository, message_id: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of a message, table by table, its id replaced, and generated ids, times and run tokens left out."""
    held: dict[str, list[tuple[Any, ...]]] = {}
    async with repo.db.connect() as conn:
        for table in _TABLES:
            cols = [c for c in table.c if not isinstance(c.type, UtcDateTime) and c.name != "run"]
            cols = [c for c in cols if c.name != "id" or table not in (audit_events, errors)]
            key = table.c.id if table is messages else table.c.message_id
            found = await conn.execute(select(*cols).where(key == message_id))
            held[table.name] = [tuple("<id>" if v == message_id else v for v in row) for row in found]
        raw = select(messages.c.raw_sha256).where(messages.c.id == message_id)
        written = select(outputs.c.payload_sha256).where(outputs.c.message_id == message_id)
        shas = set((await conn.execute(raw)).scalars()) | set((await conn.execute(written)).scalars())
        found = await conn.execute(
            select(payloads.c.sha256, payloads.c.size, payloads.c.data).where(payloads.c.sha256.in_(shas))
        )
        held["payloads"] = sorted(tuple(r) for r in found)
    keyless = [tuple("<key>" if isinstance(v, str) and len(v) == 32 else v for v in r) for r in held["outputs"]]
    held["outputs"] = keyless
    return {name: sorted(rows, key=repr) for name, rows in held.items()}


def _watch(repo: MessageRepository) -> list[str]:
    statements: list[str] = []
    event.listen(repo.db.write.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    return statements


async def test_a_batch_of_documents_is_one_statement_on_postgresql_holding_the_rows_of_one_by_one(
    repo: MessageRepository,
) -> None:
    batch = [_document(f"PO-{i}", i % 3) for i in range(7)]
    statements = _watch(repo)
    commits = repo.writer.commits
    await asyncio.gather(*(repo.save(m) for m in batch))
    assert repo.writer.commits == commits + 1  # one transaction for the seven
    writes = [s for s in statements if s.lstrip().upper().startswith(("INSERT", "WITH"))]
    if repo.db.is_sqlite:
        assert len(writes) == 6  # a statement per table
    else:
        assert len(writes) == 1 and "unnest(" in writes[0]

    alone = [_document(f"PO-{i}", i % 3) for i in range(7)]
    repo.writer.combine = False  # table by table, one document at a time
    for m in alone:
        await repo.save(m)
    for together, one in zip(batch, alone, strict=True):
        assert await _stored(repo, together.id) == await _stored(repo, one.id)
        detail = await repo.get(together.id)
        assert detail.summary.received_at == together.received_at  # a time zone-aware timestamp, in UTC
    shown = await repo.get(batch[2].id)
    assert shown.events[1]["data"] == {"destinations": ["erp", "partner:ACME"], "note": None}  # JSON kept as JSON
    assert shown.signature is not None
    assert (await repo.get(batch[1].id)).errors[0]["hint"] == "add the lines again"


async def test_a_value_too_long_for_its_column_is_refused_and_its_neighbours_written(
    pg_url: str, tmp_path: Path
) -> None:
    """Arrays of text, not of ``varchar(n)``: a cast to ``varchar(8)`` would cut the value without a word."""
    repo = await MessageRepository.open(settings_for(tmp_path, store={"url": pg_url}))
    try:
        statement = repo._insert["payloads"]
        now = dt.datetime.now(dt.UTC)

        def row(sha: str, compression: str) -> dict[str, Any]:
            return {"sha256": sha, "size": 1, "compression": compression, "data": b"x", "created_at": now}

        good, bad = asyncio.get_running_loop().create_future(), asyncio.get_running_loop().create_future()
        repo.writer.enqueue(good, [("payloads", statement, [row("a" * 64, "zlib")])])
        repo.writer.enqueue(bad, [("payloads", statement, [row("b" * 64, "too-long-by-far")])])
        await asyncio.wait([good, bad])
        assert good.result() is None
        with pytest.raises(GatewayError, match="too long"):
            bad.result()
        async with repo.db.connect() as conn:
            kept = (await conn.execute(select(payloads.c.sha256, payloads.c.compression))).all()
        assert [tuple(r) for r in kept] == [("a" * 64, "zlib")]
    finally:
        await repo.close()


async def test_one_message_twice_in_a_batch_is_written_table_by_table_and_the_later_save_wins(
    pg_url: str, tmp_path: Path
) -> None:
    """PostgreSQL cannot update a row twice in one statement: such a batch goes row by row, in order."""
    repo = await MessageRepository.open(settings_for(tmp_path, store={"url": pg_url}))
    try:
        m = _document("PO-1", 0)
        first, _ = repo._plan(m)
        m.state = State.ROUTED
        m.record("route", "ok", "erp")
        later = [(key, statement, [dict(r, updated_at=r["updated_at"] + dt.timedelta(seconds=1)) for r in rows])
                 for key, statement, rows in repo._plan(m)[0] if key == "messages"]  # fmt: skip
        statements = _watch(repo)
        loop = asyncio.get_running_loop()
        futures = [loop.create_future(), loop.create_future()]
        repo.writer.enqueue(futures[0], first)
        repo.writer.enqueue(futures[1], later)
        await asyncio.gather(*futures)
        assert not any("unnest(" in s for s in statements)
        assert (await repo.get(m.id)).summary.state == "routed"
        assert UnnestInserts(repo.db.write.dialect).plan({"m": (repo._upsert, [*later[0][2], *later[0][2]])}) is None
    finally:
        await repo.close()


def test_the_statement_depends_on_the_tables_and_columns_not_on_the_number_of_rows() -> None:
    inserts = UnnestInserts(postgresql.asyncpg.dialect())  # type: ignore[no-untyped-call]
    statement = postgresql.insert(payloads).on_conflict_do_nothing()
    naive = dt.datetime(2026, 12, 7, 15, 0)  # taken as UTC, as the column type does

    def rows(n: int) -> list[dict[str, Any]]:
        row = {"size": 1, "compression": "zlib", "data": b"d", "created_at": naive}
        return [{"sha256": f"{i:064}", **row} for i in range(n)]

    one = inserts.plan({"p": (statement, rows(1))})
    many = inserts.plan({"p": (statement, rows(50))})
    assert one is not None and many is not None
    assert one[0] is many[0]  # compiled once
    assert [len(values) for values in many[1]] == [50] * 5
    assert many[1][4][0] == naive.replace(tzinfo=dt.UTC)
    assert "CAST($3 AS TEXT[])" in many[0] and "VARCHAR(8)" not in many[0]
    # what cannot go in one statement is left to the caller
    assert inserts.plan({"p": (statement.returning(payloads.c.sha256), rows(2))}) is None
    assert inserts.plan({"p": (statement, [rows(1)[0], {"sha256": "x", "size": 1}])}) is None
    assert inserts.plan({"p": (postgresql.insert(payloads).values(rows(1)), rows(1))}) is None
    assert inserts.plan({"p": (statement, [])}) is None


async def test_rows_inserted_through_one_statement_say_which_of_them_were_new(repo: MessageRepository) -> None:
    """The duplicate claims, the outbox and the delivery events go through ``Inserts.rows``."""
    inserts = Inserts(repo.db)
    statement = inserts.ignoring(dedup)
    assert inserts.ignoring(dedup) is statement  # made once: its compiled form is found again
    now = dt.datetime.now(dt.UTC)

    def key(value: str, owner: str) -> dict[str, Any]:
        return {"partner": "ACME", "kind": "ref", "key": value, "message_id": owner, "created_at": now}

    statements = _watch(repo)
    async with repo.db.begin() as conn:
        first = await inserts.rows(
            conn, statement, [key("PO-1", "m1"), key("PO-2", "m1"), key("PO-1", "m2")], dedup.c.key
        )
    async with repo.db.begin() as conn:
        second = await inserts.rows(
            conn, statement, [key("PO-2", "m3"), key("PO-3", "m3")], dedup.c.key, dedup.c.message_id
        )
        assert await inserts.rows(conn, statement, []) == []
    assert sorted(tuple(r) for r in first) == [("PO-1",), ("PO-2",)]  # the first holder of PO-1 wins
    assert [tuple(r) for r in second] == [("PO-3", "m3")]
    writes = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    assert len(writes) == 2 and all(("unnest(" in s) != repo.db.is_sqlite for s in writes)
    async with repo.db.connect() as conn:
        held = (await conn.execute(select(dedup.c.key, dedup.c.message_id).order_by(dedup.c.key))).all()
    assert [tuple(r) for r in held] == [("PO-1", "m1"), ("PO-2", "m1"), ("PO-3", "m3")]
