"""Conversations: every document about one purchase order, in order, and the acknowledgments still owed.

* The ``correlate`` stage (after ``map``, both directions) ties each document to the order it belongs
  to (an order's own number, a change's ``RFF+ON``, an order response's, despatch advice's or
  invoice's order reference; an acknowledgment inherits the order of what it acknowledges) and names
  its *milestone*: ordered, changed, confirmed (or refused), shipped, invoiced, acknowledged or
  rejected by the partner, and for e-invoicing the invoice's responses (received, accepted, paid …).
  Invoices and their responses are tied to the invoice number as well.
* :class:`Conversations` reads one conversation (:meth:`Conversations.timeline`) and the documents
  waiting for their acknowledgment, and :meth:`Conversations.check_overdue` flags those past their
  partner's ``acknowledgments.deadline_minutes`` once each: an ``ack.overdue`` log event, an
  ``ack_overdue`` audit event on the document, and the alert hooks (metrics, webhooks).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from b2b_gateway.canonical.despatch import DespatchAdvice
from b2b_gateway.canonical.documents import Document
from b2b_gateway.canonical.invoice import Invoice
from b2b_gateway.canonical.order import Order
from b2b_gateway.canonical.order_response import OrderResponse
from b2b_gateway.canonical.status import StatusDocument
from b2b_gateway.errors import AcknowledgmentOverdueError, GatewayError
from b2b_gateway.observability.logging import get_logger
from b2b_gateway.partners.directory import PartnerDirectory
from b2b_gateway.pipeline.context import PipelineContext
from b2b_gateway.pipeline.message import Message, utcnow
from b2b_gateway.pipeline.stages import Stage
from b2b_gateway.store.conversations import Awaiting, BusinessRef, ConversationStore, TimelineEntry

__all__ = ["MILESTONES", "Conversations", "OverdueHook", "correlate_stage", "milestone_of", "timeline_view"]

log = get_logger("b2b_gateway.conversations")

MILESTONES = ("ordered", "acknowledged", "confirmed", "shipped", "invoiced")
"""The steps of an order-to-cash conversation, in order (what :meth:`Conversations.timeline` reports)."""
_FUNCTIONS = {"1": "cancelled", "4": "changed", "5": "replaced"}
_ORDER_REFS = ("order", "ON", "220", "230")
_STATUS_WORDS = {"accepted": "acknowledged", "rejected": "rejected by partner", "received": "acknowledged"}
OverdueHook = Callable[[Awaiting], None]


def _order_of(doc: Document) -> str | None:
    if isinstance(doc, Order):
        if doc.message_function in _FUNCTIONS:
            ref = next((r.id for r in doc.references if (r.document_type or "order") in _ORDER_REFS), None)
            return ref or doc.document_number
        return doc.document_number
    if isinstance(doc, OrderResponse | DespatchAdvice):
        return doc.order_reference.id
    if isinstance(doc, Invoice):
        return doc.order_reference
    return None


def _lines(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {status}" for status, n in counts.items() if n)


def milestone_of(doc: Document) -> tuple[str, str]:
    """The milestone a document marks in its conversation, and a short description."""
    if isinstance(doc, Order):
        word = _FUNCTIONS.get(doc.message_function, "ordered")
        return word, f"{len(doc.lines)} line(s)" + (f", {doc.currency}" if doc.currency else "")
    if isinstance(doc, OrderResponse):
        counts: dict[str, int] = {}
        for line in doc.lines:
            counts[line.status] = counts.get(line.status, 0) + 1
        word = {"accepted": "confirmed", "changed": "confirmed with changes", "rejected": "refused"}[doc.status]
        return word, f"{doc.document_number}: {len(doc.lines)} line(s): {_lines(counts)}"
    if isinstance(doc, DespatchAdvice):
        tracking = doc.shipment.tracking_id if doc.shipment else None
        detail = f"{doc.document_number}: {len(doc.lines)} line(s)"
        return "shipped", detail + (f", tracking {tracking}" if tracking else "")
    if isinstance(doc, Invoice):
        word = "credited" if doc.is_credit_note else "invoiced"
        return word, f"{doc.document_number}: {doc.totals.payable} {doc.currency}"
    assert isinstance(doc, StatusDocument)
    if doc.kind in ("invoice_response", "application_response"):
        return f"invoice {doc.status.replace('_', ' ')}", f"{doc.referenced_document.id}: {doc.status}"
    return _STATUS_WORDS.get(doc.status, doc.status), f"{doc.kind.upper()} {doc.status}"


def correlate_stage(store: ConversationStore) -> Stage:
    """The ``correlate`` stage (after ``map``/``match_ack``): record the document's place in its conversations."""

    async def correlate(message: Message, ctx: PipelineContext) -> None:
        doc = message.canonical
        if doc is None:
            return
        milestone, detail = milestone_of(doc)
        orders: list[str] = []
        invoices: list[str] = []
        if isinstance(doc, StatusDocument):
            subjects = [str(a["message_id"]) for a in doc.extensions.get("acknowledges", []) if isinstance(a, dict)]
            if not subjects:  # a response about a partner's document (our invoice response to a supplier)
                subjects = await store.messages_with_key(message.partner_id, doc.referenced_document.id)
            found = await store.refs_of(subjects)
            orders = sorted({v for values in found.values() for v in values})
            invoices = sorted({v for values in (await store.refs_of(subjects, "invoice")).values() for v in values})
        else:
            order = _order_of(doc)
            orders = [order] if order else []
            invoices = [doc.document_number] if isinstance(doc, Invoice) else []
        refs = [BusinessRef(message.id, o, milestone, detail) for o in orders]
        refs += [BusinessRef(message.id, i, milestone, detail, kind="invoice") for i in invoices]
        store.record_refs_with(message, refs, at=message.received_at)  # committed with the message's next save
        if refs:
            message.record("correlate", "ok", f"{milestone}: " + ", ".join(f"{r.kind} {r.value}" for r in refs))

    return Stage("correlate", correlate)


