"""The acks of a RabbitMQ consumer channel go out together, and never cover a delivery still in processing."""

from __future__ import annotations

import asyncio
from typing import Any

import aio_pika
import pytest

from b2b_gateway.settings import AmqpSettings
from b2b_gateway.transport import Delivery, Envelope, Topology
from b2b_gateway.transport.amqp import AmqpTransport

TOPO = Topology(retry_delays_ms=(50,), max_attempts=3)


async def ready_in(url: str, queue: str) -> list[bytes]:
    """The bodies waiting in ``queue`` (taken with a fresh connection, and acknowledged)."""
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel()
        q = await channel.declare_queue(queue, passive=True)
        bodies = []
        while (message := await q.get(no_ack=True, fail=False)) is not None:
            bodies.append(message.body)
        return bodies
    finally:
        await connection.close()


def frames(transport: AmqpTransport) -> int:
    return sum(acks.frames for acks in transport._acks.values())


async def started(url: str) -> AmqpTransport:
    transport = AmqpTransport(AmqpSettings(url=url), TOPO)
    await transport.start()
    return transport


async def publish(transport: AmqpTransport, bodies: list[bytes]) -> None:
    for i, body in enumerate(bodies):
        await transport.publish(TOPO.exchange_in, Envelope(body, f"m{i}", "order.ACME"))


async def test_deliveries_made_ready_together_share_one_ack_frame(vhost: str) -> None:
    transport = await started(vhost)
    await publish(transport, [f"doc {i}".encode() for i in range(20)])
    seen: list[Delivery] = []
    all_in, committed = asyncio.Event(), asyncio.Event()

    async def handler(delivery: Delivery) -> None:
        async with delivery.process():
            seen.append(delivery)
            if len(seen) == 20:
                all_in.set()
            await committed.wait()  # as a group commit: every document done in the same turn

    await transport.consume(TOPO.queue_in, handler, prefetch=50)
    await asyncio.wait_for(all_in.wait(), 30)
    committed.set()
    await transport.stop_consuming()
    assert all(d.settled for d in seen)
    assert 1 <= frames(transport) <= 2, frames(transport)  # not twenty
    await transport.close()
    assert await ready_in(vhost, TOPO.queue_in) == [], "every delivery was acknowledged"


async def test_an_ack_never_covers_a_delivery_still_in_processing(vhost: str) -> None:
    transport = await started(vhost)
    await publish(transport, [b"slow", b"fast 1", b"fast 2", b"fast 3"])
    done: list[bytes] = []
    forever = asyncio.Event()

    async def handler(delivery: Delivery) -> None:
        async with delivery.process():
            if delivery.envelope.body == b"slow":
                await forever.wait()
        done.append(delivery.envelope.body)

    await transport.consume(TOPO.queue_in, handler, prefetch=10)
    for _ in range(300):
        if len(done) == 3:
            break
        await asyncio.sleep(0.02)
    assert sorted(done) == [b"fast 1", b"fast 2", b"fast 3"]
    await asyncio.sleep(0.5)  # past the wait: the three are acknowledged on their own
    assert frames(transport) == 3
    assert transport.connection is not None
    await transport.connection.close()  # the process dies with "slow" in processing
    transport.connection = None
    forever.set()
    assert await ready_in(vhost, TOPO.queue_in) == [b"slow"], "only the unfinished delivery comes back"


async def test_gives_back_and_acks_mixed_on_one_channel(vhost: str, caplog: pytest.LogCaptureFixture) -> None:
    transport = await started(vhost)
    await publish(transport, [f"doc {i}".encode() for i in range(12)])
    seen: list[tuple[bytes, bool]] = []
    finished = asyncio.Event()

    async def handler(delivery: Delivery) -> None:
        body = delivery.envelope.body
        seen.append((body, delivery.redelivered))
        if len(seen) == 16:
            finished.set()
        async with delivery.process():
            await asyncio.sleep(0.01 * (int(body.split()[1]) % 4))  # out of order
            if int(body.split()[1]) % 3 == 0 and not delivery.redelivered:
                raise asyncio.CancelledError  # given back (nack, requeue) between acks

    await transport.consume(TOPO.queue_in, handler, prefetch=20)
    await asyncio.wait_for(finished.wait(), 30)
    await transport.stop_consuming()
    given_back = sorted(b for b, again in seen if again)
    assert given_back == [b"doc 0", b"doc 3", b"doc 6", b"doc 9"]
    channel: Any = next(iter(transport._acks.values())).channel
    assert not channel.is_closed, "no ack named a delivery the broker no longer held"
    await transport.close()
    assert await ready_in(vhost, TOPO.queue_in) == []
    assert "settle_failed" not in caplog.text


async def test_a_publish_is_persistent_with_the_envelopes_properties(vhost: str) -> None:
    transport = await started(vhost)
    envelope = Envelope(
        b"{}", "m-1", "order.ACME", {"x-b2b-partner": "ACME", "attempt": 2}, "application/json", "corr-1", "order"
    )
    await transport.publish(TOPO.exchange_in, envelope)
    await transport.close()
    connection = await aio_pika.connect(vhost)
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(TOPO.queue_in, passive=True)
        message = await queue.get(no_ack=True)
    finally:
        await connection.close()
    assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT  # survives a broker restart
    assert (message.message_id, message.correlation_id, message.type) == ("m-1", "corr-1", "order")
    assert (message.content_type, message.routing_key, message.body) == ("application/json", "order.ACME", b"{}")
    headers = dict(message.headers)
    headers.pop("x-delivery-count", None)  # the quorum queue's own
    assert headers == {"x-b2b-partner": "ACME", "attempt": 2}
