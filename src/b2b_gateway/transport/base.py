"""The shape every transport has: envelopes, deliveries acknowledged in a scope, the topology, senders.

A *queue transport* (RabbitMQ, the embedded queue in the store, the in-memory twin) publishes
:class:`Envelope` values to exchanges with a confirm, and hands each queued message to a handler as a
:class:`Delivery`. A handler settles its delivery inside ``async with delivery.process():`` (the scope
of aio-pika's ``message.process()``): leaving the block normally acknowledges; a
:class:`~b2b_gateway.errors.TransientError` schedules a delayed retry (per-attempt delay, then the
dead-letter queue); any other exception dead-letters with the reason; cancellation gives the message
back to the queue. A *sender* delivers one output to one endpoint (HTTP, a directory, an exchange,
AS2); the outbox relay picks the sender by the endpoint's kind.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import Any, Protocol

from b2b_gateway.errors import GatewayError, TransientError
from b2b_gateway.observability.logging import get_logger
from b2b_gateway.partners.profile import Channel, PartnerProfile

__all__ = [
    "Delivery",
    "Endpoint",
    "Envelope",
    "Handler",
    "Headers",
    "OutboundRequest",
    "QueueDepth",
    "Sender",
    "Transport",
    "cancel_consumers",
]

log = get_logger("b2b_gateway.transport")


class Headers:
    """Header names of the gateway's AMQP contract (see docs/amqp.md)."""

    IDEMPOTENCY_KEY = "idempotency-key"
    MESSAGE_ID = "x-b2b-message-id"
    CORRELATION_ID = "x-b2b-correlation-id"
    PARTNER = "x-b2b-partner"
    DOCUMENT_TYPE = "x-b2b-document-type"
    BUSINESS_KEY = "x-b2b-business-key"
    FORMAT = "x-b2b-format"
    TEST = "x-b2b-test"
    CHANNEL = "x-b2b-channel"
    FILENAME = "x-b2b-filename"
    PICKUP = "x-b2b-pickup"
    FILE = "x-b2b-file"
    """A big picked-up file is not put on the queue: this names where it was archived (read as a stream)."""
    REPLAY_OF = "x-b2b-replay-of"
    IMPORT = "x-b2b-import"
    TRACEPARENT = "traceparent"
    TRACESTATE = "tracestate"
    ATTEMPT = "x-b2b-attempt"
    REASON = "x-b2b-death-reason"
    DEAD_FROM = "x-b2b-dead-from"


@dataclass(frozen=True, slots=True)
class Envelope:
    """A message on a queue: the body and its properties."""

    body: bytes
    message_id: str
    routing_key: str = ""
    headers: dict[str, Any] = field(default_factory=dict)
    content_type: str = "application/octet-stream"
    correlation_id: str | None = None
    type: str | None = None


@dataclass(frozen=True, slots=True)
class QueueDepth:
    """How many messages wait in a queue (``unacked`` when the transport knows)."""

    queue: str
    ready: int
    unacked: int | None = None
    consumers: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"queue": self.queue, "ready": self.ready, "unacked": self.unacked, "consumers": self.consumers}


class Delivery(abc.ABC):
    """One queued message handed to a consumer; settle it exactly once."""

    def __init__(self, envelope: Envelope, queue: str, *, max_attempts: int, delays_s: tuple[float, ...]) -> None:
        self.envelope = envelope
        self.queue = queue
        self.max_attempts = max_attempts
        self.delays_s = delays_s or (1.0,)
        self.settled = False

    @property
    def attempt(self) -> int:
        """How many times processing was tried and put off before this delivery (0 the first time)."""
        try:
            return int(self.envelope.headers.get(Headers.ATTEMPT, 0))
        except (TypeError, ValueError):
            return 0

    @property
    @abc.abstractmethod
    def redelivered(self) -> bool:
        """Whether the queue delivered this message before (a consumer died or gave it back)."""

    @abc.abstractmethod
    async def _ack(self) -> None: ...

    @abc.abstractmethod
    async def _retry(self, delay_s: float, index: int) -> None: ...

    @abc.abstractmethod
    async def _dead_letter(self, reason: str) -> None: ...

    @abc.abstractmethod
    async def _release(self) -> None: ...

    async def _settle(self, action: Callable[[], Awaitable[None]], what: str) -> None:
        if self.settled:
            return
        self.settled = True
        try:
            await action()
        except GatewayError as exc:
            log.warning("delivery.settle_failed", action=what, queue=self.queue, error=exc.message)
        except Exception as exc:  # the channel died: the broker gives the message to another consumer
            log.warning("delivery.settle_failed", action=what, queue=self.queue, error=f"{type(exc).__name__}: {exc}")

    async def ack(self) -> None:
        """Done: remove the message from the queue."""
        await self._settle(self._ack, "ack")

    async def retry(self, reason: str) -> None:
        """Try again later: after the delay of this attempt, or dead-letter once attempts are used up."""
        index = self.attempt
        if index + 1 >= self.max_attempts:
            await self.dead_letter(f"gave up after {index + 1} attempt(s): {reason}")
            return
        delay = self.delays_s[min(index, len(self.delays_s) - 1)]
        await self._settle(lambda: self._retry(delay, index), "retry")

    async def dead_letter(self, reason: str) -> None:
        """Give up: move the message to the queue's dead-letter queue with ``reason``."""
        await self._settle(lambda: self._dead_letter(reason[:1000]), "dead-letter")

    async def release(self) -> None:
        """Give the message back to the queue now, unprocessed (shutting down)."""
        await self._settle(self._release, "release")

    @contextlib.asynccontextmanager
    async def process(self) -> AsyncIterator[Delivery]:
        """Settle by how the block ends: ack, retry (transient), release (cancelled) or dead-letter."""
        try:
            yield self
        except TransientError as exc:
            await self.retry(f"[{exc.code}] {exc.message}")
            return
        except GatewayError as exc:
            await self.dead_letter(f"[{exc.code}] {exc.message}")
            return
        except BaseException as exc:
            if isinstance(exc, Exception):
                await self.dead_letter(f"internal error: {type(exc).__name__}: {exc}")
                return
            await self.release()
            raise
        await self.ack()


