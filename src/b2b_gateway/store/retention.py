"""Retention: delete what is older than its partner's retention, one whole lineage tree at a time.

A tree (the input as received, the messages split from it, their outputs, audit trail, errors and
signatures) is deleted only when *every* message in it is older than the cutoff of the root's
partner, none of its outputs is still waiting in the outbox, and no message outside it names one of
its messages as what it replays. So what remains never points at something that is gone. Payloads
no remaining row refers to are deleted last.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, union
from sqlalchemy.ext.asyncio import AsyncConnection

from b2b_gateway.store.schema import (
    acknowledgments,
    audit_events,
    business_refs,
    dedup,
    errors,
    messages,
    outbox,
    outputs,
    payloads,
    signatures,
)

__all__ = ["ROOTS_PER_PASS", "Cursor", "PurgeReport", "purge_pass", "sweep_payloads"]

_CHUNK = 500
ROOTS_PER_PASS = 100
"""Lineage roots one retention pass (one transaction of the group writer) looks at: saves wait for at
most one pass."""
Cursor = tuple[dt.datetime, str]
"""Where a retention pass stopped: the (received_at, id) of the last root it looked at."""


@dataclass(slots=True)
class PurgeReport:
    """What one retention pass removed."""

    trees: int = 0
    messages: int = 0
    payloads: int = 0

    def add(self, other: PurgeReport) -> None:
        self.trees += other.trees
        self.messages += other.messages
        self.payloads += other.payloads

    def to_dict(self) -> dict[str, int]:
        return {"trees": self.trees, "messages": self.messages, "payloads": self.payloads}


def _cutoff(cutoffs: dict[str | None, Any], partner: str | None) -> dt.datetime | None:
    value = cutoffs.get(partner) if partner in cutoffs else cutoffs.get(None)
    return value if isinstance(value, dt.datetime) else None


async def _tree_ok(conn: AsyncConnection, root_id: str, cutoff: dt.datetime) -> list[str] | None:
    """The ids of the tree under ``root_id`` if all of it may go, else None."""
    rows = (
        await conn.execute(select(messages.c.id, messages.c.received_at).where(messages.c.root_id == root_id))
    ).all()
    ids = [r.id for r in rows]
    if root_id not in ids:
        ids.append(root_id)
    if any(r.received_at >= cutoff for r in rows):
        return None
    waiting = await conn.execute(select(func.count()).where(outbox.c.message_id.in_(ids), outbox.c.state == "pending"))
    if waiting.scalar_one():
        return None
    replayed = await conn.execute(
        select(func.count()).where(messages.c.replay_of.in_(ids), messages.c.root_id != root_id)
    )
    return None if replayed.scalar_one() else ids


async def purge_pass(
    conn: AsyncConnection, cutoffs: dict[str | None, Any], after: Cursor | None = None, limit: int = ROOTS_PER_PASS
) -> tuple[PurgeReport, Cursor | None]:
    """One pass: the ``limit`` oldest roots older than the latest cutoff (and after ``after``) are looked
    at, and the trees that may go are deleted (``cutoffs[partner]``, else ``cutoffs[None]``).

    Returns what was deleted, and where the next pass starts (``None``: no roots are left to look at).
    A tree that must stay does not hold back the ones after it. Payloads are left to
    :func:`sweep_payloads`.
    """
    report = PurgeReport()
    limits = [c for c in cutoffs.values() if isinstance(c, dt.datetime)]
    if not limits:
        return report, None
    query = select(messages.c.id, messages.c.partner_id, messages.c.received_at).where(
        messages.c.parent_id.is_(None), messages.c.received_at < max(limits)
    )
    if after is not None:
        at, last_id = after
        query = query.where(
            or_(messages.c.received_at > at, and_(messages.c.received_at == at, messages.c.id > last_id))
        )
    roots = (await conn.execute(query.order_by(messages.c.received_at, messages.c.id).limit(limit))).all()
    doomed: list[str] = []
    for root in roots:
        cutoff = _cutoff(cutoffs, root.partner_id)
        if cutoff is None or root.received_at >= cutoff:
            continue
        ids = await _tree_ok(conn, root.id, cutoff)
        if ids is not None:
            doomed.extend(ids)
            report.trees += 1
    for start in range(0, len(doomed), _CHUNK):
        chunk = doomed[start : start + _CHUNK]
        for table in (audit_events, errors, signatures, outbox, outputs, dedup, acknowledgments, business_refs):
            await conn.execute(delete(table).where(table.c.message_id.in_(chunk)))
        result = await conn.execute(delete(messages).where(messages.c.id.in_(chunk)))
        report.messages += int(result.rowcount or 0)
    following = (roots[-1].received_at, roots[-1].id) if len(roots) == limit else None
    return report, following


async def sweep_payloads(conn: AsyncConnection) -> int:
    """Delete the payloads no message or output refers to any more; returns how many."""
    used = union(
        select(messages.c.raw_sha256.label("sha")),
        select(messages.c.canonical_sha256).where(messages.c.canonical_sha256.is_not(None)),
        select(outputs.c.payload_sha256),
    ).subquery()
    result = await conn.execute(delete(payloads).where(payloads.c.sha256.not_in(select(used.c.sha))))
    return int(result.rowcount or 0)
