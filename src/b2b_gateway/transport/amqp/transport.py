"""The RabbitMQ transport (aio-pika): declared topology, confirms on every publish, manual acks.

* Exchanges are durable topic exchanges; queues are durable quorum queues with a dead-letter exchange
  each (``Q.dlx`` → ``Q.dead``) and a delivery limit (a message that keeps killing its consumer is
  dead-lettered by the broker).
* Delayed retries: a message that meets a transient error is republished to ``Q.retry.<n>``, a
  quorum queue whose per-queue TTL is the n-th retry delay and whose dead-letter route leads back to
  ``Q`` (at-least-once dead-lettering); then the original is acknowledged.
* Publishes wait for the broker's confirm and are ``mandatory``: an unroutable message is an error.
* Consumers run one task per delivery up to ``prefetch``; the handler acknowledges in the scope of
  :meth:`~b2b_gateway.transport.base.Delivery.process` (after the store commit). The acks of a
  channel go out together, one ``basic.ack`` with ``multiple`` for the deliveries a group commit made
  ready, never covering one still in processing (:mod:`.acks`).
* The connection is robust: it reconnects and restores channels, QoS, declarations and consumers.
  Deliveries in flight when it drops are redelivered by the broker.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import Any

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
    ExchangeType,
)
from aiormq.exceptions import ChannelPreconditionFailed

from b2b_gateway.errors import BrokerTopologyError, BrokerUnavailableError, DeliveryError
from b2b_gateway.observability.logging import get_logger
from b2b_gateway.settings import AmqpSettings
from b2b_gateway.transport.amqp.acks import ChannelAcks
from b2b_gateway.transport.amqp.connection import connect
from b2b_gateway.transport.base import Delivery, Envelope, Handler, Headers, QueueDepth
from b2b_gateway.transport.topology import Topology

__all__ = ["AmqpDelivery", "AmqpTransport"]

log = get_logger("b2b_gateway.transport.amqp")

_PUBLISH_ERRORS = (aio_pika.exceptions.AMQPError, ConnectionError, OSError, RuntimeError, TimeoutError)


def _message(envelope: Envelope) -> aio_pika.Message:
    return aio_pika.Message(
        envelope.body,
        message_id=envelope.message_id,
        headers=dict(envelope.headers),
        content_type=envelope.content_type,
        correlation_id=envelope.correlation_id,
        type=envelope.type,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
    )


class AmqpDelivery(Delivery):
    def __init__(
        self, transport: AmqpTransport, message: AbstractIncomingMessage, queue: str, acks: ChannelAcks | None = None
    ) -> None:
        headers = dict(message.headers or {})
        env = Envelope(
            body=message.body,
            message_id=message.message_id or "",
            routing_key=message.routing_key or "",
            headers=headers,
            content_type=message.content_type or "application/octet-stream",
            correlation_id=message.correlation_id,
            type=message.type,
        )
        topo = transport.topology
        super().__init__(env, queue, max_attempts=topo.max_attempts, delays_s=transport.delays_s)
        self._t = transport
        self.message = message
        self._acks = acks

    @property
    def redelivered(self) -> bool:
        return bool(self.message.redelivered)

    def _copy(self, headers: dict[str, Any]) -> Envelope:
        env = self.envelope
        clean = {k: v for k, v in headers.items() if not k.startswith("x-death") and not k.startswith("x-first-death")}
        clean.pop("x-delivery-count", None)
        return Envelope(
            env.body, env.message_id, env.routing_key, clean, env.content_type, env.correlation_id, env.type
        )

    async def _ack(self) -> None:
        if self._acks is None or self.message.delivery_tag is None:
            await self.message.ack()
        else:
            self._acks.ack(self.message.delivery_tag)  # sent with the channel's next ``multiple`` ack

    async def _settled_alone(self, settle: Awaitable[None]) -> None:
        """A ``nack`` or ``reject``: written at once, then counted as settled among the channel's acks."""
        try:
            await settle
        finally:
            if self._acks is not None and self.message.delivery_tag is not None:
                self._acks.settled(self.message.delivery_tag)

    async def _retry(self, delay_s: float, index: int) -> None:
        target = Topology.retry_queue_of(self.queue, min(index, len(self._t.topology.retry_delays_ms) - 1))
        try:
            await self._t.publish(
                "", self._copy({**self.envelope.headers, Headers.ATTEMPT: index + 1}), routing_key=target
            )
        except (BrokerUnavailableError, DeliveryError):
            await self._settled_alone(self.message.nack(requeue=True))
            return
        await self._ack()

    async def _dead_letter(self, reason: str) -> None:
        headers = {**self.envelope.headers, Headers.REASON: reason, Headers.DEAD_FROM: self.queue}
        try:
            await self._t.publish(Topology.dead_exchange_of(self.queue), self._copy(headers))
        except (BrokerUnavailableError, DeliveryError):
            # the queue's dead-letter exchange takes it, without reason
            await self._settled_alone(self.message.reject(requeue=False))
            return
        await self._ack()

    async def _release(self) -> None:
        await self._settled_alone(self.message.nack(requeue=True))


