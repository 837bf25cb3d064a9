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

import asyncio
import datetime as dt
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from sqlalchemy import and_, case, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from b2b_gateway.errors import GatewayError
from b2b_gateway.pipeline.message import AuditEvent, Message, State, utcnow
from b2b_gateway.settings import Settings
from b2b_gateway.store import outbox as ob
from b2b_gateway.store import queries
from b2b_gateway.store.batch import (
    RESENDABLE,
    STALLED,
    ClaimConflict,
    DedupClaim,
    EnqueueQuery,
    EnqueueResult,
    Verdict,
    claim_keys,
    counter_handler,
    enqueue_handler,
)
from b2b_gateway.store.engine import Database, open_database
from b2b_gateway.store.migrate import upgrade
from b2b_gateway.store.queries import MessageDetail, MessageFilter, MessageSummary
from b2b_gateway.store.records import (
    SaveState,
    error_rows,
    event_row,
    event_rows,
    file_payload_row,
    message_row,
    output_key,
    output_row,
    payload_row,
    run_token,
)
from b2b_gateway.store.retention import ROOTS_PER_PASS, Cursor, PurgeReport, purge_pass, sweep_payloads
from b2b_gateway.store.schema import audit_events, errors, messages, outbox, outputs, payloads, signatures
from b2b_gateway.store.unnest import Inserts
from b2b_gateway.store.writer import GroupWriter, Write

__all__ = ["RESENDABLE", "STALLED", "EnqueueResult", "MessageRepository"]

_KEEP_STATES = [State.DELIVERED.value, State.FAILED.value]
_PROGRESS_STATES = [s.value for s in State if s not in {State.DELIVERED, State.FAILED} and s not in RESENDABLE]
_FIXED = ("id", "root_id", "received_at", "raw_sha256", "size")
MAX_BLOCK = 1024
"""The largest block of control numbers a process reserves at a time (unless ``counter_block`` is larger)."""


def _one_of(column: Any, values: Sequence[str]) -> Any:
    """``column IN ('a', 'b')`` with the (constant) values inline, so the statement can run as executemany."""
    return or_(*(column == literal_column(f"'{v}'") for v in values))


