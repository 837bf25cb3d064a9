"""The message repository: the one class the rest of the gateway (and ops) talks to about stored messages.

It implements the pipeline's :class:`~b2b_gateway.pipeline.ports.MessageStore` (``save``, idempotent,
called several times per message) and :class:`~b2b_gateway.pipeline.ports.ControlNumbers` (``next``),
the duplicate index, the outbox, and the reads behind ``b2b-gateway messages`` and the ops API.
Writes go through a :class:`~b2b_gateway.store.writer.GroupWriter` (group commit).

Example:
    >>> repo = await MessageRepository.open(settings)          # doctest: +SKIP
    >>> await repo.save(message)                                # doctest: +SKIP
    >>> page = await repo.list_messages(MessageFilter(state=["parked"]))  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from b2b_gateway.pipeline.message import AuditEvent, Message, State, utcnow
from b2b_gateway.settings import Settings
from b2b_gateway.store import outbox as ob
from b2b_gateway.store import queries
from b2b_gateway.store.engine import Database, open_database
from b2b_gateway.store.migrate import upgrade
from b2b_gateway.store.queries import MessageDetail, MessageFilter, MessageSummary
from b2b_gateway.store.records import (
    SaveState,
    error_rows,
    event_row,
    event_rows,
    message_row,
    output_key,
    output_row,
    payload_row,
    run_token,
)
from b2b_gateway.store.retention import PurgeReport, purge
from b2b_gateway.store.schema import (
    audit_events,
    counters,
    dedup,
    errors,
    messages,
    outbox,
    outputs,
    payloads,
    signatures,
)
from b2b_gateway.store.writer import GroupWriter

__all__ = ["RESENDABLE", "STALLED", "EnqueueResult", "MessageRepository"]

RESENDABLE = frozenset(
    {State.REJECTED, State.FAILED, State.QUARANTINED, State.PARKED, State.DUPLICATE, State.CANCELLED}
)
"""States of an earlier message that let a resend of the same document through the duplicate check."""

STALLED = dt.timedelta(minutes=15)
"""An earlier copy still in progress but untouched this long was given up (its input was answered 503)."""

_KEEP_STATES = [State.DELIVERED.value, State.FAILED.value]
_PROGRESS_STATES = [s.value for s in State if s not in {State.DELIVERED, State.FAILED} and s not in RESENDABLE]
_STALLABLE = frozenset(s.value for s in State if s.value in _PROGRESS_STATES) - {"split", "stored", "routed"}


@dataclass(slots=True)
class EnqueueResult:
    """Outbox entries written for a message: those this process holds the lease on, to deliver now."""

    items: list[ob.OutboxItem]
    all_delivered: bool


class MessageRepository:
    """Messages, audit trail, payloads, outputs, outbox, counters and duplicates over one database."""

    def __init__(self, db: Database, *, max_batch: int = 500, cache_size: int = 20_000) -> None:
        self.db = db
        self.writer = GroupWriter(db, max_batch=max_batch, workers=1 if db.is_sqlite else 4)
        self._saved: OrderedDict[str, SaveState] = OrderedDict()
        self._cache_size = cache_size

    @classmethod
    async def open(cls, settings: Settings, *, migrate: bool | None = None) -> MessageRepository:
        """Open the configured store, bringing its schema up to date unless told not to."""
        db = open_database(settings.store, settings.paths)
        if settings.store.migrate_on_start if migrate is None else migrate:
            await upgrade(db)
        return cls(db, max_batch=settings.store.group_commit_max)

    async def close(self) -> None:
        await self.writer.close()
        await self.db.dispose()

    # --- MessageStore / ControlNumbers --------------------------------------------------------------

    def _state_of(self, message: Message) -> SaveState:
        known = self._saved.get(message.id)
        if known is not None and known.obj is message:
            self._saved.move_to_end(message.id)
            return known
        parent = self._saved.get(message.parent_id) if message.parent_id else None
        root = parent.root_id if parent is not None else (message.parent_id or message.id)
        fresh = SaveState(obj=message, run=run_token(message), root_id=root)
        self._saved[message.id] = fresh
        while len(self._saved) > self._cache_size:
            self._saved.popitem(last=False)
        return fresh

    def _plan(self, message: Message) -> tuple[list[tuple[Any, Any]], dict[str, Any]]:
        """The statements that bring the stored message up to date, and the bookkeeping to apply after commit."""
        st = self._state_of(message)
        if st.run == "0" and message.events:
            st.run = run_token(message)
        now = utcnow()
        pays: list[dict[str, Any]] = []
        if not st.raw:
            pays.append(payload_row(message.raw, message.sha256, now))
        canonical = st.canonical(message)
        if canonical is not None:
            pays.append(canonical)
        row = message_row(message, root_id=st.root_id, canonical_sha256=st.canonical_sha256, now=now)
        ins = self.db.insert(messages).values(**row)
        fixed = {"id", "root_id", "received_at", "raw_sha256", "size"}
        changes: dict[str, Any] = {k: ins.excluded[k] for k in row if k not in fixed}
        changes["state"] = case(
            (and_(messages.c.state.in_(_KEEP_STATES), ins.excluded.state.in_(_PROGRESS_STATES)), messages.c.state),
            else_=ins.excluded.state,
        )
        changes["canonical_sha256"] = func.coalesce(ins.excluded.canonical_sha256, messages.c.canonical_sha256)
        plan: list[tuple[Any, Any]] = [(ins.on_conflict_do_update(index_elements=["id"], set_=changes), None)]
        new_outputs = [o for o in message.outputs if o.id not in st.outputs]
        out_rows = []
        for out in new_outputs:
            out_row, pay = output_row(message.id, out, now)
            out_rows.append(out_row)
            pays.append(pay)
        if pays:
            plan.append((self.db.insert(payloads).on_conflict_do_nothing(index_elements=["sha256"]), pays))
        evs = event_rows(message, st.run, st.events)
        if evs:
            plan.append((self.db.insert(audit_events).on_conflict_do_nothing(), evs))
        errs = error_rows(message.id, st.run + ":e", message.errors, st.errors, now)
        errs += error_rows(message.id, st.run + ":w", message.warnings, st.warnings, now)
        if errs:
            plan.append((self.db.insert(errors).on_conflict_do_nothing(), errs))
        if message.signature is not None and not st.signature:
            sig = {"message_id": message.id, "kind": "cms", "signature": message.signature, "created_at": now}
            plan.append((self.db.insert(signatures).on_conflict_do_nothing(), [sig]))
        if out_rows:
            plan.append((self.db.insert(outputs).on_conflict_do_nothing(index_elements=["id"]), out_rows))
        after = {
            "raw": True,
            "events": len(message.events),
            "errors": len(message.errors),
            "warnings": len(message.warnings),
            "signature": message.signature is not None,
            "outputs": {o.id for o in new_outputs},
        }
        return plan, after

    def _commit(self, message: Message, after: dict[str, Any]) -> None:
        st = self._state_of(message)
        st.raw, st.events, st.errors, st.warnings = True, after["events"], after["errors"], after["warnings"]
        st.signature = st.signature or after["signature"]
        st.outputs |= after["outputs"]

    @staticmethod
    async def _execute(conn: AsyncConnection, plan: list[tuple[Any, Any]]) -> None:
        for statement, rows in plan:
            await (conn.execute(statement) if rows is None else conn.execute(statement, rows))

    async def save(self, message: Message) -> None:
        """Insert or update ``message`` with its new events, errors, payloads and outputs; committed on return."""
        plan, after = self._plan(message)
        await self.writer.run(lambda conn: self._execute(conn, plan))
        self._commit(message, after)

    async def save_and_enqueue(self, message: Message, *, owner: str, lease_s: float) -> EnqueueResult:
        """Save ``message`` and put its outputs in the outbox (leased to ``owner``), in one transaction."""
        plan, after = self._plan(message)
        keys = {output_key(message.id, o): o for o in message.outputs}
        now = utcnow()
        lease = now + dt.timedelta(seconds=lease_s)
        rows = [
            {
                "id": key,
                "message_id": message.id,
                "kind": out.kind,
                "destination": out.destination[:255],
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "lease_owner": owner,
                "lease_until": lease,
                "created_at": now,
                "updated_at": now,
            }
            for key, out in keys.items()
        ]

        async def op(conn: AsyncConnection) -> EnqueueResult:
            await self._execute(conn, plan)
            if rows:
                await conn.execute(self.db.insert(outbox).on_conflict_do_nothing(index_elements=["id"]), rows)
            found = (
                await conn.execute(
                    select(outbox.c.id, outbox.c.kind, outbox.c.state, outbox.c.lease_owner).where(
                        outbox.c.message_id == message.id
                    )
                )
            ).all()
            mine = [r.id for r in found if r.state == "pending" and r.lease_owner == owner and r.id in keys]
            docs = [r for r in found if r.kind == "document"]
            return EnqueueResult(
                items=await ob.load_items(conn, mine),
                all_delivered=bool(docs) and all(r.state == "delivered" for r in docs),
            )

        result: EnqueueResult = await self.writer.run(op)
        self._commit(message, after)
        return result

    async def next(self, key: str) -> int:
        """The next value of counter ``key`` (1 the first time), committed."""
        stmt = (
            self.db.insert(counters)
            .values(key=key, value=1)
            .on_conflict_do_update(index_elements=["key"], set_={"value": counters.c.value + 1})
            .returning(counters.c.value)
        )

        async def op(conn: AsyncConnection) -> int:
            return int((await conn.execute(stmt)).scalar_one())

        value: int = await self.writer.run(op)
        return value

    async def claim_unique(self, message: Message, keys: Sequence[tuple[str, str, str]]) -> tuple[str, str] | None:
        """Save ``message`` and claim its duplicate keys (partner, kind, key) in one transaction.

        Returns:
            ``None`` when the message is the first holder of every key (or an earlier holder ended in a
            state that allows a resend, see :data:`RESENDABLE`), else (earlier message id, its state).
        """
        plan, after = self._plan(message)
        now = utcnow()

        async def op(conn: AsyncConnection) -> tuple[str, str] | None:
            await self._execute(conn, plan)
            for partner, kind, key in keys:
                pk = and_(dedup.c.partner == partner, dedup.c.kind == kind, dedup.c.key == key[:200])
                await conn.execute(
                    self.db.insert(dedup)
                    .values(partner=partner, kind=kind, key=key[:200], message_id=message.id, created_at=now)
                    .on_conflict_do_nothing()
                )
                owner = (await conn.execute(select(dedup.c.message_id).where(pk))).scalar_one()
                if owner == message.id:
                    continue
                found = (
                    await conn.execute(select(messages.c.state, messages.c.updated_at).where(messages.c.id == owner))
                ).first()
                stalled = found is not None and found.state in _STALLABLE and found.updated_at < now - STALLED
                if found is None or State(found.state) in RESENDABLE or stalled:
                    await conn.execute(
                        update(dedup)
                        .where(pk, dedup.c.message_id == owner)
                        .values(message_id=message.id, created_at=now)
                    )
                    continue
                state = found.state
                return owner, str(state)
            return None

        result: tuple[str, str] | None = await self.writer.run(op)
        self._commit(message, after)
        return result

    async def record_event(
        self, message_id: str, stage: str, outcome: str, detail: str = "", *, actor: str, **data: Any
    ) -> None:
        """Append an audit event from outside the pipeline (a user's action, a relay decision)."""
        event = AuditEvent(stage=stage, outcome=outcome, detail=detail, actor=actor, data=data)  # type: ignore[arg-type]
        row = event_row(message_id, f"{stage[:12]}:{event.at:%Y%m%dT%H%M%S.%f}", 0, event)
        await self.writer.run(lambda conn: conn.execute(self.db.insert(audit_events).on_conflict_do_nothing(), [row]))

    # --- outbox ------------------------------------------------------------------------------------

    async def claim_due(self, *, owner: str, limit: int, lease_s: float) -> list[ob.OutboxItem]:
        async def op(conn: AsyncConnection) -> list[ob.OutboxItem]:
            return await ob.claim_due(conn, owner=owner, limit=limit, lease_s=lease_s, postgres=not self.db.is_sqlite)

        items: list[ob.OutboxItem] = await self.writer.run(op)
        return items

    async def apply_outcome(self, outcome: ob.AttemptOutcome) -> None:
        await self.writer.run(lambda conn: ob.apply_outcome(conn, outcome))

    async def retry(self, message_ids: Sequence[str], *, actor: str) -> int:
        """Deliver the dead-lettered outputs of ``message_ids`` again; returns how many messages were touched."""
        count: int = await self.writer.run(lambda conn: ob.retry_entries(conn, message_ids, actor=actor))
        return count

    async def outbox_counts(self) -> dict[str, int]:
        async with self.db.connect() as conn:
            return await ob.outbox_counts(conn)

    # --- reads -------------------------------------------------------------------------------------

    async def list_messages(self, flt: MessageFilter | None = None) -> list[MessageSummary]:
        """Messages matching ``flt``, newest first."""
        async with self.db.connect() as conn:
            return await queries.list_messages(conn, flt or MessageFilter())

    async def count_messages(self, flt: MessageFilter | None = None) -> dict[str, int]:
        """How many messages match ``flt``, per state."""
        async with self.db.connect() as conn:
            return await queries.count_by_state(conn, flt or MessageFilter())

    async def get(self, message_id: str) -> MessageDetail:
        """One message with its audit trail, errors, outputs (and their delivery) and lineage links.

        Raises:
            NotFoundError: no message has this id (or a unique prefix of it).
        """
        async with self.db.connect() as conn:
            return await queries.get_detail(conn, message_id)

    async def lineage(self, message_id: str) -> list[MessageSummary]:
        """The whole tree the message belongs to (interchange, its messages), root first."""
        async with self.db.connect() as conn:
            return await queries.lineage(conn, message_id)

    async def payload(self, sha256: str) -> bytes:
        """An archived payload by its SHA-256 (raises NotFoundError)."""
        async with self.db.connect() as conn:
            return await queries.payload(conn, sha256)

    async def load_message(self, message_id: str) -> Message:
        """Rebuild the pipeline record of a stored message (raw bytes, fields, state, events, errors)."""
        async with self.db.connect() as conn:
            return await queries.load_message(conn, message_id)

    async def purge(self, cutoffs: dict[str | None, Any]) -> PurgeReport:
        """Apply retention: delete whole lineage trees older than their partner's cutoff (``None`` = default)."""
        report: PurgeReport = await self.writer.run(lambda conn: purge(conn, cutoffs))
        return report