class AmqpTransport:
    """The queue transport over RabbitMQ."""

    name = "amqp"

    def __init__(
        self, settings: AmqpSettings, topology: Topology | None = None, *, connection_name: str = "b2b-gateway"
    ) -> None:
        self.settings = settings
        self.topology = topology or Topology.from_settings(settings)
        self.delays_s = self.topology.delays_s  # given to every delivery (as the other transports do)
        self.connection_name = connection_name
        self.connection: AbstractRobustConnection | None = None
        self._publish_channel: AbstractChannel | None = None
        self._exchanges: dict[str, AbstractExchange] = {}
        self._consumers: list[tuple[AbstractQueue, str]] = []
        self._inflight: set[asyncio.Task[None]] = set()
        self._acks: dict[int, ChannelAcks] = {}
        """Per consumer channel (by identity), the acks sent together (see :mod:`.acks`)."""

    @property
    def connected(self) -> bool:
        """Whether the connection to the broker is up (it reconnects by itself when it is not)."""
        return (
            self.connection is not None
            and not self.connection.is_closed
            and self._publish_channel is not None
            and not self._publish_channel.is_closed
        )

    async def start(self) -> None:
        if self.connection is not None:
            return
        self.connection = await connect(self.settings, name=self.connection_name)
        try:
            channel = await self.connection.channel(publisher_confirms=True, on_return_raises=True)
            await self._declare(channel)
        except ChannelPreconditionFailed as exc:
            await self.close()
            raise BrokerTopologyError(
                f"the broker's topology differs from the gateway's: {exc}",
                hint="delete the conflicting queue or exchange, or configure other names under [amqp]",
            ) from None
        self._publish_channel = channel

    async def _declare(self, channel: AbstractChannel) -> None:
        topo = self.topology
        quorum: dict[str, Any] = {"x-queue-type": "quorum"}
        for name in topo.exchanges:
            self._exchanges[name] = await channel.declare_exchange(name, ExchangeType.TOPIC, durable=True)
        self._exchanges[topo.exchange_dead] = await channel.declare_exchange(
            topo.exchange_dead, ExchangeType.FANOUT, durable=True
        )
        await channel.declare_queue(topo.queue_dead, durable=True, arguments=quorum)
        for queue in topo.consumed:
            dlx = await channel.declare_exchange(topo.dead_exchange_of(queue), ExchangeType.FANOUT, durable=True)
            self._exchanges[dlx.name] = dlx
            dead = await channel.declare_queue(topo.dead_queue_of(queue), durable=True, arguments=quorum)
            await dead.bind(dlx, routing_key="")
            args: dict[str, Any] = {
                **quorum,
                "x-dead-letter-exchange": dlx.name,
                "x-delivery-limit": topo.delivery_limit,
            }
            await channel.declare_queue(queue, durable=True, arguments=args)
            for index, delay in enumerate(topo.retry_delays_ms):
                retry_args: dict[str, Any] = {
                    **quorum,
                    "x-message-ttl": int(delay),
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": queue,
                    "x-dead-letter-strategy": "at-least-once",
                    "x-overflow": "reject-publish",
                }
                await channel.declare_queue(topo.retry_queue_of(queue, index), durable=True, arguments=retry_args)
        for binding in topo.bindings:
            bound = await channel.declare_queue(binding.queue, passive=True)
            await bound.bind(
                self._exchanges[binding.exchange],
                routing_key="" if binding.exchange == topo.exchange_dead else binding.pattern,
            )

    async def publish(self, exchange: str, envelope: Envelope, *, routing_key: str | None = None) -> None:
        """Publish with a confirm; ``exchange`` may be ``""`` (the default exchange, routing key = queue).

        Raises:
            BrokerUnavailableError: no connection, or the broker did not confirm (the caller retries).
            DeliveryError: the broker refused the message or could not route it.
        """
        if self._publish_channel is None:
            raise BrokerUnavailableError("the AMQP transport is not started")
        key = envelope.routing_key if routing_key is None else routing_key
        try:
            target = self._exchanges.get(exchange) if exchange else self._publish_channel.default_exchange
            if target is None:
                await self._check_exchange(exchange)
                target = await self._publish_channel.get_exchange(exchange, ensure=False)
                self._exchanges[exchange] = target
            await target.publish(_message(envelope), routing_key=key, mandatory=True, timeout=30)
        except aio_pika.exceptions.PublishError as exc:
            raise DeliveryError(
                f"the broker could not route the message to {exchange!r} with key {key!r}: {exc}"
            ) from None
        except aio_pika.exceptions.DeliveryError as exc:
            raise DeliveryError(f"the broker refused the message for {exchange!r}: {exc}") from None
        except _PUBLISH_ERRORS as exc:
            raise BrokerUnavailableError(
                f"publish to {exchange!r} not confirmed: {type(exc).__name__}: {exc}"
            ) from None

    async def _check_exchange(self, name: str) -> None:
        """An exchange outside the topology (a partner channel's) must exist: a publish to a missing one would
        close the shared publishing channel. Checked once, on a channel of its own."""
        assert self.connection is not None
        channel = await self.connection.channel()
        try:
            await channel.declare_exchange(name, passive=True)
        except aio_pika.exceptions.ChannelClosed:
            raise DeliveryError(f"there is no exchange {name!r} on the broker") from None
        finally:
            with contextlib.suppress(*_PUBLISH_ERRORS):
                await channel.close()

    async def consume(self, queue: str, handler: Handler, *, prefetch: int) -> None:
        assert self.connection is not None, "start() first"
        channel = await self.connection.channel(publisher_confirms=False)
        await channel.set_qos(prefetch_count=max(1, prefetch))
        declared = await channel.declare_queue(queue, passive=True)

        async def on_message(message: AbstractIncomingMessage) -> None:
            task = asyncio.current_task()
            if task is not None:
                self._inflight.add(task)
            acks = self._acks_of(message)
            try:
                await handler(AmqpDelivery(self, message, queue, acks))
            finally:
                if task is not None:
                    self._inflight.discard(task)

        tag = await declared.consume(on_message, no_ack=False)
        self._consumers.append((declared, tag))

    def _acks_of(self, message: AbstractIncomingMessage) -> ChannelAcks | None:
        """The acks of the message's channel (a new channel after a reconnection has its own)."""
        if message.delivery_tag is None:
            return None
        channel = message.channel
        acks = self._acks.get(id(channel))
        if acks is None or acks.channel is not channel:
            acks = self._acks[id(channel)] = ChannelAcks(channel)
            for key in [k for k, a in self._acks.items() if a.channel.is_closed]:
                del self._acks[key]
        acks.received(message.delivery_tag)
        return acks

    async def stop_consuming(self) -> None:
        for queue, tag in self._consumers:
            with contextlib.suppress(*_PUBLISH_ERRORS):
                await queue.cancel(tag)
        self._consumers = []
        if self._inflight:
            await asyncio.gather(*list(self._inflight), return_exceptions=True)
        for acks in list(self._acks.values()):
            await acks.flush()

    async def close(self) -> None:
        await self.stop_consuming()
        if self.connection is not None:
            with contextlib.suppress(*_PUBLISH_ERRORS):
                await self.connection.close()
        self.connection = None
        self._publish_channel = None
        self._exchanges = {}

    async def depths(self) -> list[QueueDepth]:
        """Ready messages and consumers per queue (AMQP does not report unacknowledged counts)."""
        assert self.connection is not None, "start() first"
        out: list[QueueDepth] = []
        channel = await self.connection.channel()
        try:
            for name in self.topology.all_queues():
                try:
                    q = await channel.declare_queue(name, passive=True)
                except aio_pika.exceptions.ChannelClosed:
                    channel = await self.connection.channel()
                    continue
                result = q.declaration_result
                out.append(QueueDepth(queue=name, ready=result.message_count or 0, consumers=result.consumer_count))
        finally:
            with contextlib.suppress(*_PUBLISH_ERRORS):
                await channel.close()
        return out
