"""Helpers for partner and mapping tests: a scratch mappings directory and settings pointing at it."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from b2b_gateway.formats.edifact.reader import read
from b2b_gateway.mapping.loader import load_mapping
from b2b_gateway.mapping.paths.edifact import EdifactSyntax, build_tree
from b2b_gateway.mapping.plan import CompiledMapping
from b2b_gateway.settings import Settings, load_settings


def write(path: Path, text: str) -> Path:
    """Write dedented ``text`` to ``path`` (creating directories)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def compile_text(tmp_path: Path, text: str) -> CompiledMapping:
    """The mapping file ``text`` (written as ``m.yaml``), compiled; its errors fail the test."""
    mapping, errors = load_mapping(write(tmp_path / "m.yaml", text), display="m.yaml")
    assert mapping is not None, errors
    return mapping


def edifact_tree(mapping: CompiledMapping, data: bytes) -> Any:
    """The segment-group tree of the first message of ``data``, as the mapping's message structure has it."""
    (ic,) = read(data).interchanges
    syntax = mapping.syntax
    assert isinstance(syntax, EdifactSyntax)
    return build_tree(ic.messages[0].segments, syntax.message)


@pytest.fixture
def mappings_dir(tmp_path: Path) -> Path:
    root = tmp_path / "mappings"
    root.mkdir()
    return root


@pytest.fixture
def settings(mappings_dir: Path, tmp_path: Path) -> Settings:
    return load_settings(paths={"mappings_dir": mappings_dir, "certs_dir": tmp_path / "certs", "data_dir": tmp_path})
