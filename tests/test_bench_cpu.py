"""The steal share the half-load case reports, read from ``/proc/stat`` (a real file here, then a made-up one)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from bench.cpu import CpuUse, StealWatch, _steal_share, cpu_times, tree_cpu_s


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


def test_a_process_tree_s_cpu_counts_the_descendants_of_its_root(tmp_path: Path) -> None:
    """Made-up ``/proc``: 10 → 11 → 12 and 13 elsewhere; ticks are utime + stime (fields 14 and 15)."""
    tick = os.sysconf("SC_CLK_TCK")

    def proc(pid: int, parent: int, utime: int, stime: int) -> None:
        (tmp_path / str(pid)).mkdir()
        rest = ["S", str(parent), *["0"] * 9, str(utime), str(stime), "0", "0"]
        (tmp_path / str(pid) / "stat").write_text(f"{pid} (b2b gateway) " + " ".join(rest) + "\n")

    proc(10, 1, tick, 0)
    proc(11, 10, tick, tick)
    proc(12, 11, 0, tick)
    proc(13, 1, 5 * tick, 0)
    (tmp_path / "self").mkdir()
    assert tree_cpu_s(10, tmp_path) == 4.0
    assert tree_cpu_s(11, tmp_path) == 3.0
    assert tree_cpu_s(13, tmp_path) == 5.0
    assert tree_cpu_s(99, tmp_path) == 0.0


def test_cpu_use_of_this_process_is_what_the_process_itself_counts() -> None:
    use = CpuUse([os.getpid()]).start()
    spent = time.process_time()
    end = spent + 0.3
    while time.process_time() < end:  # 0.3 s of this process's CPU, however long the machine takes
        pass
    spent = time.process_time() - spent
    got = use.stop(documents=10)
    assert abs(got["cpu_ms_per_document"] * 10 / 1000 - spent) <= 0.05  # /proc counts in 10 ms ticks
    assert got["gateway_cores"] > 0 and 0 < got["machine_busy"] <= 1
