"""Repository-level contracts: generated artifacts are current, the architecture holds, the API is curated."""

from __future__ import annotations

import subprocess
import sys

from b2b_gateway.canonical.schema import document_schemas, render_schema
from tests.conftest import ROOT, SHARED


def test_committed_canonical_schemas_are_current() -> None:
    for name, schema in document_schemas().items():
        path = ROOT / "schemas" / "canonical" / name
        assert path.exists(), f"{path} missing: run `b2b-gateway schema export`"
        assert path.read_text(encoding="utf-8") == render_schema(schema), (
            f"{path} is stale: run `b2b-gateway schema export`"
        )


def test_committed_code_lists_are_current() -> None:
    r = subprocess.run(
        [sys.executable, "scripts/generate_codelists.py", "--shared", str(SHARED), "--check"],
        cwd=ROOT,
        check=False,
    )
    assert r.returncode == 0, "src/b2b_gateway/canonical/_codelists.py is stale: run scripts/generate_codelists.py"


def test_import_contracts_hold() -> None:
    """Pure core does no I/O; formats never import the canonical model; layers import downwards only."""
    r = subprocess.run(
        [sys.executable, "-m", "importlinter.cli", "lint-imports"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if r.returncode != 0 and "No module named" in r.stderr:
        r = subprocess.run(["lint-imports"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stdout + r.stderr


def test_public_api_is_curated() -> None:
    import types

    import b2b_gateway

    public = {
        n
        for n in dir(b2b_gateway)
        if not n.startswith("_") and n != "annotations" and not isinstance(getattr(b2b_gateway, n), types.ModuleType)
    }
    assert sorted(set(b2b_gateway.__all__) - {"__version__"}) == sorted(public)


def test_canonical_documentation_is_current() -> None:
    r = subprocess.run([sys.executable, "scripts/generate_canonical_docs.py", "--check"], cwd=ROOT, check=False)
    assert r.returncode == 0, "docs/canonical.md is stale: run scripts/generate_canonical_docs.py"
