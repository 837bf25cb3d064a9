"""The steal share the half-load case reports, read from ``/proc/stat`` (a real file here, then a made-up one)."""

from __future__ import annotations

import time
from pathlib import Path

from bench.cpu import StealWatch, _steal_share, cpu_times


def test_cpu_times_reads_the_machines_counters_and_nothing_else(tmp_path: Path) -> None:
    times = cpu_times()
    assert times is not None and len(times) == 8 and sum(times) > 0
    made_up = tmp_path / "stat"
    made_up.write_text("cpu  10 0 5 80 1 0 0 4 0 0\ncpu0 5 0 2 40 0 0 0 2 0 0\n")
    assert cpu_times(made_up) == (10, 0, 5, 80, 1, 0, 0, 4)
    made_up.write_text("intr 1 2 3\n")
    assert cpu_times(made_up) is None
    assert cpu_times(tmp_path / "missing") is None


def test_steal_share_is_steal_over_all_ticks_between_two_readings() -> None:
    before = (10, 0, 5, 80, 1, 0, 0, 4)
    after = (20, 0, 10, 100, 1, 0, 0, 19)  # 50 ticks passed, 15 of them stolen
    assert _steal_share(before, after) == 0.3
    assert _steal_share(before, before) == 0.0


def test_the_watch_reports_shares_between_zero_and_one() -> None:
    watch = StealWatch(interval_s=0.01, window_s=0.05).start()
    time.sleep(0.2)
    found = watch.stop()
    assert set(found) == {"steal", "worst_window_steal"}
    assert 0 <= found["steal"] <= 1 and 0 <= found["worst_window_steal"] <= 1
    assert len(watch.samples) >= 5
