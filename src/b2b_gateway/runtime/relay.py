"""The outbox relay: delivers what the pipeline put in the outbox, retrying until delivered or dead-lettered.

Entries reach the relay two ways: handed over right after the commit that wrote them (already leased to
this process; at most ``delivery.max_pending`` wait in memory, beyond that the pipeline waits for room,
so a relay that falls behind slows intake instead of holding every pending payload), and by polling
for entries that are due (a retry's time came, or the process that held them died and their lease ran
out). For each entry the relay resolves the endpoint, asks the endpoint's
circuit breaker, and calls the sender registered for the endpoint's kind:

* delivered → the entry is done (the message is ``delivered`` once all its documents are);
* a transient failure → tried again after an exponential backoff with jitter, until the partner's
  ``retry.max_attempts`` (or the delivery defaults) is reached, then dead-lettered with the reason;
* a refusal (``DeliveryRefusedError`` and other non-transient errors) → dead-lettered at once;
* an open breaker → put off until the breaker lets a probe through (not counted as an attempt).

Every attempt is an audit event on the message. Dead letters also go to the ``b2b.dead`` exchange.

A handed-over entry that waited here longer than its lease is left to polling (a claim elsewhere may
be trying it already). An attempt still in flight when its lease ran out is counted and audited, but
acts on the entry only if it delivered it (:func:`b2b_gateway.store.outbox.apply_outcome`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections import deque
from collections.abc import Awaitable, Callable

from b2b_gateway.errors import GatewayError, TransientError
from b2b_gateway.observability.logging import get_logger
from b2b_gateway.pipeline.message import utcnow
from b2b_gateway.runtime.delivery import (
    CircuitBreaker,
    EndpointResolver,
    SenderRegistry,
    backoff_delay,
    request_for,
)
from b2b_gateway.settings import DeliverySettings
from b2b_gateway.store.outbox import AttemptOutcome, OutboxItem
from b2b_gateway.store.repository import MessageRepository
from b2b_gateway.transport.base import Endpoint

__all__ = ["DeadLetterHook", "OutboxRelay"]

log = get_logger("b2b_gateway.relay")

DeadLetterHook = Callable[[OutboxItem, str], Awaitable[None]]


class OutboxRelay:
    """Delivers outbox entries with retries, backoff, circuit breakers and dead-lettering."""

    def __init__(
        self,
        repo: MessageRepository,
        resolver: EndpointResolver,
        senders: SenderRegistry,
        settings: DeliverySettings,
        *,
        owner: str,
        dead_letter: DeadLetterHook | None = None,
    ) -> None:
        self.repo = repo
        self.resolver = resolver
        self.senders = senders
        self.settings = settings
        self.owner = owner
        self.dead_letter = dead_letter
        self.breakers: dict[str, CircuitBreaker] = {}
        self.observers: list[Callable[[AttemptOutcome], None]] = []
        """Called with each recorded attempt's outcome (metrics, alerts)."""
        self._ready: asyncio.Queue[OutboxItem] | None = None
        self._inflight: set[asyncio.Task[None]] = set()
        self._slots: asyncio.Semaphore | None = None
        self._closed: asyncio.Event | None = None
        self._waiting: deque[asyncio.Future[None]] = deque()
        """Pipelines waiting for room, longest first: each entry taken wakes one (closing wakes them all)."""
        self.attempts = 0

    def _queue(self) -> asyncio.Queue[OutboxItem]:
        if self._ready is None:
            self._ready = asyncio.Queue(maxsize=self.settings.max_pending)
            self._slots = asyncio.Semaphore(max(1, self.settings.concurrency))
            self._closed = asyncio.Event()
        return self._ready

    def _take(self, queue: asyncio.Queue[OutboxItem]) -> OutboxItem:
        """The next waiting entry (the queue is not empty); a pipeline waiting for room may go on."""
        item = queue.get_nowait()
        self._make_room()
        return item

    def _make_room(self) -> None:
        """An entry left the queue: the pipeline waiting longest for room may put one in."""
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def _wait_for_room(self) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._make_room()  # woken as it was cancelled: the room goes to the next one
            raise

    async def submit(self, items: list[OutboxItem]) -> None:
        """Hand over entries this process just wrote (and holds the lease on).

        Waits while ``delivery.max_pending`` entries are already waiting (backpressure on the pipeline).
        Once the relay is closed, entries are not taken: they stay in the store, leased to this process,
        and are claimed again by polling when the lease runs out (here or in another process).
        """
        queue = self._queue()
        assert self._closed is not None
        for item in items:
            while not self._closed.is_set() and queue.full():
                await self._wait_for_room()
            if self._closed.is_set():
                return
            queue.put_nowait(item)

    def close(self) -> None:
        """Take no more handed-over entries (a pipeline waiting for room goes on at once)."""
        self._queue()
        assert self._closed is not None
        self._closed.set()
        while self._waiting:  # every waiting pipeline, each sees the relay closed
            self._make_room()

    def breaker(self, endpoint: Endpoint) -> CircuitBreaker:
        found = self.breakers.get(endpoint.key)
        if found is None:
            found = CircuitBreaker(self.settings.breaker_threshold, self.settings.breaker_cooldown_s)
            self.breakers[endpoint.key] = found
        return found

    async def _start(self, item: OutboxItem) -> None:
        self._queue()
        assert self._slots is not None
        await self._slots.acquire()
        task = asyncio.create_task(self._attempt(item))
        self._inflight.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        if self._slots is not None:
            self._slots.release()

    async def _attempt(self, item: OutboxItem) -> None:
        if item.lease_until is not None and utcnow() >= item.lease_until:
            # it waited here longer than the lease: the entry may be claimed (and tried) by a poll already
            log.info("relay.lease_ran_out", outbox=item.id)
            return
        outcome = await self.attempt(item)
        try:
            await self.repo.apply_outcome(outcome)
        except GatewayError as exc:  # the lease runs out and the entry is tried again: nothing is lost
            log.warning("relay.record_failed", outbox=item.id, error=exc.message)
            return
        for observer in self.observers:
            observer(outcome)
        if outcome.verdict == "dead" and self.dead_letter is not None:
            try:
                await self.dead_letter(item, outcome.detail)
            except GatewayError as exc:
                log.warning("relay.dead_letter_publish_failed", outbox=item.id, error=exc.message)

    async def attempt(self, item: OutboxItem) -> AttemptOutcome:
        """Try one entry once and say what came of it (nothing is written here)."""
        endpoint: Endpoint | None = None
        try:
            endpoint = self.resolver.resolve(item.destination)
        except GatewayError as exc:
            return self._failed(item, None, exc, transient=True)
        breaker = self.breaker(endpoint)
        if not breaker.allow():
            later = utcnow() + dt.timedelta(seconds=breaker.retry_in())
            return AttemptOutcome(item, "deferred", "circuit open", endpoint.key, next_attempt_at=later)
        sender = self.senders.get(endpoint.kind)
        if sender is None:
            breaker.success()
            return self._failed(
                item, endpoint, GatewayError(f"no sender for {endpoint.kind} endpoints"), transient=True
            )
        self.attempts += 1
        try:
            receipt = await sender.send(request_for(item, endpoint))
        except TransientError as exc:
            breaker.failure()
            return self._failed(item, endpoint, exc, transient=True)
        except GatewayError as exc:
            breaker.success()  # the endpoint answered: it is up, it refuses this document
            return self._failed(item, endpoint, exc, transient=False)
        except Exception as exc:  # a sender bug must not lose the entry
            log.exception("relay.sender_crashed", outbox=item.id, kind=endpoint.kind)
            breaker.failure()
            return self._failed(item, endpoint, GatewayError(f"{type(exc).__name__}: {exc}"), transient=True)
        breaker.success()
        return AttemptOutcome(item, "delivered", receipt, endpoint.key)

    def _failed(
        self, item: OutboxItem, endpoint: Endpoint | None, error: GatewayError, *, transient: bool
    ) -> AttemptOutcome:
        policy = self.resolver.retry_policy(item, endpoint, self.settings)
        attempt = item.attempts + 1
        where = endpoint.key if endpoint else None
        detail = f"[{error.code}] {error.message}"
        if transient and attempt < policy.max_attempts:
            later = utcnow() + dt.timedelta(seconds=backoff_delay(attempt, policy))
            return AttemptOutcome(item, "retry", detail, where, error.code, error.to_dict(), next_attempt_at=later)
        log.warning("relay.dead_letter", outbox=item.id, destination=item.destination, attempts=attempt, error=detail)
        return AttemptOutcome(item, "dead", detail, where, error.code, error.to_dict())

    async def poll_once(self) -> int:
        """Claim due entries (up to the free capacity) and start them; returns how many."""
        free = max(0, self.settings.concurrency - len(self._inflight))
        if free == 0:
            return 0
        items = await self.repo.claim_due(
            owner=self.owner, limit=min(free, self.settings.batch_size), lease_s=self.settings.lease_s
        )
        for item in items:
            await self._start(item)
        return len(items)

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set: handed-over entries at once, due ones every poll interval."""
        queue = self._queue()
        next_poll = 0.0
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            if loop.time() >= next_poll:
                try:
                    await self.poll_once()
                except GatewayError as exc:
                    log.warning("relay.poll_failed", error=exc.message)
                next_poll = loop.time() + self.settings.poll_interval_s
            if queue.empty():  # wait for an entry, or until the next poll is due
                try:
                    item = await asyncio.wait_for(queue.get(), timeout=max(0.01, next_poll - loop.time()))
                except TimeoutError:
                    continue
                self._make_room()  # the entry that came may have filled the queue for another pipeline
            else:
                item = self._take(queue)  # no task and timer for an entry already waiting
            await self._start(item)
        self.close()
        await self.wait_idle()

    async def drain(self) -> None:
        """Deliver everything handed over or due now, and wait for it (``run --once``)."""
        queue = self._queue()
        while True:
            while not queue.empty():
                await self._start(self._take(queue))
            started = await self.poll_once()
            if not started and not self._inflight and queue.empty():
                return
            await self.wait_idle()

    async def wait_idle(self) -> None:
        while self._inflight:
            with contextlib.suppress(Exception):
                await asyncio.gather(*list(self._inflight), return_exceptions=True)

    @property
    def busy(self) -> bool:
        return bool(self._inflight) or (self._ready is not None and not self._ready.empty())
