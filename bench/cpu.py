"""CPU time: what the hypervisor took from this machine (``steal`` in ``/proc/stat``) while a case ran,
and what the gateway processes used against the whole machine.

The benchmark machine is a virtual machine with two shared cores: when the host runs something else,
the guest's runnable processes wait (``steal``), and every document in flight waits with them. The
half-load case reports the steal share of each round, and of its worst quarter second, so that a
latency tail can be told apart from the gateway's own work. The processes case reports the gateway's
CPU (in cores, and per document) and how busy the machine was (:class:`CpuUse`): whether a second
process had a core to run on.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["CpuUse", "StealWatch", "cpu_times", "tree_cpu_s"]

_STAT = Path("/proc/stat")
_STEAL = 7
"""Index of ``steal`` among the counters of the ``cpu`` line (user nice system idle iowait irq softirq steal)."""
_IDLE, _IOWAIT = 3, 4
_PROC = Path("/proc")


def cpu_times(stat: Path = _STAT) -> tuple[int, ...] | None:
    """The machine's CPU counters (clock ticks, all cores) from the ``cpu`` line, or ``None`` off Linux."""
    try:
        first = stat.read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    return tuple(int(v) for v in first[1:9]) if first and first[0] == "cpu" and len(first) >= 9 else None


def _steal_share(before: tuple[int, ...], after: tuple[int, ...]) -> float:
    delta = [b - a for a, b in zip(before, after, strict=True)]
    total = sum(delta)
    return delta[_STEAL] / total if total > 0 else 0.0


@dataclass
class StealWatch:
    """Samples the CPU counters every ``interval_s`` in a thread between ``start`` and ``stop``."""

    interval_s: float = 0.05
    window_s: float = 0.25
    samples: list[tuple[float, tuple[int, ...]]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> StealWatch:
        self.samples.clear()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="steal-watch", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while True:
            times = cpu_times()
            if times is not None:
                self.samples.append((time.monotonic(), times))
            if self._stop.wait(self.interval_s):
                return

    def stop(self) -> dict[str, float]:
        """Stop sampling; the steal share of the whole span and of its worst ``window_s`` (0–1)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        times = cpu_times()
        if times is not None:
            self.samples.append((time.monotonic(), times))
        if len(self.samples) < 2:
            return {"steal": 0.0, "worst_window_steal": 0.0}
        worst, j = 0.0, 0
        for i, (at, times_at) in enumerate(self.samples):
            while j < i and at - self.samples[j][0] > self.window_s:
                j += 1
            if j < i and at - self.samples[j][0] >= self.window_s * 0.8:
                worst = max(worst, _steal_share(self.samples[j][1], times_at))
        whole = _steal_share(self.samples[0][1], self.samples[-1][1])
        return {"steal": round(whole, 3), "worst_window_steal": round(worst, 3)}


def tree_cpu_s(root: int, proc: Path = _PROC) -> float:
    """CPU seconds (user and system) used so far by process ``root`` and its live descendants."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    used: dict[int, int] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(") ", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        used[pid] = int(fields[11]) + int(fields[12])
    tree, grown = {root}, True
    while grown:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= more
        grown = bool(more)
    return sum(used.get(pid, 0) for pid in tree) / tick


@dataclass
class CpuUse:
    """The CPU the processes under ``roots`` used between :meth:`start` and :meth:`stop`, and the machine's."""

    roots: list[int]
    _at: float = 0.0
    _used: float = 0.0
    _machine: tuple[int, ...] | None = None

    def start(self) -> CpuUse:
        self._at, self._used, self._machine = time.monotonic(), self._sum(), cpu_times()
        return self

    def _sum(self) -> float:
        return sum(tree_cpu_s(root) for root in self.roots)

    def stop(self, documents: int) -> dict[str, float]:
        """``gateway_cores``: the processes' CPU over the wall time (1.0 is one core busy all along);
        ``cpu_ms_per_document``; ``machine_busy``: the share of all cores not idle (0–1)."""
        wall = max(time.monotonic() - self._at, 1e-9)
        used = self._sum() - self._used
        after = cpu_times()
        busy = 0.0
        if self._machine is not None and after is not None:
            delta = [b - a for a, b in zip(self._machine, after, strict=True)]
            total = sum(delta)
            busy = 1 - (delta[_IDLE] + delta[_IOWAIT]) / total if total > 0 else 0.0
        return {
            "gateway_cores": round(used / wall, 2),
            "cpu_ms_per_document": round(used * 1000 / documents, 2) if documents else 0.0,
            "machine_busy": round(busy, 2),
        }
