"""Batch handlers of the group writer: each runs once per transaction for all the jobs of its kind.

* ``dedup``: claim duplicate keys (see :meth:`~b2b_gateway.store.repository.MessageRepository.claim_unique`);
* ``enqueue``: read back the outbox entries of messages just saved with their outputs;
* ``counter``: the next values of control-number counters;
* ``outcome``: delivery attempts' outcomes (:func:`b2b_gateway.store.outbox.apply_outcomes`).
"""

from __future__ import annotations

import collections
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from b2b_gateway.pipeline.message import State, utcnow
from b2b_gateway.store import outbox as ob
from b2b_gateway.store.schema import counters, dedup, messages, outbox
from b2b_gateway.store.unnest import Inserts

__all__ = [
    "RESENDABLE",
    "STALLED",
    "ClaimConflict",
    "DedupClaim",
    "EnqueueQuery",
    "EnqueueResult",
    "Verdict",
    "claim_keys",
    "counter_handler",
    "enqueue_handler",
    "read_enqueued",
]

RESENDABLE = frozenset(
    {State.REJECTED, State.FAILED, State.QUARANTINED, State.PARKED, State.DUPLICATE, State.CANCELLED}
)
"""States of an earlier message that let a resend of the same document through the duplicate check."""

STALLED = dt.timedelta(minutes=15)
"""An earlier copy still being processed but untouched this long was given up (its input was answered 503)."""

_STALLABLE = frozenset(
    s.value
    for s in (
        State.RECEIVED,
        State.IDENTIFIED,
        State.VERIFIED,
        State.DECODED,
        State.VALIDATED,
        State.MAPPED,
        State.CHECKED,
        State.RENDERED,
        State.SIGNED,
    )
)


@dataclass(slots=True)
class DedupClaim:
    message_id: str
    keys: list[tuple[str, str, str]]
    """(partner or sender, ``ref`` or ``sha256``, value)."""


@dataclass(slots=True)
class EnqueueQuery:
    message_id: str
    keys: frozenset[str]
    owner: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    """The outbox rows to insert (leased to ``owner``)."""
    fresh: list[ob.OutboxItem] = field(default_factory=list)
    """The same entries as the relay will see them, when every row is new (no read-back needed)."""
    claims: list[tuple[str, str, str]] = field(default_factory=list)
    """Duplicate keys to claim first, in the same transaction (see :class:`ClaimConflict`)."""


class ClaimConflict(Exception):
    """An ``enqueue`` job's duplicate key is held by another message: the job is rolled back."""

    def __init__(self, message_id: str, earlier_id: str, state: str, key: tuple[str, str, str]) -> None:
        super().__init__(f"{message_id}: duplicate of {earlier_id} ({state})")
        self.message_id, self.earlier_id, self.state, self.key = message_id, earlier_id, state, key


@dataclass(slots=True)
class EnqueueResult:
    """Outbox entries written for a message: those this process holds the lease on, to deliver now."""

    items: list[ob.OutboxItem]
    all_delivered: bool


Verdict = tuple[str, str, tuple[str, str, str]]
"""A key held by another message: (its id, its state, the key as stored: partner, kind, value[:200])."""


def claim_keys(insert: Inserts) -> Callable[[AsyncConnection, list[DedupClaim]], Any]:
    """The ``dedup`` handler: insert every key (first holder wins), then judge the keys held by others."""
    keys_insert = insert.ignoring(dedup)

    async def handle(conn: AsyncConnection, claims: list[DedupClaim]) -> list[Verdict | None]:
        now = utcnow()
        rows = [
            {"partner": p, "kind": k, "key": v[:200], "message_id": c.message_id, "created_at": now}
            for c in claims
            for p, k, v in c.keys
        ]
        if not rows:
            return [None] * len(claims)
        taken = await insert.rows(conn, keys_insert, rows, dedup.c.key)
        if len(taken) == len(rows):  # every key new (and none twice in the batch): all first holders
            return [None] * len(claims)
        wanted = list({(r["partner"], r["kind"], r["key"]) for r in rows})
        found = await conn.execute(
            select(dedup.c.partner, dedup.c.kind, dedup.c.key, dedup.c.message_id).where(
                tuple_(dedup.c.partner, dedup.c.kind, dedup.c.key).in_(wanted)
            )
        )
        owners = {(r.partner, r.kind, r.key): r.message_id for r in found.all()}
        involved = set(owners.values()) | {c.message_id for c in claims}
        got = await conn.execute(
            select(messages.c.id, messages.c.state, messages.c.updated_at).where(messages.c.id.in_(involved))
        )
        states: dict[str, Any] = {r.id: r for r in got.all()}
        results: list[Verdict | None] = []
        for claim in claims:
            verdict: Verdict | None = None
            for partner, kind, value in claim.keys:
                key = (partner, kind, value[:200])
                owner = owners[key]
                if owner == claim.message_id:
                    continue
                row = states.get(owner)
                stalled = row is not None and row.state in _STALLABLE and row.updated_at < now - STALLED
                if row is None or State(row.state) in RESENDABLE or stalled:
                    await conn.execute(
                        update(dedup)
                        .where(and_(dedup.c.partner == partner, dedup.c.kind == kind, dedup.c.key == key[2]))
                        .where(dedup.c.message_id == owner)
                        .values(message_id=claim.message_id, created_at=now)
                    )
                    owners[key] = claim.message_id
                    continue
                verdict = (owner, str(row.state), key)
                break
            results.append(verdict)
        return results

    return handle


