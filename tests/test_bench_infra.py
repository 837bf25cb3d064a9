"""The benchmark's gateway processes: their environment, and when they count as started."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from bench.infra import GatewayProcess, child_env


def test_a_gateway_gets_no_b2b_setting_of_the_benchmark_but_the_ones_passed_with_bench_prefix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("B2B_STORE__URL", "postgresql+asyncpg://elsewhere/db")
    monkeypatch.setenv("BENCH_B2B_STORE__OUTCOME_LINGER_MS", "0")
    env = child_env({"B2B_PATHS__DATA_DIR": "/tmp/x", "B2B_STORE__OUTCOME_LINGER_MS": "50"})
    assert "B2B_STORE__URL" not in env
    assert env["B2B_PATHS__DATA_DIR"] == "/tmp/x"
    assert env["B2B_STORE__OUTCOME_LINGER_MS"] == "0"  # the comparison wins over the workspace's value


async def test_a_gateway_is_started_when_every_process_of_this_start_logged_it(tmp_path: Path) -> None:
    """``run --workers 2`` logs ``gateway.started`` twice; a line an earlier gateway left in the same log
    file does not count (the benchmark once measured before the worker was up)."""
    gw = GatewayProcess(tmp_path, {}, name="gw1", workers=2)
    line = '{"event": "gateway.started"}\n'
    gw.log.write_text(line)  # the single gateway before
    gw.before = gw.logged("gateway.started")  # what start() records before it launches the processes
    with gw.log.open("a") as log:
        log.write(line)  # the primary
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(gw.started(), timeout=0.5)
    with gw.log.open("a") as log:
        log.write(line)  # the worker
    await asyncio.wait_for(gw.started(), timeout=10)
