"""Publishing documents to the gateway and receiving what comes out, timing each document end to end."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection

from bench.documents import Doc
from bench.infra import DEADLINE_S, BenchError

WINDOW = 500
"""Unconfirmed publishes in flight at most (as the relay baseline)."""


@dataclass
class Sink:
    """Consumes one queue; records when each document (by key) arrived and what did not belong."""

    url: str
    queue: str
    key_of: Callable[[AbstractIncomingMessage], str]
    arrived: dict[str, float] = field(default_factory=dict)
    routing_keys: dict[str, int] = field(default_factory=dict)
    connection: AbstractRobustConnection | None = None
    _waiting: set[str] = field(default_factory=set)
    _done: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> Sink:
        self.connection = await aio_pika.connect_robust(self.url)
        channel = await self.connection.channel()
        await channel.set_qos(prefetch_count=500)
        queue = await channel.get_queue(self.queue)
        await queue.consume(self._on_message)
        return self

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        now = time.perf_counter()
        key = self.key_of(message)
        self.arrived.setdefault(key, now)
        rk = message.routing_key or ""
        self.routing_keys[rk] = self.routing_keys.get(rk, 0) + 1
        await message.ack()
        self._waiting.discard(key)
        if not self._waiting:
            self._done.set()

    def expect(self, keys: list[str]) -> None:
        self._waiting = {k for k in keys if k not in self.arrived}
        self._done = asyncio.Event()
        if not self._waiting:
            self._done.set()

    async def wait(self, check: Callable[[], Awaitable[None]], *, limit_s: float = DEADLINE_S) -> None:
        """Wait until every expected key arrived; ``check`` raises when something broke meanwhile."""
        end = time.monotonic() + limit_s
        while not self._done.is_set():
            await check()
            if time.monotonic() > end:
                raise BenchError(f"{len(self._waiting)} document(s) never reached {self.queue}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._done.wait(), timeout=1.0)

    async def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):
                await self.connection.close()


@dataclass(frozen=True)
class Timing:
    """A run of documents: when each was published and arrived."""

    sent: dict[str, float]
    arrived: dict[str, float]

    @property
    def seconds(self) -> float:
        return max(self.arrived[k] for k in self.sent) - min(self.sent.values())

    @property
    def rate(self) -> float:
        return len(self.sent) / self.seconds

    @property
    def latencies_ms(self) -> list[float]:
        return sorted((self.arrived[k] - t) * 1000 for k, t in self.sent.items())


def percentile(data: list[float], p: float) -> float:
    """The ``p`` quantile (0..1) of sorted ``data`` (nearest rank)."""
    ordered = sorted(data)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else 0.0


async def send(
    url: str,
    exchange: str,
    docs: list[Doc],
    sink: Sink,
    check: Callable[[], Awaitable[None]],
    *,
    rate: float | None = None,
) -> Timing:
    """Publish ``docs`` (with confirms, persistent) in a burst, or paced at ``rate`` per second; wait for all."""
    sink.expect([d.key for d in docs])
    sent: dict[str, float] = {}
    connection = await aio_pika.connect_robust(url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        target = await channel.get_exchange(exchange)
        window = asyncio.Semaphore(WINDOW)
        headers: dict[str, Any] = {"x-b2b-partner": "MOCKEDI"} if exchange.endswith("out") else {}

        async def one(doc: Doc) -> None:
            async with window:
                sent[doc.key] = time.perf_counter()
                await target.publish(
                    aio_pika.Message(doc.body, message_id=doc.key, delivery_mode=2, headers=headers),
                    routing_key="bench",
                )

        if rate is None:
            await asyncio.gather(*(one(d) for d in docs))
        else:
            start, tasks = time.perf_counter(), []
            for i, doc in enumerate(docs):
                delay = start + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(doc)))
            await asyncio.gather(*tasks)
        await sink.wait(check)
    finally:
        with contextlib.suppress(Exception):
            await connection.close()
    return Timing(sent, {k: sink.arrived[k] for k in sent})


async def declare_partner_queue(url: str, exchange: str, queue: str) -> None:
    """The partner side of the outbound case: an exchange the gateway's ``amqp`` channel publishes to."""
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel()
        ex = await channel.declare_exchange(exchange, aio_pika.ExchangeType.TOPIC, durable=True)
        q = await channel.declare_queue(queue, durable=True, arguments={"x-queue-type": "quorum"})
        await q.bind(ex, "#")
    finally:
        await connection.close()
