"""The duplicate check: a pipeline stage (after ``verify``) over the store's duplicate index.

An inbound document is a duplicate when the same sender already sent the same interchange reference
(or, for a single document, its document number) or the same bytes. The partner's ``duplicates``
policy decides: ``reject`` (the document is refused with CONTRL 26, :class:`DuplicateDocumentError`),
``ignore`` (stored as a duplicate and dropped quietly: the error is a warning) or ``accept``
(processed again). A resend is never blocked when the earlier copy ended rejected, failed,
quarantined, parked or cancelled, or when it stalled (no progress for a while, its input given up).
The same message processed again after a crash keeps its id and is not its own duplicate; a replay
(``replay_of``) is let through on purpose. In a running gateway (the deliverer saves what it delivers)
the receipt's keys are claimed in the transaction that saves the document's outputs, as below, or,
for an interchange split into several documents, before the first of them is delivered.

A second check, :func:`document_dedupe_stage` (after ``map``), catches the same *business document*
sent again in a new interchange (a partner whose software sends an invoice twice): an invoice, or an
original order, whose number the partner already sent, under the same policy. In a running gateway
(the deliverer saves what it delivers) that key is claimed in the transaction that saves the
document's outputs, one commit less per document: a duplicate rolls that transaction back, so
nothing of the copy is stored or sent, and it ends ``duplicate`` from ``deliver`` with the same error.
A partner whose policy is ``accept`` has the key claimed at once (its warning goes in the trail).
"""

from __future__ import annotations

from collections.abc import Sequence

from b2b_gateway.errors import DuplicateDocumentError
from b2b_gateway.pipeline.context import PipelineContext
from b2b_gateway.pipeline.message import Direction, Message
from b2b_gateway.pipeline.stages import Stage, saved_by_deliverer
from b2b_gateway.store.repository import MessageRepository

__all__ = ["DOCUMENT_KEYED", "dedupe_stage", "document_dedupe_stage", "with_dedupe"]

DOCUMENT_KEYED = ("invoice", "order")
"""Document types whose number identifies one document of the partner (an order only when original)."""


def _sender(message: Message) -> str:
    identify = next((e.data for e in message.events if e.stage == "identify"), {})
    return str(message.partner_id or identify.get("sender") or "-")[:64]


def dedupe_stage(repo: MessageRepository) -> Stage:
    """The ``dedupe`` stage for inbound documents as received (interchanges and single documents)."""

    async def dedupe(message: Message, ctx: PipelineContext) -> None:
        if message.direction is not Direction.INBOUND or message.parent_id is not None:
            return
        if message.metadata.get("replay_of"):
            message.record("dedupe", "info", f"replay of {message.metadata['replay_of']}: not checked")
            return
        partner = ctx.partner(message.partner_id)
        policy = partner.duplicates if partner else "reject"
        who = _sender(message)
        keys = [(who, "sha256", message.sha256)]
        if message.interchange_ref:
            keys.insert(0, (who, "ref", message.interchange_ref))
        what = f"reference {message.interchange_ref}" if message.interchange_ref else "the same content"

        def duplicate(earlier_id: str, state: str) -> DuplicateDocumentError:
            return DuplicateDocumentError(
                f"duplicate of message {earlier_id} ({state}): {who} already sent {what}",
                severity="warning" if policy == "ignore" else "error",
                details={"duplicate_of": earlier_id, "policy": policy},
                hint="replay the earlier message if it must be processed again",
            )

        if policy != "accept" and saved_by_deliverer(ctx) and ctx.store is repo:
            # claimed with the outbox save (one commit per document), or before the children of a split
            # interchange are delivered (the runner's ``claim_deferred``)
            repo.defer_claim(message, keys, duplicate)
            message.record("dedupe", "ok", "receipt keys to be claimed with the document's save")
            return
        earlier = await repo.claim_unique(message, keys)
        if earlier is None:
            message.record("dedupe", "ok", "first receipt")
            return
        error = duplicate(*earlier)
        if policy == "accept":
            message.record(
                "dedupe", "warning", error.message + "; accepted by the partner's policy", duplicate_of=earlier[0]
            )
            return
        raise error

    return Stage("dedupe", dedupe)


def document_dedupe_stage(repo: MessageRepository) -> Stage:
    """The ``dedupe_document`` stage: an inbound invoice or original order whose number its partner sent before."""

    async def dedupe_document(message: Message, ctx: PipelineContext) -> None:
        doc = message.canonical
        if message.direction is not Direction.INBOUND or doc is None or doc.document_type not in DOCUMENT_KEYED:
            return
        if getattr(doc, "message_function", "9") != "9" or message.metadata.get("replay_of"):
            return
        partner = ctx.partner(message.partner_id)
        policy = partner.duplicates if partner else "reject"
        who = _sender(message)
        key = f"{doc.document_type}:{doc.business_key}"

        def duplicate(earlier_id: str, state: str) -> DuplicateDocumentError:
            return DuplicateDocumentError(
                f"duplicate of message {earlier_id} ({state}): {who} already sent {doc.document_type} "
                f"{doc.business_key}",
                severity="warning" if policy == "ignore" else "error",
                details={"duplicate_of": earlier_id, "policy": policy, "document": key},
                hint="replay the earlier message if it must be processed again",
            )

        if policy != "accept" and saved_by_deliverer(ctx) and ctx.store is repo:
            # claimed in the transaction that saves the outputs (one commit less on the way to the ERP);
            # a duplicate then rolls that transaction back and ``deliver`` fails with the same error
            repo.defer_claim(message, [(who, "doc", key)], duplicate)
            return
        earlier = await repo.claim_unique(message, [(who, "doc", key)])
        if earlier is None:
            return
        error = duplicate(*earlier)
        if policy == "accept":
            message.record("dedupe_document", "warning", error.message + "; accepted by the partner's policy")
            return
        raise error

    return Stage("dedupe_document", dedupe_document)


def with_dedupe(stages: Sequence[Stage], repo: MessageRepository) -> tuple[Stage, ...]:
    """``stages`` with the duplicate check inserted after ``verify`` (or after ``identify``)."""
    names = [s.name for s in stages]
    after = names.index("verify") if "verify" in names else names.index("identify")
    return (*stages[: after + 1], dedupe_stage(repo), *stages[after + 1 :])
