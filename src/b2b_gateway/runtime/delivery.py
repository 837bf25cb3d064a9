"""Delivery plumbing: where a destination name leads, which sender serves it, backoff and circuit breakers.

Destination names (what routing writes on each output):

* ``erp`` → the ERP exchange (sender kind ``erp``);
* ``partner:<id>`` or ``partner:<id>/<channel>`` → the partner's channel; the channel's ``kind``
  (``http``, ``as2``, ``amqp``, ``directory``) names the sender;
* ``dir:<path>`` → a drop directory (kind ``directory``);
* ``amqp:<exchange>[/<routing key>]`` → an exchange (kind ``queue``).

A sender is registered per kind in a :class:`SenderRegistry`; AS2 registers ``as2`` the same way.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from b2b_gateway.errors import DuplicateDocumentError, PartnerConfigError, RoutingConfigError
from b2b_gateway.observability.tracing import outgoing_trace
from b2b_gateway.partners.directory import PartnerDirectory
from b2b_gateway.partners.profile import RetryPolicy
from b2b_gateway.pipeline.message import Message, State
from b2b_gateway.settings import DeliverySettings
from b2b_gateway.store.outbox import OutboxItem
from b2b_gateway.store.repository import MessageRepository
from b2b_gateway.transport.base import Endpoint, OutboundRequest, Sender

__all__ = [
    "CircuitBreaker",
    "EndpointResolver",
    "OutboxDeliverer",
    "SenderRegistry",
    "backoff_delay",
    "request_for",
]


class SenderRegistry:
    """Senders by endpoint kind (``erp``, ``queue``, ``http``, ``directory``, ``amqp``, ``as2`` …)."""

    def __init__(self) -> None:
        self._senders: dict[str, Sender] = {}

    def register(self, kind: str, sender: Sender) -> None:
        """Serve endpoints of ``kind`` with ``sender`` (replacing any earlier one)."""
        self._senders[kind] = sender

    def get(self, kind: str) -> Sender | None:
        return self._senders.get(kind)

    @property
    def kinds(self) -> list[str]:
        return sorted(self._senders)


class EndpointResolver:
    """Turns an outbox entry's destination into an :class:`Endpoint` (at send time: fixes apply at once)."""

    def __init__(self, partners: Callable[[], PartnerDirectory], *, erp_exchange: str) -> None:
        self.partners = partners
        self.erp_exchange = erp_exchange

    def resolve(self, destination: str) -> Endpoint:
        """Raises PartnerConfigError or RoutingConfigError when the destination leads nowhere."""
        if destination == "erp":
            return Endpoint("erp", self.erp_exchange)
        if destination.startswith("dir:"):
            return Endpoint("directory", destination[4:])
        if destination.startswith("amqp:"):
            return Endpoint("queue", destination[5:])
        if destination.startswith("partner:"):
            partner_id, _, channel_name = destination[8:].partition("/")
            profile = self.partners().get(partner_id)
            if profile is None:
                raise PartnerConfigError(f"no partner profile {partner_id!r} to deliver to")
            channel = profile.channel(channel_name or None)
            if channel is None:
                which = f"channel {channel_name!r}" if channel_name else "channel"
                raise PartnerConfigError(f"partner {partner_id} has no {which} to deliver to")
            if channel.kind in ("http", "as2"):
                address = channel.url or ""
            elif channel.kind == "directory":
                address = channel.path or ""
            else:
                address = channel.exchange or ""
                address += f"/{channel.routing_key}" if channel.routing_key else ""
            if not address:
                raise PartnerConfigError(
                    f"partner {partner_id}'s {channel.kind} channel {channel.name!r} has no address"
                )
            return Endpoint(channel.kind, address, partner=profile, channel=channel)
        raise RoutingConfigError(f"unknown destination {destination!r}")

    def retry_policy(self, item: OutboxItem, endpoint: Endpoint | None, defaults: DeliverySettings) -> RetryPolicy:
        """The partner's retry policy for partner endpoints, the delivery defaults otherwise."""
        if endpoint is not None and endpoint.partner is not None:
            return endpoint.partner.retry
        if item.destination.startswith("partner:"):
            profile = self.partners().get(item.destination[8:].partition("/")[0])
            if profile is not None:
                return profile.retry
        return RetryPolicy(
            max_attempts=defaults.max_attempts,
            initial_delay_s=defaults.initial_delay_s,
            max_delay_s=defaults.max_delay_s,
        )


