"""The outbox: one entry per output to deliver, leased by one gateway process at a time.

An entry is written in the same transaction as the message that produced it, already leased to the
process that wrote it (which delivers it at once). Entries whose lease ran out (their process died)
or whose retry is due are claimed by any process (``FOR UPDATE SKIP LOCKED`` on PostgreSQL). Each
attempt's outcome is written with an audit event on the message; the message becomes ``delivered``
when all its document entries are, and ``failed`` when one is dead-lettered.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import and_, bindparam, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from b2b_gateway.pipeline.message import AuditEvent, State, utcnow
from b2b_gateway.store.records import decompress, event_row
from b2b_gateway.store.schema import audit_events, errors, messages, outbox, outputs, payloads
from b2b_gateway.store.unnest import Inserts

__all__ = [
    "AttemptOutcome",
    "OutboxItem",
    "apply_outcome",
    "apply_outcomes",
    "cancel_entries",
    "claim_due",
    "load_items",
    "outbox_counts",
    "outcome_handler",
    "retry_entries",
]

Verdict = Literal["delivered", "retry", "dead", "deferred"]


@dataclass(slots=True)
class OutboxItem:
    """An output to deliver, with what a sender needs to address it."""

    id: str
    message_id: str
    kind: str
    destination: str
    attempts: int
    format: str
    content_type: str
    payload: bytes
    headers: dict[str, str] = field(default_factory=dict)
    partner_id: str | None = None
    document_type: str | None = None
    business_key: str | None = None
    correlation_id: str = ""
    test: bool = False
    direction: str = "inbound"
    lease_until: dt.datetime | None = None
    """When this process's lease on the entry runs out (after it, another claim may try it too)."""

    @property
    def idempotency_key(self) -> str:
        return self.id


@dataclass(slots=True)
class AttemptOutcome:
    """What one delivery attempt came to."""

    item: OutboxItem
    verdict: Verdict
    detail: str = ""
    endpoint: str | None = None
    error_code: str | None = None
    error: dict[str, Any] | None = None
    next_attempt_at: dt.datetime | None = None
    actor: str = "gateway"


def _item_query() -> Any:
    return (
        select(
            outbox.c.id,
            outbox.c.message_id,
            outbox.c.kind,
            outbox.c.destination,
            outbox.c.attempts,
            outputs.c.format,
            outputs.c.content_type,
            outputs.c.headers,
            messages.c.partner_id,
            messages.c.document_type,
            messages.c.business_key,
            messages.c.correlation_id,
            messages.c.test,
            messages.c.direction,
            payloads.c.compression,
            payloads.c.data,
        )
        .join(outputs, outputs.c.id == outbox.c.id)
        .join(messages, messages.c.id == outbox.c.message_id)
        .join(payloads, payloads.c.sha256 == outputs.c.payload_sha256)
    )


async def load_items(conn: AsyncConnection, ids: Sequence[str]) -> list[OutboxItem]:
    """The outbox entries ``ids`` with their payloads."""
    if not ids:
        return []
    rows = (await conn.execute(_item_query().where(outbox.c.id.in_(list(ids))))).mappings().all()
    return [
        OutboxItem(
            id=r["id"],
            message_id=r["message_id"],
            kind=r["kind"],
            destination=r["destination"],
            attempts=r["attempts"],
            format=r["format"],
            content_type=r["content_type"],
            payload=decompress(r["compression"], r["data"]),
            headers=dict(r["headers"] or {}),
            partner_id=r["partner_id"],
            document_type=r["document_type"],
            business_key=r["business_key"],
            correlation_id=r["correlation_id"],
            test=bool(r["test"]),
            direction=r["direction"],
        )
        for r in rows
    ]