def enqueue_handler(insert: Inserts) -> Callable[[AsyncConnection, list[EnqueueQuery]], Any]:
    """The ``enqueue`` handler: insert the outbox rows, then say which entries of each message this
    process holds and whether all its documents are delivered.

    A message's duplicate keys (``EnqueueQuery.claims``) are claimed first: when another message holds
    one, :class:`ClaimConflict` rolls the job back (nothing of it is written).

    When every row of a message was inserted now (the common case), its entries are the ones it
    brought (``EnqueueQuery.fresh``) and none is delivered yet: nothing is read back. Otherwise (the
    message processed again, some entries already there) the outbox is read (:func:`read_enqueued`).
    """

    claim = claim_keys(insert)
    enqueue = insert.ignoring(outbox)

    async def handle(conn: AsyncConnection, queries: list[EnqueueQuery]) -> list[EnqueueResult]:
        claiming = [q for q in queries if q.claims]
        if claiming:
            verdicts = await claim(conn, [DedupClaim(q.message_id, q.claims) for q in claiming])
            for q, verdict in zip(claiming, verdicts, strict=True):
                if verdict is not None:  # the batch is rolled back and its jobs retried one by one
                    raise ClaimConflict(q.message_id, *verdict)
        rows = [r for q in queries for r in q.rows]
        inserted: set[str] = set()
        if rows:
            inserted = {row[0] for row in await insert.rows(conn, enqueue, rows, outbox.c.id)}
        fresh = [bool(q.keys) and len(q.fresh) == len(q.keys) and q.keys <= inserted for q in queries]
        slow = await read_enqueued(conn, [q for q, f in zip(queries, fresh, strict=True) if not f])
        later = iter(slow)
        return [EnqueueResult(items=list(q.fresh), all_delivered=False) if f else next(later)
                for q, f in zip(queries, fresh, strict=True)]  # fmt: skip

    return handle


async def read_enqueued(conn: AsyncConnection, queries: list[EnqueueQuery]) -> list[EnqueueResult]:
    """Which entries of these messages this process holds, and whether all their documents are delivered."""
    if not queries:
        return []
    ids = list({q.message_id for q in queries})
    found = await conn.execute(
        select(outbox.c.id, outbox.c.message_id, outbox.c.kind, outbox.c.state, outbox.c.lease_owner).where(
            outbox.c.message_id.in_(ids)
        )
    )
    by_message: dict[str, list[Any]] = {}
    for row in found.all():
        by_message.setdefault(row.message_id, []).append(row)
    mine = {
        q.message_id: [
            r.id
            for r in by_message.get(q.message_id, [])
            if r.state == "pending" and r.lease_owner == q.owner and r.id in q.keys
        ]
        for q in queries
    }
    items = {i.id: i for i in await ob.load_items(conn, [i for ids_ in mine.values() for i in ids_])}
    results = []
    for q in queries:
        docs = [r for r in by_message.get(q.message_id, []) if r.kind == "document"]
        results.append(
            EnqueueResult(
                items=[items[i] for i in mine[q.message_id] if i in items],
                all_delivered=bool(docs) and all(r.state == "delivered" for r in docs),
            )
        )
    return results


def counter_handler(insert: Inserts) -> Callable[[AsyncConnection, list[tuple[str, int]]], Any]:
    """The ``counter`` handler: advance each counter by the (key, count) asked and return the last value taken.

    A batch takes each counter once, by as many as it needs, and in key order: two gateways whose
    batches need the same counters lock them in the same order, so they never deadlock on them. A job
    asking ``count`` values owns ``last - count + 1 .. last``.
    """

    async def handle(conn: AsyncConnection, jobs: list[tuple[str, int]]) -> list[int]:
        needed: collections.Counter[str] = collections.Counter()
        for key, count in jobs:
            needed[key] += count
        last: dict[str, int] = {}
        for key in sorted(needed):
            n = needed[key]
            stmt = (
                insert(counters)
                .values(key=key, value=n)
                .on_conflict_do_update(index_elements=["key"], set_={"value": counters.c.value + n})
                .returning(counters.c.value)
            )
            last[key] = int((await conn.execute(stmt)).scalar_one()) - n
        out = []
        for key, count in jobs:
            last[key] += count
            out.append(last[key])
        return out

    return handle
