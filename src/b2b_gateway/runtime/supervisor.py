"""Several gateway processes under one command: ``b2b-gateway run --workers N`` (``process.workers``).

One gateway process is bound to one core (Python runs one thread at a time); a second process on the
same queues and store adds 40-65% on two cores (docs/performance.md). The supervisor starts them and
keeps them running::

    supervisor              no store, no broker, no documents: starts, watches, restarts, stops
    ├── primary             ``run --role primary``: the queue consumers and the outbox relay, and what
    │                       must run once: HTTP (API, dashboard, AS2, metrics), the pickup directory,
    │                       retention, acknowledgment deadlines, alerts
    └── worker 1 … N-1      ``run --role worker``: the queue consumers and the outbox relay only

RabbitMQ spreads the queues' deliveries over every process's consumers; the store (PostgreSQL, or
SQLite with its write lock) is shared, and the outbox relays lease their entries, so a delivery is made
by one process. Each process acknowledges a queue message after its own store commit, as one process
does. The embedded queue lives in one process's store connection: workers need ``amqp.url``.

- The primary starts first (it migrates the store); the workers once it is ready.
- A process that exits is started again after 0.5 s, 1 s, 2 s … (``process.restart_max_s`` at most);
  a process that keeps exiting within :data:`MIN_UPTIME_S` of its start, :data:`GIVE_UP_AFTER` times in a
  row, stops them all (the supervisor exits 1: a setting or the store is wrong, and restarts would not help).
- SIGTERM or SIGINT to the supervisor: every process gets SIGTERM and ``process.stop_timeout_s`` to finish
  what it holds (what it has not acknowledged is redelivered by the broker), then SIGKILL.
- A process whose supervisor is gone (SIGKILL) stops by itself (``--parent``).
- The counters and histograms of ``/metrics`` are summed over the processes (see
  :mod:`b2b_gateway.observability.metrics`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from prometheus_client.multiprocess import mark_process_dead

from b2b_gateway.observability.logging import get_logger
from b2b_gateway.observability.metrics import MULTIPROCESS_ENV

__all__ = ["GIVE_UP_AFTER", "MIN_UPTIME_S", "Slot", "Supervisor", "restart_delay", "watch_parent"]

log = get_logger("b2b_gateway.supervisor")

MIN_UPTIME_S = 10.0
"""A process that exits sooner than this after its start failed to start."""
GIVE_UP_AFTER = 5
"""Failed starts in a row of one process after which the supervisor stops everything."""


@dataclass(frozen=True, slots=True)
class Slot:
    """One place for a process: the primary (index 0) or a worker (1 …)."""

    role: Literal["primary", "worker"]
    index: int = 0

    @property
    def name(self) -> str:
        return "primary" if self.role == "primary" else f"worker-{self.index}"


def restart_delay(failures: int, longest: float) -> float:
    """Seconds to wait before starting again a process that exited ``failures`` times in a row."""
    return float(min(longest, 0.5 * 2 ** max(failures - 1, 0)))


Command = Callable[[Slot, Path], list[str]]
"""The command line of a process for a slot, given the file it creates once it is ready."""


@dataclass
class _Running:
    process: asyncio.subprocess.Process
    started: float
    ready: Path


@dataclass
class Supervisor:
    """Runs ``workers`` gateway processes (one primary, the others workers) until told to stop."""

    command: Command
    workers: int
    stop_timeout_s: float = 30.0
    restart_max_s: float = 30.0
    env: Mapping[str, str] | None = None
    """The processes' environment (this process's by default), plus :data:`MULTIPROCESS_ENV`."""
    min_uptime_s: float = MIN_UPTIME_S
    give_up_after: int = GIVE_UP_AFTER
    running: dict[Slot, _Running] = field(default_factory=dict)
    """The live processes by slot."""
    _failures: dict[Slot, int] = field(default_factory=dict)
    _dir: Path = Path()

    @property
    def slots(self) -> list[Slot]:
        return [Slot("primary"), *(Slot("worker", i) for i in range(1, self.workers))]

    async def run(self, stop: asyncio.Event) -> int:
        """Start every process and keep them running until ``stop`` is set; 0 then, 1 when it gave up."""
        with tempfile.TemporaryDirectory(prefix="b2b-gateway-supervisor-") as tmp:
            self._dir = Path(tmp)
            (self._dir / "metrics").mkdir()
            log.info("supervisor.started", processes=self.workers, pid=os.getpid())
            try:
                return await self._supervise(stop)
            finally:
                await self._stop_all()
                log.info("supervisor.stopped")

    async def _supervise(self, stop: asyncio.Event) -> int:
        first, *others = self.slots
        if not await self._start_ready(first, stop):
            return 0 if stop.is_set() else 1
        for slot in others:
            await self._spawn(slot)
        lives: dict[asyncio.Task[int | None], Slot] = {
            asyncio.create_task(_exit_code(self.running[s].process)): s for s in self.slots
        }
        stopping = asyncio.create_task(stop.wait())
        try:
            while True:
                done, _ = await asyncio.wait({*lives, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if stopping in done:
                    return 0
                for task in done:
                    slot, code = lives.pop(task), task.result()
                    if code is None:
                        continue
                    delay = self._exited(slot, code)
                    if delay is None:
                        return 1
                    lives[asyncio.create_task(self._again(slot, delay, stop))] = slot
        finally:
            for task in [*lives, stopping]:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _again(self, slot: Slot, delay: float, stop: asyncio.Event) -> int | None:
        """Wait ``delay``, start ``slot`` again and wait for it to exit (``None``: stopped while waiting)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=delay)
        if stop.is_set():
            return None
        return await (await self._spawn(slot)).wait()

    def _exited(self, slot: Slot, code: int) -> float | None:
        """Account for ``slot``'s exit; the delay before its restart, or ``None`` to give up."""
        gone = self.running.pop(slot)
        mark_process_dead(gone.process.pid, str(self._dir / "metrics"))  # type: ignore[no-untyped-call]
        failures = self._failures.get(slot, 0) + 1 if time.monotonic() - gone.started < self.min_uptime_s else 1
        self._failures[slot] = failures
        if failures >= self.give_up_after:
            log.error(
                "supervisor.gave_up",
                process=slot.name,
                exit_code=code,
                failed_starts=failures,
                hint="it exits right after starting: its own log lines above say why",
            )
            return None
        delay = restart_delay(failures, self.restart_max_s)
        log.warning("process.exited", process=slot.name, pid=gone.process.pid, exit_code=code, restart_in_s=delay)
        return delay

    async def _spawn(self, slot: Slot) -> asyncio.subprocess.Process:
        ready = self._dir / f"ready-{slot.name}-{time.monotonic_ns()}"
        env = {**(self.env if self.env is not None else os.environ), MULTIPROCESS_ENV: str(self._dir / "metrics")}
        process = await asyncio.create_subprocess_exec(
            *self.command(slot, ready),
            env=env,
            start_new_session=True,  # the terminal's Ctrl-C reaches us only
        )
        self.running[slot] = _Running(process, time.monotonic(), ready)
        log.info("process.started", process=slot.name, pid=process.pid)
        return process

    async def _start_ready(self, slot: Slot, stop: asyncio.Event) -> bool:
        """Start ``slot`` and wait until it is ready (``False``: stopped, or given up); a failed start is tried
        again like any exit."""
        while not stop.is_set():
            if slot not in self.running:
                await self._spawn(slot)
            run = self.running[slot]
            while run.process.returncode is None and not run.ready.exists() and not stop.is_set():
                with contextlib.suppress(TimeoutError):  # as long as it takes (it may wait for the broker)
                    await asyncio.wait_for(stop.wait(), timeout=0.05)
            if run.ready.exists() and run.process.returncode is None:
                return True
            if stop.is_set():
                return False
            delay = self._exited(slot, await run.process.wait())
            if delay is None:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)
        return False

    async def _stop_all(self) -> None:
        """SIGTERM to every process, SIGKILL to those still running after ``stop_timeout_s``."""
        live = [r.process for r in self.running.values() if r.process.returncode is None]
        for process in live:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        if live:
            _, late = await asyncio.wait([asyncio.create_task(p.wait()) for p in live], timeout=self.stop_timeout_s)
            for process in live:
                if process.returncode is None:
                    log.warning("process.killed", pid=process.pid, after_s=self.stop_timeout_s)
                    with contextlib.suppress(ProcessLookupError):
                        process.kill()
                    await process.wait()
            for task in late:
                task.cancel()
        self.running.clear()


async def _exit_code(process: asyncio.subprocess.Process) -> int | None:
    return await process.wait()


async def watch_parent(parent: int, stop: asyncio.Event, *, every_s: float = 1.0) -> None:
    """Set ``stop`` once this process's parent is no longer ``parent`` (the supervisor is gone)."""
    while not stop.is_set():
        if os.getppid() != parent:
            log.warning("supervisor.gone", parent=parent)
            stop.set()
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every_s)