async def claim_due(
    conn: AsyncConnection, *, owner: str, limit: int, lease_s: float, postgres: bool
) -> list[OutboxItem]:
    """Lease up to ``limit`` pending entries that are due and not leased by a live process."""
    now = utcnow()
    due = (
        select(outbox.c.id)
        .where(
            outbox.c.state == "pending",
            outbox.c.next_attempt_at <= now,
            or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < now),
        )
        .order_by(outbox.c.next_attempt_at)
        .limit(limit)
    )
    if postgres:
        due = due.with_for_update(skip_locked=True)
    claimed = await conn.execute(
        update(outbox)
        .where(outbox.c.id.in_(due.scalar_subquery()))
        .values(lease_owner=owner, lease_until=now + dt.timedelta(seconds=lease_s), updated_at=now)
        .returning(outbox.c.id)
    )
    items = await load_items(conn, [row[0] for row in claimed.all()])
    for item in items:
        item.lease_until = now + dt.timedelta(seconds=lease_s)
    return items


_DELIVERED = (
    update(outbox)
    .where(outbox.c.id.in_(bindparam("b_ids", expanding=True)), outbox.c.state == "pending")
    .values(
        state="delivered",
        delivered_at=bindparam("b_now"),
        updated_at=bindparam("b_now"),
        attempts=outbox.c.attempts + 1,
        endpoint=bindparam("b_endpoint"),
        lease_owner=None,
        lease_until=None,
        last_error=None,
        last_error_code=None,
    )
    .returning(outbox.c.id, outbox.c.attempts)
)


def _settled(*before: State, **values: Any) -> Any:
    """Each message of ``b_mids`` becomes delivered, from one of the states ``before``, once none of its
    document entries is left undelivered (one statement for a batch's messages)."""
    undelivered = (
        select(outbox.c.id)
        .where(outbox.c.message_id == messages.c.id, outbox.c.kind == "document", outbox.c.state != "delivered")
        .correlate(messages)
    )
    return (
        update(messages)
        .where(
            messages.c.id.in_(bindparam("b_mids", expanding=True)),
            or_(*(messages.c.state == s.value for s in before)),
        )
        .where(~exists(undelivered))
        .values(state=State.DELIVERED.value, updated_at=bindparam("b_now"), **values)
    )


_SETTLED = _settled(State.ROUTED)
_REVIVED = _settled(State.ROUTED, State.FAILED, last_error=None)
"""A dead-lettered document entry delivered after all, by an attempt that was in flight."""


def outcome_handler(insert: Inserts) -> Callable[[AsyncConnection, list[AttemptOutcome]], Any]:
    """The group writer's ``outcome`` handler (``insert``: the store's INSERT statements and rows)."""

    async def handle(conn: AsyncConnection, outcomes: list[AttemptOutcome]) -> list[None]:
        await apply_outcomes(conn, outcomes, insert)
        return [None] * len(outcomes)

    return handle


async def _count_attempt(conn: AsyncConnection, item: OutboxItem, now: dt.datetime) -> tuple[int, str] | None:
    """Count one attempt on the entry in the store: its number there and the entry's state (``None``: gone).

    The number comes from the store, not from the attempt: an entry tried twice at once (its lease ran
    out while an attempt was in flight, and it was claimed again) has both attempts counted and audited.
    """
    counted = await conn.execute(
        update(outbox)
        .where(outbox.c.id == item.id)
        .values(attempts=outbox.c.attempts + 1, updated_at=now)
        .returning(outbox.c.attempts, outbox.c.state)
    )
    row = counted.one_or_none()
    return None if row is None else (int(row[0]), str(row[1]))


def _attempt_event(outcome: AttemptOutcome, attempt: int, *, current: bool, late: bool = False) -> dict[str, Any]:
    item, ok = outcome.item, outcome.verdict == "delivered"
    detail = f"{item.destination} attempt {attempt}: {outcome.detail or ('delivered' if ok else 'failed')}"
    if late:
        detail += " (in flight when another attempt dead-lettered the entry: the partner has it, so it is delivered)"
    elif not current:
        detail += " (the entry's lease ran out while this attempt was in flight: recorded, not acted on)"
    elif outcome.verdict == "retry" and outcome.next_attempt_at is not None:
        detail += f"; next attempt at {outcome.next_attempt_at:%H:%M:%S}"
    elif outcome.verdict == "dead":
        detail += " (dead-lettered)"
    data: dict[str, Any] = {"outbox": item.id, "attempt": attempt, "endpoint": outcome.endpoint}
    if outcome.error_code:
        data["code"] = outcome.error_code
    event = AuditEvent(stage="deliver", outcome="ok" if ok else "error", detail=detail, actor=outcome.actor, data=data)
    return event_row(item.message_id, f"deliver:{item.id}", attempt, event)


