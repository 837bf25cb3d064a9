"""How much each mode measures: the full run (about 15 minutes), ``--quick`` (about 3) and ``--smoke``
(a handful of documents, for the test suite: it checks that everything runs, not how fast)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Plan:
    mode: str
    rounds: int
    inbound: dict[str, int] = field(default_factory=dict)
    outbound: int = 0
    paced: int = 0
    """Documents sent at half the maximum rate (the latency case), at most …"""
    paced_seconds: float = 30.0
    """… and no more than this long a stream."""
    two_processes: int = 0
    reader_megabytes: float = 2.0
    reader_rounds: int = 5
    memory_messages: int = 100_000
    """About 1 KB each: the full run's interchange is about 100 MB (streamed over limits.stream_threshold_bytes)."""
    memory_timeout_s: float = 2700.0
    memory_cap_mb: int = 4096
    """The memory case's child is stopped when its RSS passes this (reported as a miss, not a crash)."""
    profile_messages: int = 300


FULL = Plan(
    mode="full",
    rounds=3,
    inbound={"orders-10": 600, "orders-100": 200, "orders-1000": 20, "ubl-invoice": 200},
    outbound=300,
    paced=600,
    paced_seconds=60.0,
    two_processes=600,
)
QUICK = Plan(
    mode="quick",
    rounds=1,
    inbound={"orders-10": 150, "orders-100": 30, "ubl-invoice": 30},
    outbound=60,
    paced=200,
    paced_seconds=10.0,
    two_processes=100,
    reader_megabytes=1.0,
    reader_rounds=3,
    memory_messages=5_000,
    memory_timeout_s=120.0,
    memory_cap_mb=2048,
    profile_messages=100,
)
SMOKE = Plan(
    mode="smoke",
    rounds=1,
    inbound={"orders-10": 5, "orders-100": 2, "orders-1000": 1, "ubl-invoice": 2},
    outbound=3,
    paced=5,
    paced_seconds=2.0,
    two_processes=4,
    reader_megabytes=0.05,
    reader_rounds=1,
    memory_messages=20,
    memory_timeout_s=60.0,
    memory_cap_mb=2048,
    profile_messages=3,
)
PLANS = {p.mode: p for p in (FULL, QUICK, SMOKE)}
