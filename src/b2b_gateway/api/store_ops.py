"""The operations store over the real message repository (SQLite or PostgreSQL).

Reads map the repository's rows to :mod:`b2b_gateway.api.ports` types; throughput and
acknowledgment status are computed from the store's tables. Actions:

* **retry** puts the message's dead (or waiting) outbox entries back to due (the relay delivers them);
* **replay** runs the archived raw payload through the pipeline again as a new message
  (``replay_of`` = the original), with the original's partner and channel;
* **release** records the release on the quarantined original, then replays it without the
  signature check (an operator vouched for it);
* **cancel** gives up on the message: state ``cancelled``, pending outbox entries dropped to dead.

Every action appends an audit event with the operator's name. A document counts as acknowledged
when its audit trail has an ``acknowledged`` event (the acknowledgment matcher records it).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import select, text, update

from b2b_gateway.api.ports import (
    Action,
    AwaitingAck,
    MessagePage,
    MessageQuery,
    MessageRecord,
    MessageRow,
    ThroughputBucket,
)
from b2b_gateway.errors import ActionNotAllowedError, NotFoundError
from b2b_gateway.partners.directory import PartnerDirectory
from b2b_gateway.pipeline import Message, Pipeline, State
from b2b_gateway.runtime.conversations import timeline_view
from b2b_gateway.store.conversations import ConversationStore
from b2b_gateway.store.queries import MessageFilter, MessageSummary
from b2b_gateway.store.repository import MessageRepository
from b2b_gateway.store.schema import messages, outbox

__all__ = ["ACKNOWLEDGED_STAGE", "PipelineFactory", "StoreOps"]

ACKNOWLEDGED_STAGE = "acknowledged"
_ID = re.compile(r"^[0-9a-f]{8,32}$")
_DELIVERED_LIKE = {State.DELIVERED.value}
_FAILED_LIKE = {State.FAILED.value, State.REJECTED.value, State.QUARANTINED.value, State.PARKED.value}
_CANCELLABLE = {State.FAILED, State.REJECTED, State.PARKED, State.QUARANTINED, State.ROUTED, State.STORED}
_ACK_LOOKBACK = dt.timedelta(days=30)

PipelineFactory = Callable[[bool], Pipeline]
"""Builds the pipeline a replay runs through; the argument says whether the signature check runs."""


def _row(s: MessageSummary) -> MessageRow:
    return MessageRow(
        id=s.id,
        direction=s.direction,
        state=s.state,
        received_at=s.received_at,
        partner_id=s.partner_id,
        document_type=s.document_type,
        business_key=s.business_key,
        format=s.format,
        channel=s.channel,
        parent_id=s.parent_id,
        correlation_id=s.correlation_id,
        size=s.size,
        error_count=s.error_count,
        last_error=s.last_error,
        replay_of=s.replay_of,
    )


class StoreOps:
    """:class:`~b2b_gateway.api.ports.OpsStore` over a :class:`MessageRepository`.

    Args:
        repo: the open repository.
        partners: the partner profiles (which partners expect acknowledgments).
        pipelines: builds the pipeline replays run through; without it, replay and release are refused.
    """

    def __init__(
        self, repo: MessageRepository, *, partners: PartnerDirectory, pipelines: PipelineFactory | None = None
    ) -> None:
        self.repo = repo
        self.partners = partners
        self.pipelines = pipelines

    # --- reads ---------------------------------------------------------------------------------

    def _filter(self, query: MessageQuery) -> MessageFilter:
        key = query.text
        if key and "*" not in key:
            key = f"*{key}*"
        return MessageFilter(
            state=[query.state.value] if query.state else None,
            partner=query.partner,
            document_type=query.document_type,
            direction=query.direction.value if query.direction else None,
            since=query.since,
            until=query.until,
            business_key=key,
            limit=query.limit,
            offset=query.offset,
        )

    async def list_messages(self, query: MessageQuery) -> MessagePage:
        if query.text and _ID.match(query.text):
            try:
                detail = await self.repo.get(query.text)
            except NotFoundError:
                pass
            else:
                return MessagePage([_row(detail.summary)], 1)
        flt = self._filter(query)
        rows = await self.repo.list_messages(flt)
        total = sum((await self.repo.count_messages(flt)).values())
        return MessagePage([_row(r) for r in rows], total)

    async def get_message(self, message_id: str) -> MessageRecord | None:
        try:
            detail = await self.repo.get(message_id)
            message = await self.repo.load_message(detail.summary.id)
        except NotFoundError:
            return None
        outputs: list[dict[str, Any]] = [
            {k: v for k, v in o.items() if k not in {"headers", "payload_sha256"}} for o in detail.outputs
        ]
        return MessageRecord(message, outputs, detail.signature)

    async def lineage(self, message_id: str) -> list[MessageRow]:
        return [_row(s) for s in await self.repo.lineage(message_id)]

    async def throughput(self, since: dt.datetime, bucket: dt.timedelta) -> list[ThroughputBucket]:
        async with self.repo.db.connect() as conn:
            rows = (
                await conn.execute(
                    select(messages.c.received_at, messages.c.state).where(
                        messages.c.received_at >= since, messages.c.parent_id.is_(None)
                    )
                )
            ).all()
        now = dt.datetime.now(dt.UTC)
        count = max(1, int((now - since) / bucket) + 1)
        buckets = [[0, 0, 0] for _ in range(count)]
        for received_at, state in rows:
            index = min(count - 1, int((received_at - since) / bucket))
            buckets[index][0] += 1
            buckets[index][1] += state in _DELIVERED_LIKE
            buckets[index][2] += state in _FAILED_LIKE
        return [ThroughputBucket(since + i * bucket, *b) for i, b in enumerate(buckets)]

    async def state_counts(self) -> dict[str, int]:
        return await self.repo.count_messages(MessageFilter())

    async def awaiting_ack(self) -> list[AwaitingAck]:
        """Sent documents without their acknowledgment (the conversation store's query): partners that
        expect a CONTRL, or name a deadline; the deadline is the profile's, else left to the caller."""
        expecting = {
            p.id: p.acknowledgments.deadline_minutes
            for p in self.partners
            if p.acknowledgments.expect_contrl or p.acknowledgments.deadline_minutes is not None
        }
        minutes = {pid: float(m or 0) for pid, m in expecting.items()}
        items = await ConversationStore(self.repo).awaiting(minutes, since=dt.datetime.now(dt.UTC) - _ACK_LOOKBACK)
        return [
            AwaitingAck(
                a.message_id,
                a.partner_id,
                a.document_type,
                a.business_key,
                a.sent_at,
                a.deadline if a.partner_id and expecting.get(a.partner_id) is not None else None,
            )
            for a in items
        ]

    async def timeline(self, key: str, kind: str = "order") -> dict[str, Any]:
        return timeline_view(key, kind, await ConversationStore(self.repo).timeline(key, kind))

    async def conversation(self, key: str) -> list[MessageRow]:
        """The documents tied to order (or invoice) ``key`` with their milestones; where none is tied (stored
        before conversations were kept), those whose business key is ``key``."""
        tied = await ConversationStore(self.repo).conversation_rows(key)
        if tied:
            return [dataclasses.replace(_row(s), milestone=milestone) for s, milestone in tied]
        page = await self.list_messages(MessageQuery(text=key, limit=500))
        return sorted(page.items, key=lambda m: m.received_at)

    async def outbox_pending(self) -> int:
        return (await self.repo.outbox_counts()).get("pending", 0)

    async def outbox_counts(self) -> dict[str, int]:
        counts = await self.repo.outbox_counts()
        return {k: v for k, v in counts.items() if k in {"pending", "delivered", "dead"}}

    async def dead_letters(self) -> int:
        return (await self.repo.outbox_counts()).get("dead", 0)

    async def ping(self) -> None:
        async with self.repo.db.connect() as conn:
            await conn.execute(text("SELECT 1"))

    # --- actions -------------------------------------------------------------------------------

    async def _summary(self, message_id: str) -> MessageSummary:
        return (await self.repo.get(message_id)).summary

    async def act(self, action: Action, message_id: str, *, actor: str, reason: str = "") -> MessageRow:
        """Carry out ``action`` (see the module docstring); every one is in the audit trail with ``actor``.

        Raises:
            NotFoundError: no such message.
            ActionNotAllowedError: the action does not apply to the message in its state.
        """
        summary = await self._summary(message_id)
        state = State(summary.state)
        if action is Action.RETRY:
            if not await self.repo.retry([summary.id], actor=actor):
                raise ActionNotAllowedError(
                    f"message {summary.id[:12]} has no undelivered output to retry ({state.value})",
                    hint="replay it to run it through the pipeline again",
                )
            return _row(await self._summary(summary.id))
        if action is Action.CANCEL:
            if state not in _CANCELLABLE:
                raise ActionNotAllowedError(f"a {state.value} message cannot be cancelled")
            return await self._cancel(summary.id, actor=actor, reason=reason)
        if action is Action.RELEASE and state is not State.QUARANTINED:
            raise ActionNotAllowedError(f"only quarantined messages can be released; this one is {state.value}")
        return await self._replay(summary.id, actor=actor, reason=reason, verify=action is not Action.RELEASE)

    async def _cancel(self, message_id: str, *, actor: str, reason: str) -> MessageRow:
        now = dt.datetime.now(dt.UTC)

        async def op(conn: Any) -> None:
            await conn.execute(
                update(messages).where(messages.c.id == message_id).values(state=State.CANCELLED.value, updated_at=now)
            )
            await conn.execute(
                update(outbox)
                .where(outbox.c.message_id == message_id, outbox.c.state == "pending")
                .values(state="dead", last_error=f"cancelled by {actor}", updated_at=now, lease_owner=None)
            )

        await self.repo.writer.run(op)
        await self.repo.record_event(message_id, "cancel", "info", reason or "cancelled", actor=actor)
        return _row(await self._summary(message_id))

    async def _replay(self, message_id: str, *, actor: str, reason: str, verify: bool) -> MessageRow:
        if self.pipelines is None:
            raise ActionNotAllowedError("replay needs the running gateway's pipeline; none is wired here")
        original = await self.repo.load_message(message_id)
        stage = "replay" if verify else "release"
        fresh = Message(
            raw=original.raw,
            direction=original.direction,
            channel=original.channel,
            partner_id=original.partner_id,
            metadata={**original.metadata, "replay_of": original.id, "replayed_by": actor},
        )
        fresh.record(stage, "info", reason or f"{stage} of {original.id}", actor=actor, original=original.id)
        await self.repo.record_event(
            original.id, stage, "info", reason or f"{stage}ed as {fresh.id}", actor=actor, replay=fresh.id
        )
        await self.pipelines(verify).run(fresh)
        return _row(await self._summary(fresh.id))
