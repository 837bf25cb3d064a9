"""The embedded queue: with no broker configured, a durable queue in the store serves the transport interface.

Same exchanges, bindings, retries with per-attempt delay and dead-letter queues as on RabbitMQ, kept as
rows in the store's database (the runtime hands in the store's :class:`~b2b_gateway.store.queue.SqlQueue`
as the backend). A publish is confirmed when its transaction commits. A consumer leases the messages it
works on; a message whose consumer died is taken again when the lease runs out. For one machine;
RabbitMQ is what a deployment uses.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Sequence
from typing import Any, Protocol

from b2b_gateway.errors import BrokerUnavailableError, GatewayError
from b2b_gateway.observability.logging import get_logger
from b2b_gateway.transport.base import Delivery, Envelope, Handler, Headers, QueueDepth, cancel_consumers
from b2b_gateway.transport.topology import Topology

__all__ = ["EmbeddedTransport", "QueueBackend", "StoredMessage"]

log = get_logger("b2b_gateway.transport.embedded")


class StoredMessage(Protocol):
    """A queued message as the backend returns it."""

    id: int
    queue: str
    message_id: str
    exchange: str
    routing_key: str
    content_type: str
    headers: dict[str, Any]
    body: bytes
    attempts: int


class QueueBackend(Protocol):
    """Durable queue storage (implemented by the store)."""

    async def put(self, rows: Sequence[dict[str, Any]]) -> None: ...

    async def claim(self, queue: str, *, owner: str, limit: int, lease_s: float) -> Sequence[StoredMessage]: ...

    async def ack(self, row_id: int) -> None: ...

    async def release(self, row_id: int, *, delay_s: float, attempts: int, headers: dict[str, Any]) -> None: ...

    async def move(self, row_id: int, *, queue: str, headers: dict[str, Any]) -> None: ...

    async def extend(self, row_ids: Sequence[int], *, owner: str, lease_s: float) -> None: ...

    async def depths(self) -> dict[str, tuple[int, int]]: ...


class EmbeddedDelivery(Delivery):
    def __init__(self, transport: EmbeddedTransport, row: StoredMessage) -> None:
        env = Envelope(
            body=bytes(row.body),
            message_id=row.message_id,
            routing_key=row.routing_key,
            headers=dict(row.headers or {}),
            content_type=row.content_type,
        )
        topo = transport.topology
        super().__init__(env, row.queue, max_attempts=topo.max_attempts, delays_s=transport.delays_s)
        self._t = transport
        self.row = row

    @property
    def redelivered(self) -> bool:
        return self.row.attempts > self.attempt

    async def _ack(self) -> None:
        await self._t.backend.ack(self.row.id)

    async def _retry(self, delay_s: float, index: int) -> None:
        headers = {**self.envelope.headers, Headers.ATTEMPT: index + 1}
        await self._t.backend.release(self.row.id, delay_s=delay_s, attempts=index + 1, headers=headers)

    async def _dead_letter(self, reason: str) -> None:
        headers = {**self.envelope.headers, Headers.REASON: reason, Headers.DEAD_FROM: self.queue}
        await self._t.backend.move(self.row.id, queue=Topology.dead_queue_of(self.queue), headers=headers)

    async def _release(self) -> None:
        await self._t.backend.release(
            self.row.id, delay_s=0, attempts=self.row.attempts + 1, headers=self.envelope.headers
        )


class EmbeddedTransport:
    """The queue transport over the store's queue table."""

    name = "embedded"

    def __init__(
        self,
        backend: QueueBackend,
        topology: Topology | None = None,
        *,
        poll_s: float = 0.5,
        lease_s: float = 60.0,
        delays_s: tuple[float, ...] | None = None,
    ) -> None:
        self.backend = backend
        self.topology = topology or Topology()
        self.delays_s = delays_s if delays_s is not None else self.topology.delays_s
        self.poll_s = poll_s
        self.lease_s = lease_s
        self.owner = f"{os.getpid()}-{id(self):x}"
        self._wake: dict[str, asyncio.Event] = {}
        self._consumers: list[asyncio.Task[None]] = []
        self._inflight: dict[int, asyncio.Task[None]] = {}
        self._keeper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        return None

    async def publish(self, exchange: str, envelope: Envelope) -> None:
        queues = self.topology.queues_for(exchange, envelope.routing_key)
        if not queues:
            raise BrokerUnavailableError(f"no queue is bound to {exchange!r} for {envelope.routing_key!r}")
        rows = [
            {
                "queue": queue,
                "message_id": envelope.message_id,
                "exchange": exchange,
                "routing_key": envelope.routing_key,
                "content_type": envelope.content_type,
                "headers": dict(envelope.headers),
                "body": envelope.body,
            }
            for queue in queues
        ]
        await self.backend.put(rows)
        for queue in queues:
            event = self._wake.get(queue)
            if event is not None:
                event.set()

    async def consume(self, queue: str, handler: Handler, *, prefetch: int) -> None:
        wake = self._wake.setdefault(queue, asyncio.Event())
        self._consumers.append(asyncio.create_task(self._loop(queue, handler, max(1, prefetch), wake)))
        if self._keeper is None:
            self._keeper = asyncio.create_task(self._keep_leases())

    async def _loop(self, queue: str, handler: Handler, prefetch: int, wake: asyncio.Event) -> None:
        active: dict[int, asyncio.Task[None]] = {}
        backoff = self.poll_s
        while True:
            wake.clear()
            free = prefetch - len(active)
            rows: Sequence[StoredMessage] = []
            if free > 0:
                try:
                    rows = await self.backend.claim(queue, owner=self.owner, limit=free, lease_s=self.lease_s)
                    backoff = self.poll_s
                except GatewayError as exc:
                    log.warning("queue.unavailable", queue=queue, error=exc.message, retryable=exc.retryable)
                    backoff = min(backoff * 2, 10.0)
            for row in rows:
                task = asyncio.create_task(self._run(handler, EmbeddedDelivery(self, row), active, wake))
                active[row.id] = task
                self._inflight[row.id] = task
            if rows and len(rows) >= free:
                continue
            # asyncio.timeout, not wait_for: on Python 3.11, wait_for swallows a cancellation that comes as
            # the event is set (a publish at the moment of stop_consuming), and this loop would never end
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(backoff):
                    await wake.wait()

    async def _run(
        self, handler: Handler, delivery: EmbeddedDelivery, active: dict[int, asyncio.Task[None]], wake: asyncio.Event
    ) -> None:
        try:
            await handler(delivery)
        finally:
            active.pop(delivery.row.id, None)
            self._inflight.pop(delivery.row.id, None)
            wake.set()

    async def _keep_leases(self) -> None:
        while True:
            await asyncio.sleep(self.lease_s / 3)
            ids = list(self._inflight)
            with contextlib.suppress(GatewayError):
                await self.backend.extend(ids, owner=self.owner, lease_s=self.lease_s)

    async def idle(self, queue: str) -> bool:
        """Whether ``queue`` has nothing ready and nothing in flight in this process."""
        depths = await self.backend.depths()
        ready, leased = depths.get(queue, (0, 0))
        return ready == 0 and leased == 0 and not self._inflight

    async def stop_consuming(self) -> None:
        await cancel_consumers(self._consumers, list(self._inflight.values()))
        if self._keeper is not None:
            self._keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keeper
            self._keeper = None

    async def close(self) -> None:
        await self.stop_consuming()

    async def depths(self) -> list[QueueDepth]:
        counts = await self.backend.depths()
        names = [q for q in self.topology.all_queues() if ".retry." not in q]
        names += [q for q in counts if q not in names]
        return [QueueDepth(queue=q, ready=counts.get(q, (0, 0))[0], unacked=counts.get(q, (0, 0))[1]) for q in names]
