"""The benchmark runs end to end in its smallest mode (``python -m bench --smoke``) and writes every section.

Nothing here is timed: the numbers are the benchmark's business (docs/performance.md), this only checks
that it measures what it should, through real gateways, the real broker and the real database.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.rabbit, pytest.mark.postgres]


def _bench(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m <args>`` from the project root; fails the test with its output when it fails."""
    run = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return run


def test_the_smoke_run_writes_every_section(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    run = _bench("bench", "--smoke", "--json", str(out))
    results = json.loads(out.read_text())
    assert results["mode"] == "smoke"
    assert results["reader"]["reader_mb_s"] > 0 and results["reader"]["pydifact_mb_s"] > 0
    assert results["reader"]["pydifact_version"], "the baseline's version is recorded"

    gateway = results["gateway"]
    assert [r["case"] for r in gateway["inbound"]] == ["orders-10", "orders-100", "orders-1000", "ubl-invoice"]
    assert [r["case"] for r in gateway["outbound"]] == ["outbound-orders"]
    for case in [*gateway["inbound"], *gateway["outbound"]]:
        assert case["rate_per_s"] > 0 and case["relay_rate_per_s"] > 0 and case["ratio"] is not None
    assert gateway["half_load"]["messages"] > 0 and gateway["half_load"]["p99_ms"] > 0
    assert all(ms >= 40 for ms in gateway["half_load"]["loop_stalls_ms"])
    steal = gateway["half_load"]["steal_per_round"]
    assert len(steal) == gateway["half_load"]["rounds"]
    assert all(0 <= r["steal"] <= 1 and 0 <= r["worst_window_steal"] <= 1 for r in steal)
    assert gateway["processes"]["one"]["rate_per_s"] > 0 and gateway["processes"]["two"]["rate_per_s"] > 0
    for count in ("one", "two"):  # the gateway processes' CPU, the supervisor's children included
        cpu = gateway["processes"][count]["cpu"]
        assert cpu["gateway_cores"] > 0 and cpu["cpu_ms_per_document"] > 0 and 0 < cpu["machine_busy"] <= 1

    memory = results["memory"]
    assert memory["completed"] and memory["peak_rss_mb"] > 0

    profile = results["profile"]
    for kind in ("orders-10", "ubl-invoice"):
        assert {"validate", "map", "check", "sign", "store", "route", "deliver"} <= set(profile[kind]["stages_ms"])

    assert "| case" in run.stdout and ("MET" in run.stdout or "MISSED" in run.stdout)
    assert "processes: 1 process: gateway CPU" in run.stdout and "→ run --workers 2: gateway CPU" in run.stdout


def test_the_latency_probe_reports_a_paced_stream_in_chunks() -> None:
    lines = _bench("bench.latency", "--rate", "20", "--count", "120", "--burst", "10").stdout.splitlines()
    assert any(line.startswith("burst of 10: ") for line in lines)
    assert any(line.startswith("rate 20.0/s n=120 p50=") for line in lines)
    assert [line.split(":")[0].strip() for line in lines if "documents " in line] == [
        "documents 0-100",
        "documents 100-120",
    ]


def test_the_profile_s_gateway_holds_every_output_of_a_full_run(tmp_path: Path) -> None:
    """The profile starts a gateway without its relay: outputs handed over are never drained, so the hand-over
    queue must hold every one (a document and its CONTRL each, warm-up included), or the run waits for ever."""
    from bench.plan import PLANS
    from bench.profile import profile_settings

    most = max(plan.profile_messages for plan in PLANS.values())
    assert profile_settings(tmp_path).delivery.max_pending >= 2 * 2 * (most + 5)