def request_for(item: OutboxItem, endpoint: Endpoint) -> OutboundRequest:
    """The sender's view of an outbox entry."""
    return OutboundRequest(
        idempotency_key=item.idempotency_key,
        message_id=item.message_id,
        payload=item.payload,
        content_type=item.content_type,
        format=item.format,
        kind=item.kind,
        endpoint=endpoint,
        attempt=item.attempts + 1,
        headers=dict(item.headers),
        partner_id=item.partner_id,
        document_type=item.document_type,
        business_key=item.business_key,
        correlation_id=item.correlation_id,
        test=item.test,
    )


def backoff_delay(attempt: int, policy: RetryPolicy, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter: between half and all of ``initial * 2^(attempt-1)``, capped."""
    ceiling = min(policy.max_delay_s, policy.initial_delay_s * (2 ** max(0, attempt - 1)))
    return (rng or random).uniform(ceiling / 2, ceiling)


@dataclass(slots=True)
class CircuitBreaker:
    """Per endpoint: opens after ``threshold`` consecutive failures, lets one probe through after ``cooldown_s``."""

    threshold: int = 5
    cooldown_s: float = 30.0
    failures: int = 0
    opened_at: float | None = None
    probing: bool = False
    clock: Callable[[], float] = field(default=time.monotonic)

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None

    def allow(self) -> bool:
        """Whether a delivery may be tried now (a half-open breaker lets exactly one through)."""
        if self.opened_at is None:
            return True
        if self.probing or self.clock() - self.opened_at < self.cooldown_s:
            return False
        self.probing = True
        return True

    def retry_in(self) -> float:
        """Seconds until the breaker lets a probe through."""
        if self.opened_at is None:
            return 0.0
        return max(0.5, self.cooldown_s - (self.clock() - self.opened_at))

    def success(self) -> None:
        self.failures, self.opened_at, self.probing = 0, None, False

    def failure(self) -> None:
        self.failures += 1
        if self.probing or self.failures >= self.threshold:
            self.opened_at = self.clock()
        self.probing = False


class OutboxDeliverer:
    """The pipeline's Deliverer: outputs go into the outbox with the message (one commit), then to the relay."""

    saves_message = True
    """The message is saved with its outbox entries (the stages before leave the save to :meth:`deliver`)."""

    def __init__(
        self,
        repo: MessageRepository,
        submit: Callable[[list[OutboxItem]], Awaitable[None]],
        *,
        owner: str,
        lease_s: float,
    ) -> None:
        self.repo = repo
        self.submit = submit
        self.owner = owner
        self.lease_s = lease_s

    async def deliver(self, message: Message) -> None:
        routed = message.state is State.ROUTED
        for out in message.outputs:  # stored in the outbox: the relay hands the trace on, however late
            out.headers.update(outgoing_trace(message.metadata, out.id))
        if message.outputs:
            where = sorted({o.destination for o in message.outputs})
            message.record("deliver", "info", f"queued for {', '.join(where)}", outputs=[o.id for o in message.outputs])
        try:
            result = await self.repo.save_and_enqueue(message, owner=self.owner, lease_s=self.lease_s)
        except DuplicateDocumentError:  # its claim found an earlier copy: nothing was saved or enqueued
            if message.outputs and message.events and message.events[-1].stage == "deliver":
                message.events.pop()  # not "queued for …" after all
            message.outputs.clear()
            raise
        if routed and result.all_delivered:
            message.state = State.DELIVERED
        if result.items:
            await self.submit(result.items)  # waits while the relay has too much pending (backpressure)