async def apply_outcome(conn: AsyncConnection, outcome: AttemptOutcome, insert: Inserts) -> None:
    """Write one attempt's outcome: the entry, an audit event, and the message's state when it settles.

    An attempt that is no longer the entry's current one (another was recorded since this one was
    leased, or the entry settled) is audited but changes nothing, unless it delivered a pending entry,
    or a dead one: an attempt in flight when another dead-lettered the entry may still reach the
    partner, and then the entry (and its message, once all its documents are) is delivered after all.
    """
    item, now = outcome.item, utcnow()
    if outcome.verdict == "deferred":
        await conn.execute(
            update(outbox)
            .where(outbox.c.id == item.id, outbox.c.state == "pending", outbox.c.attempts == item.attempts)
            .values(lease_owner=None, lease_until=None, updated_at=now, next_attempt_at=outcome.next_attempt_at or now)
        )
        return
    counted = await _count_attempt(conn, item, now)
    if counted is None:  # the entry is gone (its message was purged meanwhile)
        return
    attempt, state = counted
    late = outcome.verdict == "delivered" and state == "dead"
    current = late or (state == "pending" and (outcome.verdict == "delivered" or attempt == item.attempts + 1))
    if current:
        values: dict[str, Any] = {"lease_owner": None, "lease_until": None}
        if outcome.endpoint:
            values["endpoint"] = outcome.endpoint[:512]
        if outcome.verdict == "delivered":
            values.update(state="delivered", delivered_at=now, last_error=None, last_error_code=None)
        elif outcome.verdict == "dead":
            values.update(state="dead", last_error=outcome.detail, last_error_code=outcome.error_code)
        else:
            values.update(
                next_attempt_at=outcome.next_attempt_at or now,
                last_error=outcome.detail,
                last_error_code=outcome.error_code,
            )
        await conn.execute(update(outbox).where(outbox.c.id == item.id).values(**values))
    event = _attempt_event(outcome, attempt, current=current, late=late)
    await insert.rows(conn, insert.ignoring(audit_events), [event])
    if current and outcome.verdict == "delivered":
        settle = _REVIVED if late and item.kind == "document" else _SETTLED
        await conn.execute(settle, {"b_mids": [item.message_id], "b_now": now})
    elif current and outcome.verdict == "dead":
        await _dead_letter(conn, outcome, attempt, now)


async def apply_outcomes(conn: AsyncConnection, outcomes: list[AttemptOutcome], insert: Inserts) -> None:
    """Write many attempts' outcomes: pending entries delivered in one statement per endpoint, the rest one by one."""
    now = utcnow()
    by_endpoint: dict[str, list[AttemptOutcome]] = {}
    for o in outcomes:
        if o.verdict == "delivered":
            by_endpoint.setdefault((o.endpoint or "")[:512], []).append(o)
    written: set[int] = set()
    events = []
    for endpoint, done in by_endpoint.items():
        params = {"b_ids": [o.item.id for o in done], "b_now": now, "b_endpoint": endpoint}
        counted = {row[0]: int(row[1]) for row in (await conn.execute(_DELIVERED, params)).all()}
        for o in done:
            attempt = counted.pop(o.item.id, None)  # the same entry twice in a batch: the second one by one
            if attempt is not None:
                events.append(_attempt_event(o, attempt, current=True))
                written.add(id(o))
    if events:
        await insert.rows(conn, insert.ignoring(audit_events), events)
        settled = dict.fromkeys(e["message_id"] for e in events)
        await conn.execute(_SETTLED, {"b_mids": list(settled), "b_now": now})
    for outcome in outcomes:
        if id(outcome) not in written:
            await apply_outcome(conn, outcome, insert)


