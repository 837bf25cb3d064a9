"""Garbage-collector pauses of a serving gateway, timed through :data:`gc.callbacks`.

A collection stops everything the process does: every document in flight waits for it. The callback
only counts (collections and the longest pause per generation) and keeps the pauses of ``slow_ms`` or
longer; :meth:`GcWatch.report` logs those as ``gc.pause`` (generation, milliseconds, objects freed),
from the event loop, so that a latency spike in the logs can be told apart from the store or the
broker. Nothing that takes a lock runs inside the collector's callback (a lock held by the code the
collection interrupted would never be released). Settings: ``process.gc_log_ms``, ``process.gc_thresholds``.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections import deque
from typing import Any

from b2b_gateway.observability.logging import get_logger

__all__ = ["GcWatch"]

log = get_logger("b2b_gateway.gc")


class GcWatch:
    """Times every collection while installed (:meth:`install`, :meth:`remove`)."""

    def __init__(self, slow_ms: float) -> None:
        self.slow_ms = slow_ms
        self.count = [0, 0, 0]
        """Collections per generation since installed."""
        self.longest_ms = [0.0, 0.0, 0.0]
        self.slow = 0
        """Pauses of ``slow_ms`` or longer."""
        self._pending: deque[tuple[int, float, int]] = deque(maxlen=100)
        self._started = 0.0

    def install(self) -> None:
        if self._callback not in gc.callbacks:
            gc.callbacks.append(self._callback)

    def remove(self) -> None:
        if self._callback in gc.callbacks:
            gc.callbacks.remove(self._callback)
        self.report()

    def report(self) -> int:
        """Log the slow pauses seen since the last report; returns how many."""
        n = 0
        while self._pending:
            generation, ms, collected = self._pending.popleft()
            log.info("gc.pause", generation=generation, ms=round(ms, 1), collected=collected)
            n += 1
        return n

    async def run(self, interval_s: float = 1.0) -> None:
        """Report every ``interval_s`` until cancelled."""
        while True:
            await asyncio.sleep(interval_s)
            self.report()

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        ms = (time.perf_counter() - self._started) * 1000
        generation = int(info.get("generation", 2))
        self.count[generation] += 1
        if ms > self.longest_ms[generation]:
            self.longest_ms[generation] = ms
        if ms >= self.slow_ms:
            self.slow += 1
            self._pending.append((generation, ms, int(info.get("collected", 0))))
