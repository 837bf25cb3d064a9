"""Conversations in the store: every document tied to the purchase order (or invoice) it is about.

**Business references** (``business_refs`` table) tie each document to its order with its *milestone*
(ordered, acknowledged, confirmed, shipped, invoiced …): :meth:`ConversationStore.timeline` reads one
order's whole conversation, each document with the acknowledgments its partner gave
(:mod:`b2b_gateway.store.acknowledgments`, whose store this one extends) and, for what we received,
the delivery of the acknowledgment we sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from b2b_gateway.pipeline.message import Message, utcnow
from b2b_gateway.store.acknowledgments import (
    ACKNOWLEDGED_STAGE,
    NOT_ACKS,
    OVERDUE_STAGE,
    AcknowledgmentStore,
    AckRecord,
    Awaiting,
    SentDocument,
)
from b2b_gateway.store.queries import MessageSummary
from b2b_gateway.store.repository import MessageRepository
from b2b_gateway.store.schema import business_refs, messages, outbox

__all__ = [
    "ACKNOWLEDGED_STAGE",
    "OVERDUE_STAGE",
    "AckRecord",
    "Awaiting",
    "BusinessRef",
    "ConversationStore",
    "SentDocument",
    "TimelineEntry",
]


@dataclass(frozen=True, slots=True)
class BusinessRef:
    """Message ``message_id`` belongs to the conversation ``kind``/``value`` (e.g. order PO-4711) as ``milestone``."""

    message_id: str
    value: str
    milestone: str
    detail: str = ""
    kind: str = "order"


@dataclass(slots=True)
class TimelineEntry:
    """One document of a conversation, with what became of it and what the partner said about it."""

    at: dt.datetime
    milestone: str
    detail: str
    message_id: str
    direction: str
    document_type: str | None
    business_key: str | None
    partner_id: str | None
    state: str
    acknowledgments: list[AckRecord] = field(default_factory=list)
    our_ack: str | None = None
    """For a document received: the delivery state of the acknowledgment we sent for it (its CONTRL)."""

    @property
    def ack_status(self) -> str | None:
        """``accepted``/``rejected``/… from the latest business acknowledgment (MDNs aside), if any."""
        said = [a for a in self.acknowledgments if a.kind not in NOT_ACKS]
        return said[-1].status if said else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "milestone": self.milestone,
            "detail": self.detail,
            "message_id": self.message_id,
            "direction": self.direction,
            "document_type": self.document_type,
            "business_key": self.business_key,
            "partner": self.partner_id,
            "state": self.state,
            "ack_status": self.ack_status,
            "acknowledgments": [a.to_dict() for a in self.acknowledgments],
            "our_ack": self.our_ack,
        }


def _summary(row: Any) -> MessageSummary:
    data = {name: row[name] for name in MessageSummary.__slots__ if name in row}
    data["test"], data["meta"] = bool(data["test"]), dict(row["meta"] or {})
    return MessageSummary(**data)


class ConversationStore(AcknowledgmentStore):
    """Acknowledgments and business references over an open :class:`MessageRepository`."""

    def __init__(self, repo: MessageRepository) -> None:
        super().__init__(repo)
        self._ref_insert = repo.db.insert(business_refs).on_conflict_do_nothing()

    # --- business references and the timeline ------------------------------------------------------

    def _ref_rows(self, refs: Sequence[BusinessRef], at: dt.datetime | None) -> list[dict[str, Any]]:
        when = at or utcnow()
        return [
            {
                "message_id": r.message_id,
                "kind": r.kind[:16],
                "value": r.value[:128],
                "milestone": r.milestone[:32],
                "detail": r.detail,
                "at": when,
            }
            for r in refs
        ]

    def record_refs_with(self, message: Message, refs: Sequence[BusinessRef], at: dt.datetime | None = None) -> None:
        """Tie messages to their conversations (idempotent: a ref already recorded stays as it was), committed
        with ``message``'s next save (the pipeline saves it after ``correlate``)."""
        if refs:
            self.repo.defer(message, [("business_refs", self._ref_insert, self._ref_rows(refs, at))])

    async def refs_of(self, message_ids: Sequence[str], kind: str = "order") -> dict[str, list[str]]:
        """The ``kind`` references of each of ``message_ids``."""
        if not message_ids:
            return {}
        query = select(business_refs.c.message_id, business_refs.c.value).where(
            business_refs.c.message_id.in_(list(message_ids)), business_refs.c.kind == kind
        )
        out: dict[str, list[str]] = {}
        async with self.repo.db.connect() as conn:
            for row in (await conn.execute(query)).all():
                out.setdefault(row.message_id, []).append(row.value)
        return out

    async def timeline(self, value: str, kind: str = "order") -> list[TimelineEntry]:
        """Every document of the conversation ``kind``/``value`` in the order they were received or sent."""
        query = (
            select(
                business_refs.c.milestone,
                business_refs.c.detail,
                messages.c.id,
                messages.c.direction,
                messages.c.document_type,
                messages.c.business_key,
                messages.c.partner_id,
                messages.c.state,
                messages.c.received_at,
                messages.c.root_id,
            )
            .join(messages, messages.c.id == business_refs.c.message_id)
            .where(business_refs.c.kind == kind, business_refs.c.value == value)
            .order_by(messages.c.received_at, messages.c.id)
        )
        async with self.repo.db.connect() as conn:
            rows = (await conn.execute(query)).all()
            roots = list({r.root_id for r in rows if r.direction == "inbound"})
            sent = await conn.execute(
                select(outbox.c.message_id, outbox.c.state).where(
                    outbox.c.message_id.in_(roots), outbox.c.kind == "acknowledgment"
                )
            )
            ours = {r.message_id: r.state for r in sent.all()}
        acks = await self.acknowledgments_of([r.id for r in rows])
        return [
            TimelineEntry(
                at=r.received_at,
                milestone=r.milestone,
                detail=r.detail,
                message_id=r.id,
                direction=r.direction,
                document_type=r.document_type,
                business_key=r.business_key,
                partner_id=r.partner_id,
                state=r.state,
                acknowledgments=acks.get(r.id, []),
                our_ack=ours.get(r.root_id) if r.direction == "inbound" else None,
            )
            for r in rows
        ]

    async def conversation_rows(self, value: str) -> list[tuple[MessageSummary, str]]:
        """The messages of the conversation about order ``value`` (else invoice ``value``), oldest first,
        each with its milestone (what the operations pages list)."""
        for kind in ("order", "invoice"):
            query = (
                select(messages, business_refs.c.milestone)
                .join(business_refs, business_refs.c.message_id == messages.c.id)
                .where(business_refs.c.kind == kind, business_refs.c.value == value)
                .order_by(messages.c.received_at, messages.c.id)
            )
            async with self.repo.db.connect() as conn:
                rows = (await conn.execute(query)).mappings().all()
            if rows:
                return [(_summary(row), str(row["milestone"])) for row in rows]
        return []
