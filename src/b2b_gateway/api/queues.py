"""Queue depths for operations: the embedded queue's table, or RabbitMQ's queues (passive declares).

A queue whose name ends in ``.dead`` (the topology's dead-letter queues, and ``b2b.dead``), ``.dlq``
or ``.dead-letter`` is shown as a dead-letter queue.
"""

from __future__ import annotations

from collections.abc import Sequence

import aio_pika
from aio_pika.exceptions import AMQPError
from sqlalchemy import func, select

from b2b_gateway.api.ports import QueueDepth
from b2b_gateway.errors import BrokerUnavailableError
from b2b_gateway.store.repository import MessageRepository
from b2b_gateway.store.schema import queue_messages

__all__ = ["EmbeddedQueues", "RabbitQueues", "is_dead_letter_queue"]

_DEAD_SUFFIXES = (".dlq", ".dead", ".dead-letter", ".dlx")


def is_dead_letter_queue(name: str) -> bool:
    return name.endswith(_DEAD_SUFFIXES)


class EmbeddedQueues:
    """The embedded durable queue (no broker): depths from its table in the store."""

    def __init__(self, repo: MessageRepository) -> None:
        self.repo = repo

    async def depths(self) -> list[QueueDepth]:
        async with self.repo.db.connect() as conn:
            rows = (
                await conn.execute(
                    select(queue_messages.c.queue, func.count()).group_by(queue_messages.c.queue).order_by("queue")
                )
            ).all()
        return [QueueDepth(str(q), int(n), dead_letter=is_dead_letter_queue(str(q))) for q, n in rows]

    async def ping(self) -> None:
        """The embedded queue lives in the store: usable when the store is."""
        async with self.repo.db.connect() as conn:
            await conn.execute(select(1))


class RabbitQueues:
    """RabbitMQ's queues, read with passive declares over one short-lived connection per call.

    Args:
        url: the AMQP URL (never logged).
        queues: the queue names to report.
        timeout_s: connect timeout.
    """

    def __init__(self, url: str, queues: Sequence[str], *, timeout_s: float = 5.0) -> None:
        self._url = url
        self.queues = list(queues)
        self._timeout = timeout_s

    async def depths(self) -> list[QueueDepth]:
        out: list[QueueDepth] = []
        try:
            connection = await aio_pika.connect(self._url, timeout=self._timeout)
        except (AMQPError, OSError, TimeoutError) as exc:
            raise BrokerUnavailableError(f"cannot reach the broker: {type(exc).__name__}") from None
        async with connection:
            for name in self.queues:
                channel = await connection.channel()
                try:
                    queue = await channel.declare_queue(name, passive=True)
                except AMQPError:
                    continue  # not declared (yet): nothing to report
                result = queue.declaration_result
                out.append(
                    QueueDepth(
                        name,
                        result.message_count or 0,
                        result.consumer_count or 0,
                        dead_letter=is_dead_letter_queue(name),
                    )
                )
                await channel.close()
        return out

    async def ping(self) -> None:
        try:
            connection = await aio_pika.connect(self._url, timeout=self._timeout)
        except (AMQPError, OSError, TimeoutError) as exc:
            raise BrokerUnavailableError(f"cannot reach the broker: {type(exc).__name__}") from None
        await connection.close()