Handler = Callable[[Delivery], Awaitable[None]]


class Transport(Protocol):
    """A queue transport: the same interface over RabbitMQ, the embedded store queue and memory."""

    name: str

    async def start(self) -> None:
        """Connect and declare the topology."""
        ...

    async def close(self) -> None: ...

    async def publish(self, exchange: str, envelope: Envelope) -> None:
        """Publish and wait for the broker's confirm. Raises BrokerUnavailableError or DeliveryError."""
        ...

    async def consume(self, queue: str, handler: Handler, *, prefetch: int) -> None:
        """Start handing the queue's messages to ``handler``, up to ``prefetch`` at a time, concurrently."""
        ...

    async def stop_consuming(self) -> None:
        """Take no new deliveries (those in flight finish)."""
        ...

    async def depths(self) -> list[QueueDepth]: ...


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where one output goes: the sender kind and its address, with the partner and channel if any."""

    kind: str
    address: str
    partner: PartnerProfile | None = None
    channel: Channel | None = None

    @property
    def key(self) -> str:
        """What a circuit breaker is kept per."""
        return f"{self.kind}:{self.address}"


@dataclass(frozen=True, slots=True)
class OutboundRequest:
    """One delivery attempt handed to a sender."""

    idempotency_key: str
    message_id: str
    payload: bytes
    content_type: str
    format: str
    kind: str
    endpoint: Endpoint
    attempt: int = 1
    headers: dict[str, str] = field(default_factory=dict)
    partner_id: str | None = None
    document_type: str | None = None
    business_key: str | None = None
    correlation_id: str = ""
    test: bool = False

    def standard_headers(self) -> dict[str, str]:
        """The gateway's headers for this document (AMQP and HTTP alike)."""
        out = {
            Headers.IDEMPOTENCY_KEY: self.idempotency_key,
            Headers.MESSAGE_ID: self.message_id,
            Headers.CORRELATION_ID: self.correlation_id,
            Headers.FORMAT: self.format,
            Headers.TEST: "true" if self.test else "false",
        }
        optional = {
            Headers.PARTNER: self.partner_id,
            Headers.DOCUMENT_TYPE: self.document_type,
            Headers.BUSINESS_KEY: self.business_key,
        }
        out.update({name: value for name, value in optional.items() if value})
        out.update(self.headers)
        return out


class Sender(Protocol):
    """Delivers one output to one endpoint.

    Returns a short receipt for the audit trail (``HTTP 200``, a file name, an MDN id). Raises a
    :class:`~b2b_gateway.errors.TransientError` (usually ``DeliveryError`` or
    ``EndpointUnavailableError``) to be retried with backoff, or another
    :class:`~b2b_gateway.errors.GatewayError` (``DeliveryRefusedError``) to dead-letter at once.
    """

    async def send(self, request: OutboundRequest) -> str: ...


async def cancel_consumers(consumers: list[asyncio.Task[None]], inflight: Collection[asyncio.Task[Any]]) -> None:
    """Stop consuming: cancel the consumer loops, then let the deliveries in flight finish."""
    for task in consumers:
        task.cancel()
    for task in consumers:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    consumers.clear()
    if inflight:
        await asyncio.gather(*inflight, return_exceptions=True)
