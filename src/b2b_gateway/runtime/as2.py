"""AS2 in a running gateway: the receiver behind ``POST /as2``, and the outbox relay's ``as2`` sender.

* **Receiving.** :class:`As2Runtime` holds the sans-IO :class:`~b2b_gateway.as2.inbound.As2Receiver`
  (partners found from AS2-From over the live partner directory and the certificate store) and
  :meth:`As2Runtime.on_payload`, which runs each accepted payload through the inbound pipeline (the
  partner known from AS2-From) before the MDN is answered: a security refusal in the pipeline becomes
  the MDN's disposition, a store outage answers 503 and the partner sends again. The HTTP router
  itself is :func:`b2b_gateway.api.as2.as2_router`, mounted by :func:`b2b_gateway.api.edges.attach_edges`.
* **Duplicates.** A Message-ID already received from the partner is a duplicate: remembered in memory
  once accepted, and looked up in the store (the message id derives from partner and Message-ID), so
  the register survives a restart.
* **Sending.** :class:`As2OutboxSender` adapts :class:`~b2b_gateway.transport.as2.As2Sender` to the
  relay's :class:`~b2b_gateway.transport.base.Sender`: a positive synchronous MDN is a delivery (its
  disposition is the receipt); an MDN saying the partner *processed* the message with an error
  (``processed/error: unexpected-processing-error``: it read the file and did not accept it) is a
  delivery too, recorded on the document as the partner's rejection; a security or trading-partner
  disposition, or a 4xx, is a refusal (dead-lettered with the reason: fix the setup, then retry); an
  unreachable partner or a 5xx a transient failure (retried with backoff).
* **Asynchronous MDNs** posted to ``/as2/mdn`` are matched to what was sent and recorded on the
  document (an ``mdn`` acknowledgment; a negative one is a rejection by the partner). What is awaited
  is kept in memory: an MDN that arrives after a restart is reported as unmatched.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from b2b_gateway.as2.inbound import As2Receiver, Inbound, SeenMessages
from b2b_gateway.as2.mdn import MdnReceipt
from b2b_gateway.as2.mime import Headers
from b2b_gateway.as2.outbound import OutboundMessage
from b2b_gateway.as2.party import As2Party
from b2b_gateway.errors import DeliveryRefusedError, GatewayError, PartnerError, SecurityError, TransientError
from b2b_gateway.observability.logging import get_logger
from b2b_gateway.partners.directory import PartnerDirectory
from b2b_gateway.pipeline.message import Message, Output, State, derive_id
from b2b_gateway.runtime.security import as2_lookup
from b2b_gateway.security.store import CertStore
from b2b_gateway.settings import Settings
from b2b_gateway.store.acknowledgments import AcknowledgmentStore, AckRecord
from b2b_gateway.store.batch import RESENDABLE
from b2b_gateway.transport.as2 import As2Sender
from b2b_gateway.transport.base import OutboundRequest

__all__ = ["As2OutboxSender", "As2Runtime", "as2_message_id"]

log = get_logger("b2b_gateway.as2")

Submit = Callable[[Callable[[], Message]], Awaitable[Message]]
StateOf = Callable[[str], Coroutine[Any, Any, str | None]]
Record = Callable[[list[AckRecord]], Awaitable[None]]


def as2_message_id(partner_id: str, as2_message_id: str) -> str:
    """The gateway message id of an AS2 message: the same partner and Message-ID, the same message."""
    return derive_id(f"as2:{partner_id}:{as2_message_id.strip()}")


@dataclass(slots=True)
class _Awaited:
    message_id: str
    partner_id: str | None


class As2Runtime:
    """The AS2 endpoint's logic and the AS2 sender of one gateway.

    Args:
        partners: the current partner directory.
        store: our keys and the partners' certificates.
        settings: the gateway's settings (key passphrase, default signing key, limits, certs directory).
        our_as2_id: our AS2 name where a partner's channel sets none.
    """

    def __init__(
        self, partners: Callable[[], PartnerDirectory], store: CertStore, settings: Settings, *, our_as2_id: str
    ) -> None:
        self.partners = partners
        self.store = store
        self.our_as2_id = our_as2_id
        self.seen = SeenMessages()
        self.submit: Submit | None = None
        """Runs a message through the inbound pipeline (set by the gateway when it starts)."""
        self.state_of: StateOf | None = None
        """The stored state of a message id, for the duplicate register (set by the gateway)."""
        self.record: Record | None = None
        """Records acknowledgments on sent documents (set by the gateway)."""
        self.loop: asyncio.AbstractEventLoop | None = None
        self.receiver = As2Receiver(
            self._lookup, is_duplicate=self._is_duplicate, max_bytes=settings.limits.max_document_bytes
        )
        self.sender = As2Sender(
            store,
            our_as2_id,
            security=settings.security,
            certs_dir=settings.paths.certs_dir,
            on_async_mdn=self._on_async_mdn,
        )
        self.outbox_sender = As2OutboxSender(self)
        self.awaited: dict[str, _Awaited] = {}

    def bind(self, submit: Submit, store: AcknowledgmentStore) -> None:
        """Hand payloads to ``submit`` (the pipeline), look up and record through ``store`` (once started)."""
        self.submit, self.state_of, self.record = submit, store.state_of, store.record_acknowledgments
        self.loop = asyncio.get_running_loop()

    def _lookup(self, as2_from: str, as2_to: str) -> As2Party | None:
        signing_key = self.sender.security.signing_key
        lookup = as2_lookup(self.partners(), self.store, our_as2_id=self.our_as2_id, default_signing_key=signing_key)
        return lookup(as2_from, as2_to)

    def _is_duplicate(self, partner_id: str, message_id: str) -> bool:
        """Called by the receiver in a worker thread: the in-memory register, then the store."""
        if self.seen.is_duplicate(partner_id, message_id):
            return True
        if self.state_of is None or self.loop is None:
            return False
        lookup = self.state_of(as2_message_id(partner_id, message_id))
        future: concurrent.futures.Future[str | None] = asyncio.run_coroutine_threadsafe(lookup, self.loop)
        try:
            state = future.result(timeout=30)
        except (GatewayError, concurrent.futures.TimeoutError):
            return False  # the store is not answering: the pipeline's idempotent save copes with a repeat
        return state is not None and State(state) not in RESENDABLE

    def remember(self, partner_id: str, message_id: str) -> None:
        """A Message-ID accepted from ``partner_id`` (what ``as2_router`` calls after ``on_payload``)."""
        self.seen.remember(partner_id, message_id)

    async def on_payload(self, inbound: Inbound) -> None:
        """Run an accepted AS2 payload through the pipeline; refuse it (raise) when security failed there."""
        assert inbound.payload is not None and inbound.party is not None
        if self.submit is None:
            raise TransientError("the gateway is not started")
        party, payload = inbound.party, inbound.payload

        def make() -> Message:
            return Message(
                raw=payload,
                channel="as2",
                id=as2_message_id(party.partner_id, inbound.message_id),
                partner_id=party.partner_id,
                metadata=inbound.metadata(),
            )

        message = await self.submit(make)
        if message.state is State.QUARANTINED and message.errors and isinstance(message.errors[0], SecurityError):
            raise message.errors[0]

    async def on_mdn(self, headers: Headers, body: bytes) -> MdnReceipt:
        """An asynchronous MDN posted to ``/as2/mdn`` (raises UnmatchedAcknowledgmentError for a stranger)."""
        return await self.sender.receive_mdn(headers, body)

    async def _on_async_mdn(self, message: OutboundMessage, receipt: MdnReceipt) -> None:
        awaited = self.awaited.pop(message.message_id, None)
        if awaited is None or self.record is None:
            return
        await self.record([mdn_record(awaited.message_id, awaited.partner_id, message.message_id, receipt)])


def mdn_record(message_id: str, partner_id: str | None, as2_id: str, receipt: MdnReceipt) -> AckRecord:
    """The acknowledgment an MDN makes of the document ``message_id``."""
    error = receipt.error()
    detail = f"MDN from {partner_id or 'the partner'} for AS2 message {as2_id}: {receipt.disposition}"
    if error is not None:
        detail += f" ({error.message})"
    return AckRecord(
        message_id=message_id,
        ack_id=f"mdn:{as2_id}",
        kind="mdn",
        status="accepted" if error is None else "rejected",
        partner_id=partner_id,
        reference=as2_id,
        detail=detail,
        reasons=[{"code": error.code, "text": error.message}] if error is not None else [],
    )


class As2OutboxSender:
    """The relay's sender for ``as2`` endpoints (see the module docstring)."""

    def __init__(self, runtime: As2Runtime) -> None:
        self.runtime = runtime

    async def send(self, request: OutboundRequest) -> str:
        endpoint = request.endpoint
        if endpoint.partner is None or endpoint.channel is None:
            raise DeliveryRefusedError(f"{endpoint.key} is not a partner's AS2 channel")
        output = Output(
            destination=endpoint.key,
            payload=request.payload,
            format=request.format,
            content_type=request.content_type,
            kind="acknowledgment" if request.kind == "acknowledgment" else "document",
            headers={"filename": f"{request.document_type or 'document'}-{request.idempotency_key[:12]}.edi"},
            id=request.idempotency_key,
        )
        partner = endpoint.partner
        result = await self.runtime.sender.send(output, partner, endpoint.channel)
        if result.status == "refused":
            error = result.error
            if isinstance(error, TransientError):
                raise error
            if result.mdn is not None and result.message_id and not isinstance(error, SecurityError | PartnerError):
                # Received and processed, with errors (mock-edi: a file it did not accept in full): the
                # transfer is done; the refusal is the partner's acknowledgment of the document.
                if self.runtime.record is not None:
                    record = mdn_record(request.message_id, partner.id, result.message_id, result.mdn)
                    await self.runtime.record([record])
                return f"AS2 {result.message_id}: MDN {result.detail} (the partner reports an error)"
            raise DeliveryRefusedError(
                f"{partner.id} refused AS2 message {result.message_id}: {result.detail}",
                details={"as2_message_id": result.message_id, "code": error.code if error else None},
            )
        if result.status == "sent" and result.message_id:
            self.runtime.awaited[result.message_id] = _Awaited(request.message_id, request.partner_id)
            return f"AS2 {result.message_id}: sent, awaiting the asynchronous MDN"
        return f"AS2 {result.message_id}: MDN {result.detail}"

    async def close(self) -> None:
        """Nothing to close (a client is made per request)."""