class Conversations:
    """Reads conversations and watches acknowledgment deadlines.

    Args:
        store: the conversation tables.
        partners: the current partner profiles (their ``acknowledgments`` say who acknowledges, and by when).
        default_deadline_minutes: the deadline of partners that expect an acknowledgment but name none.
    """

    def __init__(
        self,
        store: ConversationStore,
        partners: Callable[[], PartnerDirectory],
        *,
        default_deadline_minutes: float = 60.0,
    ) -> None:
        self.store = store
        self.partners = partners
        self.default_deadline_minutes = default_deadline_minutes
        self.hooks: list[OverdueHook] = []
        """Called once with each document found overdue (metrics, alert webhooks)."""

    async def timeline(self, value: str, kind: str = "order") -> dict[str, Any]:
        """The conversation about order (or invoice) ``value``: see :func:`timeline_view`."""
        awaiting = {a.message_id: a for a in await self.awaiting()}
        now = utcnow()
        view = timeline_view(value, kind, await self.store.timeline(value, kind))
        for entry in view["entries"]:
            found = awaiting.get(entry["message_id"])
            entry["awaiting_ack"], entry["ack_overdue"] = found is not None, found is not None and found.overdue(now)
        return view

    def deadlines(self) -> dict[str, float]:
        """Minutes to acknowledge, for each partner that acknowledges what it is sent."""
        out: dict[str, float] = {}
        for p in self.partners():
            policy = p.acknowledgments
            if policy.expect_contrl or policy.deadline_minutes is not None:
                out[p.id] = float(policy.deadline_minutes or self.default_deadline_minutes)
        return out

    async def awaiting(self) -> list[Awaiting]:
        """Documents sent and not acknowledged yet, with their deadlines."""
        return await self.store.awaiting(self.deadlines())

    async def check_overdue(self, now: dt.datetime | None = None) -> list[Awaiting]:
        """Flag the documents past their deadline that were not flagged yet; returns them."""
        moment = now or utcnow()
        fresh = [a for a in await self.awaiting() if a.overdue(moment) and not a.flagged]
        for item in fresh:
            error = AcknowledgmentOverdueError(
                f"{(item.document_type or 'document').replace('_', ' ')} {item.business_key or item.message_id} "
                f"sent to {item.partner_id} at {item.sent_at:%Y-%m-%d %H:%M} UTC has no acknowledgment; "
                f"the deadline was {item.deadline:%Y-%m-%d %H:%M} UTC",
                hint="ask the partner, or send the document again (b2b-gateway messages retry)",
            )
            log.warning(
                "ack.overdue",
                code=error.code,
                message_id=item.message_id,
                partner=item.partner_id,
                document_type=item.document_type,
                business_key=item.business_key,
                deadline=item.deadline.isoformat(),
                detail=error.message,
            )
            await self.store.flag_overdue(item, error.message, at=moment)
            for hook in self.hooks:
                hook(item)
        return fresh

    async def run(self, stop: asyncio.Event, *, interval_s: float) -> None:
        """Check deadlines every ``interval_s`` until ``stop`` is set."""
        while not stop.is_set():
            try:
                await self.check_overdue()
            except GatewayError as exc:
                log.warning("ack.check_failed", error=exc.message)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval_s)


def timeline_view(value: str, kind: str, entries: Sequence[TimelineEntry]) -> dict[str, Any]:
    """A conversation as the API serves it: its entries (oldest first) and which milestones were reached."""
    reached = _reached(entries)
    return {
        "kind": kind,
        "key": value,
        "milestones": {m: m in reached for m in MILESTONES},
        "rejected_by_partner": any(e.ack_status == "rejected" for e in entries),
        "entries": [e.to_dict() for e in entries],
    }


def _reached(entries: Sequence[TimelineEntry]) -> set[str]:
    reached: set[str] = set()
    for e in entries:
        if e.milestone in ("ordered", "changed", "replaced"):
            reached.add("ordered")
            # ours acknowledged by the partner (buying), or theirs by us (selling: our CONTRL delivered)
            if e.ack_status in ("accepted", "received") or e.our_ack == "delivered":
                reached.add("acknowledged")
        elif e.milestone.startswith("confirmed"):
            reached.add("confirmed")
        elif e.milestone in ("shipped", "invoiced"):
            reached.add(e.milestone)
    return reached
