"""Queue transports share one shape: topology, confirmed publishes, acks scoped like ``message.process()``,
delayed retries, dead letters with the reason. Checked on the in-memory twin, the embedded queue and RabbitMQ."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aio_pika
import pytest

from b2b_gateway.errors import BrokerTopologyError, BrokerUnavailableError, DeliveryError, StoreUnavailableError
from b2b_gateway.settings import AmqpSettings
from b2b_gateway.store import MessageRepository, SqlQueue
from b2b_gateway.transport import Delivery, Envelope, Headers, Topology, Transport
from b2b_gateway.transport.amqp import AmqpTransport, display_url
from b2b_gateway.transport.embedded import EmbeddedTransport
from b2b_gateway.transport.memory import MemoryTransport
from b2b_gateway.transport.topology import topic_matches
from tests.delivery.conftest import settings_for

TOPO = Topology(retry_delays_ms=(50, 100), max_attempts=3)


@pytest.mark.parametrize(
    ("pattern", "key", "ok"),
    [
        ("#", "order.ACME", True),
        ("order.*", "order.ACME", True),
        ("order.*", "order.ACME.x", False),
        ("*.ACME", "invoice.ACME", True),
        ("order.#", "order", True),
        ("a.#.z", "a.b.c.z", True),
        ("invoice.*", "order.ACME", False),
    ],
)
def test_topic_matching(pattern: str, key: str, ok: bool) -> None:
    assert topic_matches(pattern, key) is ok


def test_topology_routes_like_the_broker() -> None:
    t = Topology()
    assert t.queues_for("b2b.in", "anything") == ["b2b.in.gateway"]
    assert t.queues_for("b2b.erp", "order.ACME") == ["b2b.erp"]
    assert t.queues_for("b2b.in.gateway.dlx", "") == ["b2b.in.gateway.dead"]
    assert t.queues_for("", "some.queue") == ["some.queue"]
    assert "b2b.in.gateway.retry.1" in t.all_queues()


def test_urls_lose_their_password_in_messages() -> None:
    assert display_url("amqp://user:secret@host:5671/vh") == "amqp://user:***@host:5671/vh"


@pytest.fixture(params=["memory", "embedded", "amqp"])
async def transport(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Transport]:
    if request.param == "memory":
        t: Any = MemoryTransport(TOPO)
        yield t
        await t.close()
        return
    if request.param == "embedded":
        repo = await MessageRepository.open(settings_for(tmp_path))
        t = EmbeddedTransport(SqlQueue(repo.db, repo.writer), TOPO, poll_s=0.05)
        await t.start()
        yield t
        await t.close()
        await repo.close()
        return
    url = request.getfixturevalue("vhost")
    t = AmqpTransport(AmqpSettings(url=url), TOPO)
    await t.start()
    yield t
    await t.close()


async def _consume(transport: Transport, queue: str, body: Callable[[Delivery], Any], n: int) -> list[Delivery]:
    seen: list[Delivery] = []
    done = asyncio.Event()

    async def handler(delivery: Delivery) -> None:
        seen.append(delivery)
        if len(seen) >= n:
            done.set()
        async with delivery.process():
            await body(delivery)

    await transport.consume(queue, handler, prefetch=10)
    await asyncio.wait_for(done.wait(), timeout=60)
    return seen


async def test_publish_consume_ack(transport: Transport) -> None:
    for i in range(5):
        await transport.publish(TOPO.exchange_in, Envelope(f"doc {i}".encode(), f"m{i}", "order.ACME", {"h": i}))

    async def ok(d: Delivery) -> None:
        return None

    seen = await _consume(transport, TOPO.queue_in, ok, 5)
    assert sorted(d.envelope.body for d in seen) == [f"doc {i}".encode() for i in range(5)]
    assert {d.envelope.message_id for d in seen} == {f"m{i}" for i in range(5)}
    assert all(d.settled and not d.redelivered for d in seen)


async def test_transient_errors_are_retried_with_delay_then_dead_lettered(transport: Transport) -> None:
    await transport.publish(TOPO.exchange_in, Envelope(b"flaky", "m-flaky", "order.ACME"))

    async def fail(d: Delivery) -> None:
        raise StoreUnavailableError("not now")

    seen = await _consume(transport, TOPO.queue_in, fail, 3)
    assert [d.attempt for d in seen] == [0, 1, 2]
    await transport.stop_consuming()

    async def dead(d: Delivery) -> None:
        return None

    (corpse,) = await _consume(transport, TOPO.dead_queue_of(TOPO.queue_in), dead, 1)
    assert corpse.envelope.body == b"flaky"
    assert "gave up after 3 attempt(s)" in corpse.envelope.headers[Headers.REASON]


async def test_other_errors_dead_letter_at_once_with_the_reason(transport: Transport) -> None:
    await transport.publish(TOPO.exchange_out, Envelope(b"poison", "m-poison", "order.ACME"))

    async def crash(d: Delivery) -> None:
        raise ValueError("cannot handle this")

    await _consume(transport, TOPO.queue_out, crash, 1)
    await transport.stop_consuming()

    async def dead(d: Delivery) -> None:
        return None

    (corpse,) = await _consume(transport, TOPO.dead_queue_of(TOPO.queue_out), dead, 1)
    assert "ValueError: cannot handle this" in corpse.envelope.headers[Headers.REASON]
    assert corpse.envelope.headers[Headers.DEAD_FROM] == TOPO.queue_out


async def test_cancelled_processing_gives_the_message_back(transport: Transport) -> None:
    await transport.publish(TOPO.exchange_in, Envelope(b"again", "m-again", "k"))

    async def interrupted(d: Delivery) -> None:
        if not d.redelivered:
            raise asyncio.CancelledError  # as when the gateway stops mid-way

    seen = await _consume(transport, TOPO.queue_in, interrupted, 2)
    assert [d.envelope.body for d in seen] == [b"again", b"again"]
    assert [d.redelivered for d in seen] == [False, True]


async def test_amqp_topology_is_quorum_with_dead_letter_exchanges(vhost: str) -> None:
    t = AmqpTransport(AmqpSettings(url=vhost), TOPO)
    await t.start()
    await t.close()
    connection = await aio_pika.connect(vhost)
    channel = await connection.channel()
    with pytest.raises(aio_pika.exceptions.ChannelClosed):  # a classic queue of the same name conflicts
        await channel.declare_queue(TOPO.queue_in, durable=True)
    await connection.close()


async def test_amqp_conflicting_topology_is_a_configuration_error(vhost: str) -> None:
    connection = await aio_pika.connect(vhost)
    channel = await connection.channel()
    await channel.declare_queue(TOPO.queue_in, durable=True)  # classic, not quorum
    await connection.close()
    t = AmqpTransport(AmqpSettings(url=vhost), TOPO)
    with pytest.raises(BrokerTopologyError):
        await t.start()


async def test_amqp_unroutable_publish_is_an_error_and_no_broker_is_unavailable(vhost: str) -> None:
    t = AmqpTransport(AmqpSettings(url=vhost), Topology(queue_erp=None))
    await t.start()
    try:
        with pytest.raises(DeliveryError):
            await t.publish("b2b.erp", Envelope(b"x", "m", "order.ACME"))
    finally:
        await t.close()
    dead = AmqpTransport(AmqpSettings(url="amqp://guest:guest@127.0.0.1:1/"), TOPO)
    with pytest.raises(BrokerUnavailableError):
        await dead.start()


async def test_amqp_publishing_to_a_missing_exchange_fails_without_harm(vhost: str) -> None:
    t = AmqpTransport(AmqpSettings(url=vhost), TOPO)
    await t.start()
    assert t.connected
    try:
        with pytest.raises(DeliveryError, match=r"no exchange 'partner\.nowhere'"):
            await t.publish("partner.nowhere", Envelope(b"x", "m1", "k"))
        await t.publish(TOPO.exchange_erp, Envelope(b"still fine", "m2", "order.ACME"))  # the channel survived
    finally:
        await t.close()


async def test_the_embedded_queue_stops_consuming_when_a_message_arrives_as_it_stops(tmp_path: Path) -> None:
    """A publish waking the consumer loop in the very tick it is cancelled must not keep the loop running
    (``asyncio.wait_for`` on Python 3.11 swallowed such a cancellation: ``stop_consuming`` never returned)."""
    repo = await MessageRepository.open(settings_for(tmp_path))
    try:
        for round_ in range(40):
            t = EmbeddedTransport(SqlQueue(repo.db, repo.writer), TOPO, poll_s=5.0)

            async def ignore(delivery: Delivery) -> None:
                async with delivery.process():
                    return None

            await t.consume("b2b.erp", ignore, prefetch=1)
            for _ in range(30):  # the loop's first claim (through the store) done: it waits for a wake-up
                await asyncio.sleep(0.002)
            t._wake["b2b.erp"].set()
            for _ in range(round_ % 4):
                await asyncio.sleep(0)
            stopping = asyncio.create_task(t.stop_consuming())
            done, _ = await asyncio.wait([stopping], timeout=5)
            assert done, f"stop_consuming did not return (round {round_})"
            await t.close()
    finally:
        await repo.close()
