"""The benchmark's gateway processes: their environment."""

from __future__ import annotations

import pytest
from bench.infra import child_env


def test_a_gateway_gets_no_b2b_setting_of_the_benchmark_but_the_ones_passed_with_bench_prefix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("B2B_STORE__URL", "postgresql+asyncpg://elsewhere/db")
    monkeypatch.setenv("BENCH_B2B_STORE__OUTCOME_LINGER_MS", "0")
    env = child_env({"B2B_PATHS__DATA_DIR": "/tmp/x", "B2B_STORE__OUTCOME_LINGER_MS": "50"})
    assert "B2B_STORE__URL" not in env
    assert env["B2B_PATHS__DATA_DIR"] == "/tmp/x"
    assert env["B2B_STORE__OUTCOME_LINGER_MS"] == "0"  # the comparison wins over the workspace's value
