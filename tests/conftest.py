"""Shared fixtures: paths to fixtures and to the reference data in ../shared, and a CLI runner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
SHARED = Path(os.environ.get("B2B_SHARED", ROOT.parent / "shared")).resolve()


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def shared() -> Path:
    assert SHARED.is_dir(), f"reference data not found at {SHARED} (set B2B_SHARED)"
    return SHARED


def load_fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


CliRunner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cli(tmp_path: Path) -> CliRunner:
    """Run ``b2b-gateway`` as a subprocess (as users do), in a scratch working directory."""

    def run(
        *args: str,
        input: str | bytes | None = None,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("B2B_")}
        full_env.update(env or {})
        data = input.encode() if isinstance(input, str) else input
        proc = subprocess.run(
            [sys.executable, "-m", "b2b_gateway", *args],
            input=data,
            capture_output=True,
            cwd=cwd or tmp_path,
            env=full_env,
            timeout=timeout,
            check=False,
        )
        return subprocess.CompletedProcess(
            proc.args,
            proc.returncode,
            proc.stdout.decode("utf-8", "replace"),
            proc.stderr.decode("utf-8", "replace"),
        )

    return run


def run_env(root: Path, token: str, **settings: str) -> dict[str, str]:
    """The environment of a ``b2b-gateway run`` process under ``root``: this one's without any ``B2B_``
    setting, JSON logs, HTTP on a free port with API ``token``, quick pickup, plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("B2B_") and k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(
        {
            "B2B_PATHS__DATA_DIR": str(root / "var"),
            "B2B_PATHS__MAPPINGS_DIR": str(root / "mappings"),
            "B2B_PATHS__CERTS_DIR": str(root / "certs"),
            "B2B_HTTP__PORT": "0",
            "B2B_LOGGING__FORMAT": "json",
            "B2B_SECURITY__API_TOKEN": token,
            "B2B_DIRECTORIES__POLL_INTERVAL_S": "0.1",
            "B2B_DIRECTORIES__SETTLE_S": "0.1",
            **settings,
        }
    )
    return env
