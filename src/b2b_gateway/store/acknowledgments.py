"""Acknowledgments in the store: what the gateway sent, and what its partners said about it.

* **Sent documents** are outbound messages; :meth:`AcknowledgmentStore.sent_by_interchange` finds them
  by the references their rendered interchange carries (UNB 0020, UNH 0062),
  :meth:`AcknowledgmentStore.sent_referenced` by what an APERAK names, and
  :meth:`AcknowledgmentStore.sent_by_key` by their business key (an invoice number).
* **Acknowledgments** (``acknowledgments`` table) record what a partner said about a sent document: a
  CONTRL, an APERAK, an MDN, a Peppol invoice response. Recording one also appends an ``acknowledged``
  audit event to the sent document (``mdn`` for an MDN, which only says the file arrived), and a
  rejection a ``PARTNER_REJECTED`` error.
* :meth:`AcknowledgmentStore.awaiting` lists sent documents still waiting for their acknowledgment,
  with their deadline (the query behind the overdue flag, its alert and the dashboard's status).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from b2b_gateway.errors import PartnerRejectedError
from b2b_gateway.pipeline.message import AuditEvent, State, utcnow
from b2b_gateway.store.records import error_rows, event_row
from b2b_gateway.store.repository import MessageRepository
from b2b_gateway.store.schema import acknowledgments, audit_events, errors, messages

__all__ = [
    "ACKNOWLEDGED_STAGE",
    "OVERDUE_STAGE",
    "AckRecord",
    "AcknowledgmentStore",
    "Awaiting",
    "SentDocument",
]

ACKNOWLEDGED_STAGE = "acknowledged"
"""The audit stage recorded on a sent document when its partner acknowledges it (accepted or not)."""
OVERDUE_STAGE = "ack_overdue"
"""The audit stage recorded (once) on a sent document whose acknowledgment is past its deadline."""
_SENT_STATES = (State.ROUTED.value, State.DELIVERED.value)
NOT_ACKS = ("mdn",)
"""Acknowledgment kinds that say the bytes arrived, not that the document was accepted."""


@dataclass(frozen=True, slots=True)
class SentDocument:
    """A document the gateway sent, as the acknowledgment matcher sees it."""

    id: str
    partner_id: str | None
    document_type: str | None
    business_key: str | None
    interchange_ref: str | None
    message_ref: str | None
    state: str


@dataclass(frozen=True, slots=True)
class AckRecord:
    """One acknowledgment of one sent document."""

    message_id: str
    ack_id: str
    kind: str
    status: str
    partner_id: str | None = None
    reference: str | None = None
    detail: str = ""
    reasons: list[dict[str, Any]] = field(default_factory=list)
    at: dt.datetime = field(default_factory=utcnow)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["at"] = self.at.isoformat()
        return data


@dataclass(frozen=True, slots=True)
class Awaiting:
    """A sent document without its acknowledgment (yet)."""

    message_id: str
    partner_id: str | None
    document_type: str | None
    business_key: str | None
    sent_at: dt.datetime
    deadline: dt.datetime
    flagged: bool

    def overdue(self, now: dt.datetime) -> bool:
        return now > self.deadline

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["sent_at"], data["deadline"] = self.sent_at.isoformat(), self.deadline.isoformat()
        return data


def _sent(row: Any) -> SentDocument:
    return SentDocument(
        row.id, row.partner_id, row.document_type, row.business_key, row.interchange_ref, row.message_ref, row.state
    )


def _record(row: Any) -> AckRecord:
    return AckRecord(
        message_id=row.message_id,
        ack_id=row.ack_id,
        kind=row.kind,
        status=row.status,
        partner_id=row.partner_id,
        reference=row.reference,
        detail=row.detail,
        reasons=list(row.reasons or []),
        at=row.at,
    )


class AcknowledgmentStore:
    """The acknowledgment table over an open :class:`MessageRepository` (writes go through its group writer)."""

    def __init__(self, repo: MessageRepository) -> None:
        self.repo = repo
        db = repo.db
        self._ack_insert = db.insert(acknowledgments).on_conflict_do_nothing()
        self._event_insert = db.insert(audit_events).on_conflict_do_nothing()
        self._error_insert = db.insert(errors).on_conflict_do_nothing()

    _COLUMNS = (
        messages.c.id,
        messages.c.partner_id,
        messages.c.document_type,
        messages.c.business_key,
        messages.c.interchange_ref,
        messages.c.message_ref,
        messages.c.state,
    )

    # --- what was sent ------------------------------------------------------------------------------

    async def sent_by_interchange(self, partner_id: str | None, interchange_ref: str) -> list[SentDocument]:
        """Outbound documents to ``partner_id`` whose interchange carried ``interchange_ref`` (UNB 0020)."""
        query = select(*self._COLUMNS).where(
            messages.c.direction == "outbound",
            messages.c.partner_id == partner_id,
            messages.c.interchange_ref == interchange_ref,
        )
        async with self.repo.db.connect() as conn:
            return [_sent(r) for r in (await conn.execute(query)).all()]

    async def sent_referenced(self, partner_id: str | None, reference: str) -> list[SentDocument]:
        """Outbound documents to ``partner_id`` that ``reference`` names: as their business key (an order
        number), their UNH 0062 or their UNB 0020 (what an APERAK's ``RFF+ACW`` may carry)."""
        query = select(*self._COLUMNS).where(
            messages.c.direction == "outbound",
            messages.c.partner_id == partner_id,
            or_(
                messages.c.business_key == reference,
                messages.c.message_ref == reference,
                messages.c.interchange_ref == reference,
            ),
        )
        async with self.repo.db.connect() as conn:
            rows = (await conn.execute(query.order_by(messages.c.received_at.desc()))).all()
        return [_sent(r) for r in rows]

    async def sent_by_key(
        self, partner_id: str | None, business_key: str, document_type: str | None = None
    ) -> list[SentDocument]:
        """Outbound documents to ``partner_id`` with ``business_key`` (of ``document_type``), newest first."""
        query = select(*self._COLUMNS).where(
            messages.c.direction == "outbound",
            messages.c.partner_id == partner_id,
            messages.c.business_key == business_key,
        )
        if document_type:
            query = query.where(messages.c.document_type == document_type)
        async with self.repo.db.connect() as conn:
            rows = (await conn.execute(query.order_by(messages.c.received_at.desc()))).all()
        return [_sent(r) for r in rows]

    async def state_of(self, message_id: str) -> str | None:
        """The stored state of message ``message_id``, or ``None`` when there is no such message."""
        async with self.repo.db.connect() as conn:
            found = await conn.execute(select(messages.c.state).where(messages.c.id == message_id))
            row = found.first()
        return str(row.state) if row is not None else None

    async def messages_with_key(self, partner_id: str | None, business_key: str) -> list[str]:
        """Ids of the documents (either direction) exchanged with ``partner_id`` under ``business_key``."""
        query = select(messages.c.id).where(
            messages.c.partner_id == partner_id, messages.c.business_key == business_key
        )
        async with self.repo.db.connect() as conn:
            return [r.id for r in (await conn.execute(query)).all()]

    # --- acknowledgments --------------------------------------------------------------------------------

    async def record_acknowledgments(self, records: Sequence[AckRecord]) -> None:
        """Store ``records`` and append an ``acknowledged`` audit event to each acknowledged document (once)."""
        if not records:
            return
        rows = [
            {
                "message_id": r.message_id,
                "ack_id": r.ack_id[:160],
                "partner_id": r.partner_id,
                "kind": r.kind[:24],
                "status": r.status[:24],
                "reference": (r.reference or "")[:160] or None,
                "detail": r.detail,
                "reasons": r.reasons,
                "at": r.at,
            }
            for r in records
        ]
        events = []
        for r in records:
            ok = r.status not in ("rejected", "failed")
            event = AuditEvent(
                stage=ACKNOWLEDGED_STAGE if r.kind not in NOT_ACKS else "mdn",
                outcome="ok" if ok else "error",
                detail=r.detail,
                at=r.at,
                actor=r.partner_id or "partner",
                data={"kind": r.kind, "status": r.status, "ack": r.ack_id, "reference": r.reference},
            )
            events.append(event_row(r.message_id, f"ack:{r.ack_id[-27:]}", 0, event))
        await self.repo.writer.submit(
            [("acknowledgments", self._ack_insert, rows), ("audit_events", self._event_insert, events)]
        )
        rejected = [r for r in records if r.status == "rejected"]
        if rejected:
            await self.repo.writer.run(lambda conn: self._mark_rejected(conn, rejected))

    async def _mark_rejected(self, conn: AsyncConnection, records: list[AckRecord]) -> None:
        """A rejection is an error on the sent document too (``messages list --code PARTNER_REJECTED``)."""
        for r in records:
            error = PartnerRejectedError(r.detail, details={"ack": r.ack_id, "kind": r.kind, "reasons": r.reasons})
            row = error_rows(r.message_id, f"ack:{r.ack_id[-27:]}", [error], 0, r.at)[0]
            done = await conn.execute(self._error_insert.returning(errors.c.id), row)
            if done.first() is None:
                continue  # recorded before
            await conn.execute(
                update(messages)
                .where(messages.c.id == r.message_id)
                .values(error_count=messages.c.error_count + 1, last_error=f"[PARTNER_REJECTED] {r.detail}"[:2000])
            )

    async def acknowledgments_of(self, message_ids: Sequence[str]) -> dict[str, list[AckRecord]]:
        """The acknowledgments of each of ``message_ids``, oldest first."""
        if not message_ids:
            return {}
        query = (
            select(acknowledgments)
            .where(acknowledgments.c.message_id.in_(list(message_ids)))
            .order_by(acknowledgments.c.at, acknowledgments.c.id)
        )
        out: dict[str, list[AckRecord]] = {}
        async with self.repo.db.connect() as conn:
            for row in (await conn.execute(query)).all():
                out.setdefault(row.message_id, []).append(_record(row))
        return out

    # --- awaiting acknowledgments ------------------------------------------------------------------------

    async def awaiting(self, deadlines: Mapping[str, float], *, since: dt.datetime | None = None) -> list[Awaiting]:
        """Documents sent to the partners of ``deadlines`` (partner id -> minutes) that no partner acknowledged.

        Acknowledgments (status documents) themselves are not waited for, nor are MDNs counted as one.
        ``since`` bounds how far back to look (default: 30 days).
        """
        if not deadlines:
            return []
        acked = or_(
            exists().where(
                and_(acknowledgments.c.message_id == messages.c.id, acknowledgments.c.kind.not_in(NOT_ACKS))
            ),
            # the operations contract: an ``acknowledged`` audit event (an operator may record one by hand)
            exists().where(
                and_(audit_events.c.message_id == messages.c.id, audit_events.c.stage == ACKNOWLEDGED_STAGE)
            ),
        )
        flagged = (
            exists()
            .where(and_(audit_events.c.message_id == messages.c.id, audit_events.c.stage == OVERDUE_STAGE))
            .label("flagged")
        )
        query = (
            select(*self._COLUMNS, messages.c.updated_at, flagged)
            .where(
                messages.c.direction == "outbound",
                messages.c.partner_id.in_(list(deadlines)),
                messages.c.state.in_(_SENT_STATES),
                messages.c.document_type != "status",
                messages.c.received_at >= (since or utcnow() - dt.timedelta(days=30)),
                ~acked,
            )
            .order_by(messages.c.updated_at)
        )
        async with self.repo.db.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            Awaiting(
                r.id,
                r.partner_id,
                r.document_type,
                r.business_key,
                r.updated_at,
                r.updated_at + dt.timedelta(minutes=deadlines[r.partner_id]),
                bool(r.flagged),
            )
            for r in rows
        ]

    async def flag_overdue(self, item: Awaiting, detail: str, *, at: dt.datetime | None = None) -> None:
        """Record (once) on the document that its acknowledgment is overdue."""
        event = AuditEvent(
            stage=OVERDUE_STAGE,
            outcome="warning",
            detail=detail,
            at=at or utcnow(),
            data={"deadline": item.deadline.isoformat(), "code": "ACK_OVERDUE"},
        )
        row = event_row(item.message_id, OVERDUE_STAGE, 0, event)
        await self.repo.writer.submit([("audit_events", self._event_insert, [row])])
