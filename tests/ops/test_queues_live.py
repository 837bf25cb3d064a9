"""Queue depths from the real RabbitMQ broker (127.0.0.1:5672) and from the embedded queue in the store."""

from __future__ import annotations

import os

import aio_pika
import pytest

from b2b_gateway.api.queues import RabbitQueues
from b2b_gateway.errors import BrokerUnavailableError

URL = "amqp://guest:guest@127.0.0.1:5672/"

pytestmark = pytest.mark.rabbit


async def test_depths_from_rabbitmq() -> None:
    name = f"b2b.ops.test.{os.urandom(4).hex()}"
    connection = await aio_pika.connect(URL)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        queue = await channel.declare_queue(name, auto_delete=False)
        dead = await channel.declare_queue(f"{name}.dead", auto_delete=False)
        for i in range(3):
            await channel.default_exchange.publish(aio_pika.Message(body=str(i).encode()), routing_key=name)
        await channel.default_exchange.publish(aio_pika.Message(body=b"x"), routing_key=f"{name}.dead")
        try:
            monitor = RabbitQueues(URL, [name, f"{name}.dead", f"{name}.never-declared"])
            await monitor.ping()
            depths = {d.name: d for d in await monitor.depths()}
            assert set(depths) == {name, f"{name}.dead"}
            assert depths[name].messages == 3 and not depths[name].dead_letter
            assert depths[f"{name}.dead"].messages == 1 and depths[f"{name}.dead"].dead_letter
        finally:
            await queue.delete(if_unused=False, if_empty=False)
            await dead.delete(if_unused=False, if_empty=False)


async def test_an_unreachable_broker_is_reported() -> None:
    monitor = RabbitQueues("amqp://guest:guest@127.0.0.1:1/", ["x"], timeout_s=2)
    with pytest.raises(BrokerUnavailableError):
        await monitor.ping()
    with pytest.raises(BrokerUnavailableError):
        await monitor.depths()
