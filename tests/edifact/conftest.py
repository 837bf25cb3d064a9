"""Helpers for the EDIFACT tests: the shared samples, reading with a policy, validating everything."""

from __future__ import annotations

from pathlib import Path

import pytest

from b2b_gateway.errors import GatewayError
from b2b_gateway.formats.edifact.reader import ReaderOptions, ReadResult, read
from b2b_gateway.formats.edifact.validator import validate_message
from tests.conftest import SHARED

SAMPLES = SHARED / "samples" / "edifact"
WARN = ReaderOptions(control_counts="warn")


def sample(name: str) -> bytes:
    path = SAMPLES / name
    assert path.is_file(), f"sample {path} is missing"
    return path.read_bytes()


def sample_names() -> list[str]:
    names = sorted(p.name for p in SAMPLES.glob("*.edi"))
    assert names, f"no EDIFACT samples under {SAMPLES}"
    return names


def everything(result: ReadResult) -> list[GatewayError]:
    """Reading findings and the validation findings of every message."""
    found = list(result.findings)
    for ic in result.interchanges:
        for msg in ic.messages:
            found.extend(validate_message(msg, ic))
    return found


def errors(found: list[GatewayError]) -> list[GatewayError]:
    return [e for e in found if e.severity == "error"]


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    assert SAMPLES.is_dir(), f"reference samples not found at {SAMPLES}"
    return SAMPLES


__all__ = ["SAMPLES", "WARN", "errors", "everything", "read", "sample", "sample_names"]
