"""Inbound acknowledgments matched to what the gateway sent: the ``match_ack`` pipeline stage.

A CONTRL, an APERAK or a Peppol invoice/message response arrives as a canonical
:class:`~b2b_gateway.canonical.status.StatusDocument`. This stage finds the document it answers in
the store (:func:`~b2b_gateway.formats.edifact.acks.match_acknowledgment` with a store lookup: UCI 0020
to the sent interchange's UNB 0020, UCM 0062 to its UNH 0062, an APERAK's ``RFF+ACW``; a Peppol
response by the invoice number), records the acknowledgment on it (accepted, or rejected with the
partner's reasons, see :class:`~b2b_gateway.store.conversations.ConversationStore`), and points the
status document at the business document for the ERP (``referenced_document`` becomes the order or
invoice it is about; the raw references stay in ``extensions.acknowledges``).

An acknowledgment of something the gateway never sent is *reported, not dropped*: the status document
still goes to the ERP, with an :class:`~b2b_gateway.errors.UnmatchedAcknowledgmentError` warning on the
message and an ``ack.unmatched`` log event.
"""

from __future__ import annotations

from dataclasses import dataclass

from b2b_gateway.canonical.common import DocumentReference
from b2b_gateway.canonical.status import StatusDocument
from b2b_gateway.errors import UnmatchedAcknowledgmentError
from b2b_gateway.formats.edifact.acks import AperakReport, ContrlReport, match_acknowledgment, read_aperak, read_contrl
from b2b_gateway.formats.edifact.model import EdifactMessage
from b2b_gateway.observability.logging import get_logger
from b2b_gateway.pipeline.context import PipelineContext
from b2b_gateway.pipeline.message import Direction, Message
from b2b_gateway.pipeline.stages import Stage
from b2b_gateway.store.conversations import AckRecord, ConversationStore, SentDocument

__all__ = ["Matched", "match_stage"]

log = get_logger("b2b_gateway.acks")

_WORDS = {"contrl": "CONTRL", "aperak": "APERAK", "invoice_response": "invoice response", "mdn": "MDN"}


@dataclass(frozen=True, slots=True)
class Matched:
    """A sent document an acknowledgment answers, with what it says about that document."""

    sent: SentDocument
    status: str
    reference: str


def _what(sent: SentDocument) -> str:
    return f"{(sent.document_type or 'document').replace('_', ' ')} {sent.business_key or sent.id[:12]}"


def _reasons_text(doc: StatusDocument) -> str:
    texts = []
    for r in doc.reasons:
        text = " ".join(p for p in (r.code, r.text) if p)
        if r.severity == "error" and text:
            texts.append(text + (f" ({r.location})" if r.location else ""))
    return "; ".join(texts)[:500]


async def _edifact_matches(
    store: ConversationStore, message: Message, report: ContrlReport | AperakReport
) -> tuple[list[Matched], list[UnmatchedAcknowledgmentError]]:
    partner = message.partner_id
    if isinstance(report, ContrlReport):
        candidates = await store.sent_by_interchange(partner, report.interchange_ref)
    else:
        ref = report.reference("ACW") or report.reference("ACE") or report.document_number
        named = await store.sent_referenced(partner, ref)
        # the business key names a document for sure; a bare UNH/UNB reference only with no better match
        candidates = [s for s in named if s.business_key == ref] or named[:1]

    def lookup(interchange_ref: str | None, message_ref: str | None) -> SentDocument | None:
        for sent in candidates:
            if interchange_ref is not None and sent.interchange_ref != interchange_ref:
                continue
            if message_ref is None or message_ref in (sent.message_ref, sent.business_key, sent.interchange_ref):
                return sent
        return None

    match = match_acknowledgment(report, lookup)
    found: list[Matched] = []
    if isinstance(report, ContrlReport):
        by_ref = {m.ref: m for m in report.all_messages}
        for ref, sent in match.messages:
            found.append(Matched(sent, by_ref[ref].status, f"{report.interchange_ref}/{ref}"))
        if match.interchange is not None and not report.all_messages:  # UCI only: the whole interchange
            found.extend(Matched(s, report.status, report.interchange_ref) for s in candidates)
    else:
        found = [Matched(sent, report.status, ref) for ref, sent in match.messages]
    return found, match.unmatched