class MessageRepository:
    """Messages, audit trail, payloads, outputs, outbox, counters and duplicates over one database."""

    def __init__(
        self,
        db: Database,
        *,
        max_batch: int = 500,
        cache_size: int = 8_192,
        counter_block: int = 1,
        outcome_linger_s: float = 0.0,
        writers: int = 1,
    ) -> None:
        self.db = db
        self.outcome_linger_s = outcome_linger_s
        """Delivery outcomes recorded within this long of each other share one transaction (0: each its own)."""
        self._lingering: list[tuple[ob.AttemptOutcome, asyncio.Future[Any]]] = []
        self._linger: asyncio.TimerHandle | None = None
        self.counter_block = max(1, counter_block)
        self._blocks: dict[str, tuple[int, int]] = {}
        """Counter key -> (next value to hand out, last value reserved) of this process's current block."""
        self._block_locks: dict[str, asyncio.Lock] = {}
        self._ahead: dict[str, tuple[int, asyncio.Future[int]]] = {}
        """Counter key -> the next block being reserved while the current one is used up (its size, and
        its last value when reserved)."""
        self._sizes: dict[str, int] = {}
        """Counter key -> the size of its next block (``counter_block``, doubled each time demand outran it)."""
        inserts = Inserts(db)
        self.writer = GroupWriter(
            db,
            max_batch=max_batch,
            workers=1 if db.is_sqlite else writers,
            combine=not db.is_sqlite,
            unnest=inserts.unnest,
            handlers={
                "dedup": claim_keys(inserts),
                "enqueue": enqueue_handler(inserts),
                "counter": counter_handler(inserts),
                "outcome": ob.outcome_handler(inserts),
            },
        )
        self._saved: OrderedDict[str, SaveState] = OrderedDict()
        self._cache_size = cache_size
        ins = db.insert(messages)
        changes: dict[str, Any] = {c.name: ins.excluded[c.name] for c in messages.columns if c.name not in _FIXED}
        changes["state"] = case(
            (
                and_(_one_of(messages.c.state, _KEEP_STATES), _one_of(ins.excluded.state, _PROGRESS_STATES)),
                messages.c.state,
            ),
            else_=ins.excluded.state,
        )
        changes["canonical_sha256"] = func.coalesce(ins.excluded.canonical_sha256, messages.c.canonical_sha256)
        self._upsert = ins.on_conflict_do_update(index_elements=["id"], set_=changes)
        self._insert = {
            t.name: inserts.ignoring(t) for t in (payloads, audit_events, errors, signatures, outputs, outbox)
        }

    @classmethod
    async def open(cls, settings: Settings, *, migrate: bool | None = None) -> MessageRepository:
        """Open the configured store, bringing its schema up to date unless told not to."""
        db = open_database(settings.store, settings.paths)
        if settings.store.migrate_on_start if migrate is None else migrate:
            await upgrade(db)
        return cls(
            db,
            max_batch=settings.store.group_commit_max,
            counter_block=settings.store.counter_block,
            outcome_linger_s=settings.store.outcome_linger_ms / 1000,
            writers=settings.store.writers,
        )

    async def close(self) -> None:
        lingering = [future for _, future in self._lingering]
        self.outcome_linger_s = 0.0
        self._flush_outcomes()  # written before the writer stops, not dropped
        await asyncio.gather(*lingering, return_exceptions=True)
        pending = [future for _, future in self._ahead.values()]
        for future in pending:
            future.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        self._ahead.clear()
        await self.writer.close()
        await self.db.dispose()

    # --- MessageStore / ControlNumbers --------------------------------------------------------------

    def _state_of(self, message: Message) -> SaveState:
        known = self._saved.get(message.id)
        if known is not None and known.obj() is message:
            self._saved.move_to_end(message.id)
            return known
        parent = self._saved.get(message.parent_id) if message.parent_id else None
        root = parent.root_id if parent is not None else (message.parent_id or message.id)
        fresh = SaveState(obj=weakref.ref(message), run=run_token(message), root_id=root)
        self._saved[message.id] = fresh
        while len(self._saved) > self._cache_size:
            mid, oldest = self._saved.popitem(last=False)
            if (oldest.pending or oldest.claims) and oldest.obj() is not None:  # still to write for a live message
                self._saved[mid] = oldest
                break
        return fresh

    def _plan(self, message: Message) -> tuple[list[Write], dict[str, Any]]:
        """The rows that bring the stored message up to date, and the bookkeeping to apply after commit."""
        st = self._state_of(message)
        if st.run == "0" and message.events:
            st.run = run_token(message)
        now = utcnow()
        pays: list[dict[str, Any]] = []
        if not st.raw and message.path is not None:
            pays.append(file_payload_row(message.path, message.sha256, message.size, now))
        elif not st.raw:
            pays.append(payload_row(message.raw, message.sha256, now))
        canonical = st.canonical(message)
        if canonical is not None:
            pays.append(canonical)
        row = message_row(message, root_id=st.root_id, canonical_sha256=st.canonical_sha256, now=now)
        new_outputs = [o for o in message.outputs if o.id not in st.outputs]
        out_rows = [output_row(message.id, out, now) for out in new_outputs]
        # an output that is the canonical document itself (canonical JSON for the ERP) is stored once
        stored = {st.canonical_sha256, *(p["sha256"] for p in pays if p["compression"] != "file")}
        for out, out_row in zip(new_outputs, out_rows, strict=True):
            if out_row["payload_sha256"] not in stored:
                stored.add(out_row["payload_sha256"])
                pays.append(payload_row(out.payload, out_row["payload_sha256"], now))
        errs = error_rows(message.id, st.run + ":e", message.errors, st.errors, now)
        errs += error_rows(message.id, st.run + ":w", message.warnings, st.warnings, now)
        sigs = []
        if message.signature is not None and not st.signature:
            sigs.append({"message_id": message.id, "kind": "cms", "signature": message.signature, "created_at": now})
        writes: list[Write] = [
            ("messages", self._upsert, [row]),
            ("payloads", self._insert["payloads"], pays),
            ("audit_events", self._insert["audit_events"], event_rows(message, st.run, st.events)),
            ("errors", self._insert["errors"], errs),
            ("signatures", self._insert["signatures"], sigs),
            ("outputs", self._insert["outputs"], out_rows),
            *st.pending,
        ]
        after = {
            "events": len(message.events),
            "errors": len(message.errors),
            "warnings": len(message.warnings),
            "signature": message.signature is not None,
            "outputs": {o.id for o in new_outputs},
            "pending": len(st.pending),
            "row": row,
        }
        return writes, after

    def _commit(self, message: Message, after: dict[str, Any]) -> None:
        st = self._state_of(message)
        st.raw, st.events, st.errors, st.warnings = True, after["events"], after["errors"], after["warnings"]
        st.signature = st.signature or after["signature"]
        st.outputs |= after["outputs"]
        st.pending = st.pending[after["pending"] :]

    def defer(self, message: Message, writes: Sequence[Write]) -> None:
        """Write ``writes`` in the transaction of ``message``'s next save (one commit instead of two).

        For rows that belong with the message (its business references): they are committed when the
        message is, and lost with it if the process stops first (its input is then processed again).
        """
        st = self._state_of(message)
        st.pending = (*st.pending, *writes)

    def defer_claim(
        self,
        message: Message,
        keys: Sequence[tuple[str, str, str]],
        conflict: Callable[[str, str], GatewayError],
    ) -> None:
        """Claim ``keys`` (as :meth:`claim_unique`) in the transaction of ``message``'s outbox save.

        When another message holds one, nothing of that save is written and ``conflict(earlier id, its
        state)`` (of the call that deferred that key) is raised from :meth:`save_and_enqueue`. A message
        that stops before its outbox save (saved by :meth:`save`) claims nothing: a later copy is not a
        duplicate of a document that went nowhere. :meth:`claim_deferred` claims them at once.
        """
        st = self._state_of(message)
        st.claims = (*st.claims, (tuple(keys), conflict))

    async def claim_deferred(self, message: Message) -> None:
        """Claim now what :meth:`defer_claim` put off (an interchange split into several documents: it
        is claimed before any of them is delivered), saving ``message`` with it.

        Raises:
            GatewayError: the ``conflict`` error of the key another message holds.
        """
        st = self._state_of(message)
        claims, st.claims = st.claims, ()
        if not claims:
            return
        writes, after = self._plan(message)
        keys = [k for group, _ in claims for k in group]
        verdict = await self.writer.submit(writes, "dedup", DedupClaim(message.id, keys))
        self._commit(message, after)
        if verdict is not None:
            raise _conflict(claims, *verdict)

    async def save(self, message: Message) -> None:
        """Insert or update ``message`` with its new events, errors, payloads and outputs; committed on return.

        Keys whose claim was deferred to the outbox save are dropped (the message stopped before it).
        """
        writes, after = self._plan(message)
        await self.writer.submit(writes)
        self._commit(message, after)
        self._state_of(message).claims = ()

    async def save_and_enqueue(self, message: Message, *, owner: str, lease_s: float) -> EnqueueResult:
        """Save ``message`` and put its outputs in the outbox (leased to ``owner``), in one transaction."""
        writes, after = self._plan(message)
        # only the outputs this process has not enqueued yet: one saved again (a document's CONTRL added
        # after its ERP output) must not be handed to the relay a second time while still pending
        st = self._state_of(message)
        keys = {output_key(message.id, o): o for o in message.outputs if o.id not in st.enqueued}
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
                "endpoint": None,
                "last_error": None,
                "last_error_code": None,
                "created_at": now,
                "updated_at": now,
                "delivered_at": None,
            }
            for key, out in keys.items()
        ]
        row = after["row"]
        fresh = [
            ob.OutboxItem(
                id=key,
                message_id=message.id,
                kind=out.kind,
                destination=out.destination[:255],
                attempts=0,
                format=out.format,
                content_type=out.content_type,
                payload=out.payload,
                headers=dict(out.headers),
                partner_id=row["partner_id"],
                document_type=row["document_type"],
                business_key=row["business_key"],
                correlation_id=row["correlation_id"],
                test=bool(row["test"]),
                direction=row["direction"],
                lease_until=lease,
            )
            for key, out in keys.items()
        ]
        claims, st.claims = st.claims, ()
        query = EnqueueQuery(message.id, frozenset(keys), owner, rows=rows, fresh=fresh)
        query.claims = [k for group, _ in claims for k in group]
        try:
            result: EnqueueResult = await self.writer.submit(writes, "enqueue", query)
        except ClaimConflict as exc:
            raise _conflict(claims, exc.earlier_id, exc.state, exc.key) from None
        self._commit(message, after)
        st.enqueued = st.enqueued.union(o.id for o in keys.values())
        return result

    async def next(self, key: str) -> int:
        """The next value of counter ``key`` (1 the first time), committed.

        Values are reserved a block at a time (one commit per block, not per value): every value is
        handed out once, across processes too, in increasing order within a process; values of a block
        a process had not used when it stopped are skipped (references are unique, not gapless, which is
        what EDIFACT's control references require). Once half a block is handed out, the next one is
        reserved in the background: a document needing a reference does not wait for a commit (every
        caller behind it would wait too: a burst of late acknowledgments). A block starts at
        ``counter_block`` values; when the one reserved ahead has not arrived by the time the current
        one is used up, the demand outran it and the key's blocks double, up to :data:`MAX_BLOCK`.
        """
        if self.counter_block == 1:
            return await self._reserve(key, 1)
        lock = self._block_locks.setdefault(key, asyncio.Lock())
        async with lock:
            if not self._refill(key):
                ahead = self._ahead.pop(key, None)
                if ahead is None:
                    size = self._sizes.get(key, self.counter_block)
                    last = await self._reserve(key, size)
                else:
                    size, pending = ahead
                    if not pending.done():  # the demand outran the block reserved ahead
                        self._sizes[key] = max(self.counter_block, min(2 * size, MAX_BLOCK))
                    last = await pending
                self._blocks[key] = (last - size + 1, last)
            return self._hand_out(key)

    def take_now(self, key: str) -> int | None:
        """The next value of counter ``key`` when this process already holds it (a reserved block not
        used up, or the one reserved ahead once it has arrived), else ``None`` (then :meth:`next`
        reserves a block). No wait, no commit."""
        lock = self._block_locks.get(key)
        if self.counter_block == 1 or (lock is not None and lock.locked()) or not self._refill(key):
            return None
        return self._hand_out(key)

    def _refill(self, key: str) -> bool:
        """Whether a value of ``key`` is held: the current block's, else the block reserved ahead, taken
        as the current one when its commit is done."""
        following, last = self._blocks.get(key, (1, 0))
        if following <= last:
            return True
        ahead = self._ahead.get(key)
        if ahead is None or not ahead[1].done() or ahead[1].cancelled() or ahead[1].exception() is not None:
            return False
        del self._ahead[key]
        size, reserved = ahead
        last = reserved.result()
        self._blocks[key] = (last - size + 1, last)
        return True

    def _hand_out(self, key: str) -> int:
        """The next value of the held block of ``key`` (one is left); reserves the next block ahead
        once half of this one is handed out."""
        following, last = self._blocks[key]
        self._blocks[key] = (following + 1, last)
        size = self._sizes.get(key, self.counter_block)
        if last - following < size // 2 and key not in self._ahead:
            self._ahead[key] = (size, asyncio.ensure_future(self._reserve(key, size)))
        return following

    async def _reserve(self, key: str, count: int) -> int:
        """Reserve ``count`` values of counter ``key`` (committed); returns the last of them."""
        last: int = await self.writer.submit((), "counter", (key, count))
        return last

    async def claim_unique(self, message: Message, keys: Sequence[tuple[str, str, str]]) -> tuple[str, str] | None:
        """Save ``message`` and claim its duplicate keys (partner, kind, key) in one transaction.

        Returns:
            ``None`` when the message is the first holder of every key (or an earlier holder ended in a
            state that allows a resend, see :data:`RESENDABLE`, or stalled), else (earlier id, its state).
        """
        writes, after = self._plan(message)
        verdict: Verdict | None = await self.writer.submit(writes, "dedup", DedupClaim(message.id, list(keys)))
        self._commit(message, after)
        return None if verdict is None else verdict[:2]

    async def record_event(
        self, message_id: str, stage: str, outcome: str, detail: str = "", *, actor: str, **data: Any
    ) -> None:
        """Append an audit event from outside the pipeline (a user's action, a relay decision)."""
        event = AuditEvent(stage=stage, outcome=outcome, detail=detail, actor=actor, data=data)  # type: ignore[arg-type]
        row = event_row(message_id, f"{stage[:12]}:{event.at:%Y%m%dT%H%M%S.%f}", 0, event)
        await self.writer.submit([("audit_events", self._insert["audit_events"], [row])])

    # --- outbox ------------------------------------------------------------------------------------

    async def claim_due(self, *, owner: str, limit: int, lease_s: float) -> list[ob.OutboxItem]:
        async def op(conn: AsyncConnection) -> list[ob.OutboxItem]:
            return await ob.claim_due(conn, owner=owner, limit=limit, lease_s=lease_s, postgres=not self.db.is_sqlite)

        items: list[ob.OutboxItem] = await self.writer.run(op)
        return items

    async def apply_outcome(self, outcome: ob.AttemptOutcome) -> None:
        """Record one delivery attempt, in one transaction with the others recorded within ``outcome_linger_s``.

        Outcomes come off the documents' path (the document already reached its destination), one or
        two per document: waiting a few milliseconds to write them together takes most of their
        transactions (and their CPU, here and in the database) away from the saves that are on it.
        """
        if self.outcome_linger_s <= 0:
            await self.writer.submit((), "outcome", outcome)
            return
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._lingering.append((outcome, future))
        if self._linger is None:
            self._linger = loop.call_later(self.outcome_linger_s, self._flush_outcomes)
        await future

    def _flush_outcomes(self) -> None:
        if self._linger is not None:
            self._linger.cancel()
            self._linger = None
        waiting, self._lingering = self._lingering, []
        for outcome, future in waiting:
            self.writer.enqueue(future, (), "outcome", outcome)

    async def retry(self, message_ids: Sequence[str], *, actor: str) -> int:
        """Deliver the dead-lettered outputs of ``message_ids`` again; returns how many messages were touched."""
        count: int = await self.writer.run(lambda conn: ob.retry_entries(conn, message_ids, actor=actor))
        return count

    async def cancel(self, message_ids: Sequence[str], *, actor: str, reason: str = "") -> int:
        """Cancel messages not yet delivered (their outputs are not sent); returns how many were cancelled."""
        count: int = await self.writer.run(
            lambda conn: ob.cancel_entries(conn, message_ids, actor=actor, reason=reason)
        )
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

    async def existing(self, message_ids: Sequence[str]) -> set[str]:
        """Which of these (full) message ids the store holds."""
        found: set[str] = set()
        async with self.db.connect() as conn:
            for start in range(0, len(message_ids), 500):
                chunk = list(message_ids[start : start + 500])
                rows = await conn.execute(select(messages.c.id).where(messages.c.id.in_(chunk)))
                found.update(r.id for r in rows)
        return found

    async def lineage(self, message_id: str) -> list[MessageSummary]:
        """The whole tree the message belongs to (interchange, its messages), root first."""
        async with self.db.connect() as conn:
            return await queries.lineage(conn, message_id)

    async def payload(self, sha256: str) -> bytes:
        """An archived payload by its SHA-256 (raises NotFoundError)."""
        async with self.db.connect() as conn:
            return await queries.payload(conn, sha256)

    async def load_message(self, message_id: str, *, children: bool = True) -> Message:
        """Rebuild the pipeline record of a stored message (raw bytes, fields, state, events, errors)."""
        async with self.db.connect() as conn:
            return await queries.load_message(conn, message_id, children=children)

    async def purge(self, cutoffs: dict[str | None, Any], *, per_pass: int = ROOTS_PER_PASS) -> PurgeReport:
        """Apply retention: delete whole lineage trees older than their partner's cutoff (``None`` = default).

        Pass by pass (:func:`~b2b_gateway.store.retention.purge_pass`, ``per_pass`` roots each), each a
        job of the group writer, then the payloads nothing refers to any more.
        """
        total = PurgeReport()
        after: Cursor | None = None
        while True:
            report, after = await self.writer.run(partial(purge_pass, cutoffs=cutoffs, after=after, limit=per_pass))
            total.add(report)
            if after is None:
                break
        if total.messages:
            total.payloads = await self.writer.run(sweep_payloads)
        return total


def _conflict(
    claims: tuple[tuple[tuple[tuple[str, str, str], ...], Any], ...],
    earlier_id: str,
    state: str,
    key: tuple[str, str, str],
) -> GatewayError:
    """The error of the deferred claim that holds ``key`` (as stored: its value cut to 200 characters)."""
    for group, conflict in claims:
        if any((p, k, v[:200]) == key for p, k, v in group):
            error: GatewayError = conflict(earlier_id, state)
            return error
    raise AssertionError(f"{key} was not claimed")  # pragma: no cover
