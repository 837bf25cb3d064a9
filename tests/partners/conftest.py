"""Helpers for partner and mapping tests: a scratch mappings directory and settings pointing at it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from b2b_gateway.settings import Settings, load_settings


def write(path: Path, text: str) -> Path:
    """Write dedented ``text`` to ``path`` (creating directories)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


@pytest.fixture
def mappings_dir(tmp_path: Path) -> Path:
    root = tmp_path / "mappings"
    root.mkdir()
    return root


@pytest.fixture
def settings(mappings_dir: Path, tmp_path: Path) -> Settings:
    return load_settings(paths={"mappings_dir": mappings_dir, "certs_dir": tmp_path / "certs", "data_dir": tmp_path})
