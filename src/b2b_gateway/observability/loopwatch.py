"""Event-loop stalls of a serving gateway: how late a short timer fires.

Every document in flight shares one event loop: while one callback runs (a long synchronous call, a
big document's mapping, a collector pause), nothing else moves, neither the broker's confirms nor the
store's replies. :class:`LoopWatch` sleeps ``interval_s`` again and again and measures how late it
wakes; a wake-up ``slow_ms`` or more late is logged as ``loop.stall`` (milliseconds late, and the
time it happened), so that a latency spike can be told apart from a wait on the store or the broker
(those do not delay the loop). Settings: ``process.loop_stall_ms`` (0 turns the watch off).
"""

from __future__ import annotations

import asyncio

from b2b_gateway.observability.logging import get_logger

__all__ = ["LoopWatch"]

log = get_logger("b2b_gateway.loop")


class LoopWatch:
    """Measures the event loop's lateness with a repeating short sleep (:meth:`run`)."""

    def __init__(self, slow_ms: float, interval_s: float = 0.02) -> None:
        self.slow_ms = slow_ms
        self.interval_s = interval_s
        self.stalls = 0
        """Wake-ups ``slow_ms`` or more late."""
        self.longest_ms = 0.0

    def observe(self, late_ms: float) -> bool:
        """Count one wake-up ``late_ms`` late; whether it was a stall."""
        self.longest_ms = max(self.longest_ms, late_ms)
        if late_ms < self.slow_ms:
            return False
        self.stalls += 1
        return True

    async def run(self) -> None:
        """Watch until cancelled."""
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + self.interval_s
            await asyncio.sleep(self.interval_s)
            late_ms = (loop.time() - due) * 1000
            if self.observe(late_ms):
                log.info("loop.stall", ms=round(late_ms, 1))
