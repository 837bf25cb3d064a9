"""An in-memory twin of the operations store, for unit tests only (API and browser tests use the real store)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from b2b_gateway.api.ports import (
    Action,
    AwaitingAck,
    MessagePage,
    MessageQuery,
    MessageRecord,
    MessageRow,
    QueueDepth,
    ThroughputBucket,
)
from b2b_gateway.errors import ActionNotAllowedError, BrokerUnavailableError, NotFoundError
from b2b_gateway.pipeline.message import Message, State

_ALLOWED = {
    Action.RETRY: {State.FAILED},
    Action.RELEASE: {State.QUARANTINED},
    Action.CANCEL: {State.FAILED, State.REJECTED, State.PARKED, State.QUARANTINED},
    Action.REPLAY: set(State),
}


class FakeOpsStore:
    def __init__(self, messages: list[Message] | None = None) -> None:
        self.messages: dict[str, Message] = {m.id: m for m in messages or []}
        self.awaiting: list[AwaitingAck] = []
        self.dead = 0
        self.pending = 0
        self.down = False

    def add(self, message: Message) -> Message:
        self.messages[message.id] = message
        return message

    async def list_messages(self, query: MessageQuery) -> MessagePage:
        items = sorted(self.messages.values(), key=lambda m: m.received_at, reverse=True)
        if query.state:
            items = [m for m in items if m.state is query.state]
        if query.partner:
            items = [m for m in items if m.partner_id == query.partner]
        if query.document_type:
            items = [m for m in items if m.document_type == query.document_type]
        if query.direction:
            items = [m for m in items if m.direction is query.direction]
        if query.text:
            items = [m for m in items if query.text in (m.business_key or "") or m.id.startswith(query.text)]
        rows = [MessageRow.of(m) for m in items[query.offset : query.offset + query.limit]]
        return MessagePage(rows, len(items))

    async def get_message(self, message_id: str) -> MessageRecord | None:
        m = self.messages.get(message_id)
        if m is None:
            return None
        outputs = [
            {"id": o.id, "destination": o.destination, "format": o.format, "kind": o.kind, "size": len(o.payload)}
            for o in m.outputs
        ]
        signature = {"kind": "cms", "size": len(m.signature)} if m.signature else None
        return MessageRecord(m, outputs, signature)

    async def lineage(self, message_id: str) -> list[MessageRow]:
        m = self.messages[message_id]
        while m.parent_id and m.parent_id in self.messages:
            m = self.messages[m.parent_id]
        out: list[Message] = []

        def walk(node: Message) -> None:
            out.append(node)
            for kid in self.messages.values():
                if kid.parent_id == node.id:
                    walk(kid)

        walk(m)
        return [MessageRow.of(x) for x in out]

    async def act(self, action: Action, message_id: str, *, actor: str, reason: str = "") -> MessageRow:
        m = self.messages.get(message_id)
        if m is None:
            raise NotFoundError(f"no message {message_id!r}")
        if m.state not in _ALLOWED[action]:
            raise ActionNotAllowedError(f"cannot {action.value} a {m.state.value} message")
        m.record(action.value, "info", reason or f"{action.value} by {actor}", actor=actor)
        if action is Action.CANCEL:
            m.state = State.CANCELLED
        elif action is Action.REPLAY:
            kid = Message(raw=m.raw, direction=m.direction, partner_id=m.partner_id, parent_id=m.parent_id)
            kid.document_type, kid.business_key, kid.state = m.document_type, m.business_key, State.DELIVERED
            kid.record("replay", "info", f"replay of {m.id}", actor=actor)
            self.add(kid)
            return MessageRow.of(kid)
        else:
            m.state = State.DELIVERED
        return MessageRow.of(m)

    async def throughput(self, since: dt.datetime, bucket: dt.timedelta) -> list[ThroughputBucket]:
        out: list[ThroughputBucket] = []
        start = since
        now = dt.datetime.now(dt.UTC)
        while start <= now:
            ms = [m for m in self.messages.values() if start <= m.received_at < start + bucket]
            out.append(
                ThroughputBucket(
                    start,
                    len(ms),
                    sum(m.state is State.DELIVERED for m in ms),
                    sum(m.state in {State.FAILED, State.REJECTED} for m in ms),
                )
            )
            start += bucket
        return out

    async def state_counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for m in self.messages.values():
            out[m.state.value] = out.get(m.state.value, 0) + 1
        return out

    async def awaiting_ack(self) -> list[AwaitingAck]:
        return list(self.awaiting)

    async def timeline(self, key: str, kind: str = "order") -> dict[str, Any]:
        rows = await self.conversation(key)
        entries = [{"message_id": r.id, "milestone": r.document_type, "state": r.state} for r in rows]
        return {"kind": kind, "key": key, "milestones": {}, "rejected_by_partner": False, "entries": entries}

    async def conversation(self, key: str) -> list[MessageRow]:
        found = [m for m in self.messages.values() if m.business_key and key in m.business_key]
        return [MessageRow.of(m) for m in sorted(found, key=lambda m: m.received_at)]

    async def outbox_pending(self) -> int:
        return self.pending

    async def outbox_counts(self) -> dict[str, int]:
        return {"pending": self.pending, "delivered": 0, "dead": self.dead}

    async def dead_letters(self) -> int:
        return self.dead

    async def ping(self) -> None:
        return None


class FakeQueues:
    def __init__(self) -> None:
        self.down = False

    async def depths(self) -> list[QueueDepth]:
        return [QueueDepth("b2b.in.process", 3, 1), QueueDepth("b2b.in.process.dlq", 1, 0, dead_letter=True)]

    async def ping(self) -> None:
        if self.down:
            raise BrokerUnavailableError("broker down")