async def _dead_letter(conn: AsyncConnection, outcome: AttemptOutcome, attempt: int, now: dt.datetime) -> None:
    item = outcome.item
    error = outcome.error or {}
    await conn.execute(
        errors.insert().values(
            message_id=item.message_id,
            run=f"deliver:{item.id}",
            seq=attempt,
            at=now,
            code=(outcome.error_code or "DELIVERY_FAILED")[:64],
            type=str(error.get("type", "DeliveryError"))[:64],
            severity="error",
            message=f"dead-lettered after {attempt} attempt(s) to {item.destination}: {outcome.detail}",
            location={},
            hint=error.get("hint") or "fix the endpoint, then `b2b-gateway messages retry`",
            details={"outbox": item.id, "endpoint": outcome.endpoint},
        )
    )
    if item.kind == "document":
        await conn.execute(
            update(messages)
            .where(messages.c.id == item.message_id, messages.c.state == State.ROUTED.value)
            .values(
                state=State.FAILED.value,
                updated_at=now,
                error_count=messages.c.error_count + 1,
                last_error=f"[{outcome.error_code or 'DELIVERY_FAILED'}] dead-lettered: {outcome.detail}"[:2000],
            )
        )


async def retry_entries(conn: AsyncConnection, message_ids: Sequence[str], *, actor: str) -> int:
    """Make the dead (and waiting) entries of ``message_ids`` due now with fresh attempts; returns how many."""
    now = utcnow()
    result = await conn.execute(
        update(outbox)
        .where(outbox.c.message_id.in_(list(message_ids)), outbox.c.state.in_(["dead", "pending"]))
        .values(state="pending", attempts=0, next_attempt_at=now, lease_owner=None, lease_until=None, updated_at=now)
        .returning(outbox.c.message_id)
    )
    touched = sorted({row[0] for row in result.all()})
    for message_id in touched:
        await conn.execute(
            update(messages)
            .where(messages.c.id == message_id, messages.c.state == State.FAILED.value)
            .values(state=State.ROUTED.value, updated_at=now)
        )
        event = AuditEvent(stage="retry", outcome="info", detail="delivery retried", actor=actor)
        await conn.execute(
            audit_events.insert().values(**event_row(message_id, f"retry:{now:%Y%m%dT%H%M%S.%f}", 0, event))
        )
    return len(touched)


async def outbox_counts(conn: AsyncConnection) -> dict[str, int]:
    """Entries per state, and how many pending ones are due now."""
    rows = (await conn.execute(select(outbox.c.state, func.count()).group_by(outbox.c.state))).all()
    counts = {"pending": 0, "delivered": 0, "dead": 0, "cancelled": 0}
    counts.update({str(state): int(n) for state, n in rows if state})
    due = await conn.execute(
        select(func.count()).where(and_(outbox.c.state == "pending", outbox.c.next_attempt_at <= utcnow()))
    )
    counts["due"] = int(due.scalar_one())
    return counts


async def cancel_entries(conn: AsyncConnection, message_ids: Sequence[str], *, actor: str, reason: str) -> int:
    """Cancel messages that are not delivered: their waiting or dead outputs are dropped; returns how many."""
    now = utcnow()
    ids = list(message_ids)
    await conn.execute(
        update(outbox)
        .where(outbox.c.message_id.in_(ids), outbox.c.state.in_(["pending", "dead"]))
        .values(state="cancelled", lease_owner=None, lease_until=None, updated_at=now, last_error=reason)
    )
    done = await conn.execute(
        update(messages)
        .where(messages.c.id.in_(ids), messages.c.state.not_in([State.DELIVERED.value, State.CANCELLED.value]))
        .values(state=State.CANCELLED.value, updated_at=now)
        .returning(messages.c.id)
    )
    cancelled = [row[0] for row in done.all()]
    for message_id in cancelled:
        event = AuditEvent(stage="cancel", outcome="info", detail=reason or "cancelled", actor=actor)
        await conn.execute(
            audit_events.insert().values(**event_row(message_id, f"cancel:{now:%Y%m%dT%H%M%S.%f}", 0, event))
        )
    return len(cancelled)