async def _peppol_matches(
    store: ConversationStore, message: Message, doc: StatusDocument
) -> tuple[list[Matched], list[UnmatchedAcknowledgmentError]]:
    wanted = "invoice" if doc.kind == "invoice_response" else None
    sent = await store.sent_by_key(message.partner_id, doc.referenced_document.id, wanted)
    if sent:
        return [Matched(sent[0], doc.status, doc.referenced_document.id)], []
    error = UnmatchedAcknowledgmentError(
        f"{_WORDS.get(doc.kind, doc.kind)} {doc.document_number!r} answers document "
        f"{doc.referenced_document.id!r}, which the gateway never sent to {message.partner_id or 'this partner'}",
    )
    return [], [error]


def _enrich(doc: StatusDocument, found: list[Matched]) -> StatusDocument:
    first = found[0].sent
    acknowledges = [
        {
            "message_id": m.sent.id,
            "document_type": m.sent.document_type,
            "business_key": m.sent.business_key,
            "interchange_ref": m.sent.interchange_ref,
            "message_ref": m.sent.message_ref,
            "reference": m.reference,
            "status": m.status,
        }
        for m in found
    ]
    update: dict[str, object] = {"extensions": {**doc.extensions, "acknowledges": acknowledges}}
    if doc.kind in ("contrl", "aperak") and first.business_key:
        update["referenced_document"] = DocumentReference(id=first.business_key, document_type=first.document_type)
        update["notes"] = [*doc.notes, f"{_WORDS[doc.kind]} of interchange {doc.referenced_document.id}"]
    return doc.model_copy(update=update)


def match_stage(store: ConversationStore) -> Stage:
    """The ``match_ack`` stage (after ``map``): inbound status documents matched to what was sent."""

    async def match_ack(message: Message, ctx: PipelineContext) -> None:
        doc = message.canonical
        if message.direction is not Direction.INBOUND or not isinstance(doc, StatusDocument):
            return
        native = message.unit.native if message.unit is not None else None
        if doc.kind in ("contrl", "aperak") and isinstance(native, EdifactMessage):
            report = read_contrl(native) if native.type == "CONTRL" else read_aperak(native)
            found, unmatched = await _edifact_matches(store, message, report)
        else:
            found, unmatched = await _peppol_matches(store, message, doc)
        for error in unmatched:
            error.severity = "warning"
            message.warnings.append(error)
            log.warning("ack.unmatched", partner=message.partner_id, kind=doc.kind, detail=error.message)
        if not found:
            message.record("match_ack", "warning", "; ".join(e.message for e in unmatched) or "nothing matched")
            return
        who = message.partner_id or "the partner"
        reasons = [r.model_dump(mode="json", exclude_none=True) for r in doc.reasons]
        records = []
        for m in found:
            said = _reasons_text(doc) if m.status == "rejected" else ""
            detail = f"{_WORDS.get(doc.kind, doc.kind)} from {who}: {m.status} ({_what(m.sent)}, {m.reference})"
            records.append(
                AckRecord(
                    message_id=m.sent.id,
                    ack_id=message.id,
                    kind=doc.kind,
                    status=m.status,
                    partner_id=message.partner_id,
                    reference=m.reference,
                    detail=detail + (f": {said}" if said else ""),
                    reasons=reasons if m.status == "rejected" else [],
                )
            )
        await store.record_acknowledgments(records)
        message.canonical = _enrich(doc, found)
        message.business_key = message.canonical.business_key
        warn = bool(unmatched) or any(m.status == "rejected" for m in found)
        message.record(
            "match_ack",
            "warning" if warn else "ok",
            "; ".join(r.detail for r in records),
            acknowledges=[m.sent.id for m in found],
        )

    return Stage("match_ack", match_ack)
