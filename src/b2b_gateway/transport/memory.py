"""The in-memory twin of the queue transports: same topology, same delivery semantics, nothing kept.

For tests and for wiring checks. ``published`` records every confirmed publish per exchange; dead
letters land in the ``<queue>.dead`` queue like on RabbitMQ.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import defaultdict

from b2b_gateway.transport.base import Delivery, Envelope, Handler, Headers, QueueDepth, cancel_consumers
from b2b_gateway.transport.topology import Topology

__all__ = ["MemoryDelivery", "MemoryTransport"]


class MemoryDelivery(Delivery):
    def __init__(self, transport: MemoryTransport, envelope: Envelope, queue: str, redelivered: bool) -> None:
        topo = transport.topology
        super().__init__(envelope, queue, max_attempts=topo.max_attempts, delays_s=transport.delays_s)
        self._transport = transport
        self._redelivered = redelivered

    @property
    def redelivered(self) -> bool:
        return self._redelivered

    async def _ack(self) -> None:
        self._transport.acked.append(self.envelope)

    async def _retry(self, delay_s: float, index: int) -> None:
        headers = {**self.envelope.headers, Headers.ATTEMPT: index + 1}
        again = dataclasses.replace(self.envelope, headers=headers)
        loop = asyncio.get_running_loop()
        loop.call_later(delay_s, self._transport.enqueue, self.queue, again, False)

    async def _dead_letter(self, reason: str) -> None:
        headers = {**self.envelope.headers, Headers.REASON: reason, Headers.DEAD_FROM: self.queue}
        self._transport.enqueue(Topology.dead_queue_of(self.queue), dataclasses.replace(self.envelope, headers=headers))

    async def _release(self) -> None:
        self._transport.enqueue(self.queue, self.envelope, True)


class MemoryTransport:
    """Queues in asyncio; exchanges routed by the topology's bindings."""

    name = "memory"

    def __init__(self, topology: Topology | None = None, *, delays_s: tuple[float, ...] | None = None) -> None:
        self.topology = topology or Topology()
        self.delays_s = delays_s if delays_s is not None else self.topology.delays_s
        self.queues: dict[str, asyncio.Queue[tuple[Envelope, bool]]] = defaultdict(asyncio.Queue)
        self.published: dict[str, list[Envelope]] = defaultdict(list)
        self.acked: list[Envelope] = []
        self._consumers: list[asyncio.Task[None]] = []
        self._inflight: set[asyncio.Task[None]] = set()
        self.fail_publishes = 0
        """Make the next N publishes fail (to test callers' retries)."""

    async def start(self) -> None:
        return None

    def enqueue(self, queue: str, envelope: Envelope, redelivered: bool = False) -> None:
        self.queues[queue].put_nowait((envelope, redelivered))

    async def publish(self, exchange: str, envelope: Envelope) -> None:
        if self.fail_publishes > 0:
            self.fail_publishes -= 1
            from b2b_gateway.errors import BrokerUnavailableError

            raise BrokerUnavailableError("memory transport told to fail this publish")
        self.published[exchange].append(envelope)
        for queue in self.topology.queues_for(exchange, envelope.routing_key):
            self.enqueue(queue, envelope)

    async def consume(self, queue: str, handler: Handler, *, prefetch: int) -> None:
        slots = asyncio.Semaphore(max(1, prefetch))

        async def run_one(delivery: MemoryDelivery) -> None:
            try:
                await handler(delivery)
            finally:
                slots.release()

        async def loop() -> None:
            source = self.queues[queue]
            while True:
                await slots.acquire()
                envelope, redelivered = await source.get()
                task = asyncio.create_task(run_one(MemoryDelivery(self, envelope, queue, redelivered)))
                self._inflight.add(task)
                task.add_done_callback(self._inflight.discard)

        self._consumers.append(asyncio.create_task(loop()))

    async def stop_consuming(self) -> None:
        await cancel_consumers(self._consumers, list(self._inflight))

    async def close(self) -> None:
        await self.stop_consuming()

    async def depths(self) -> list[QueueDepth]:
        return [QueueDepth(queue=name, ready=q.qsize()) for name, q in sorted(self.queues.items())]
