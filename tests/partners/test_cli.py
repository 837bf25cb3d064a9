"""``partners init`` scaffolds a partner that passes ``mappings test``; ``partners check`` finds problems."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT, CliRunner


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A gateway directory with the shipped standard mappings (what a new installation has)."""
    import shutil

    shutil.copytree(ROOT / "mappings" / "_standard", tmp_path / "mappings" / "_standard")
    return tmp_path


@pytest.mark.parametrize(
    ("partner", "fmt", "document", "extra"),
    [
        ("NEWRETAIL", "edifact", "orders", ["--version", "D96A"]),
        ("NEWSUPPLIER", "edifact", "invoice", ["--direction", "inbound"]),
        ("NEWSHOP", "json", "order", []),
        ("NEWSHOP2", "json", "invoice", []),
        ("NEWPEPPOL", "ubl", "invoice", []),
    ],
)
def test_init_scaffolds_a_partner_that_passes_its_sample(
    cli: CliRunner, workdir: Path, partner: str, fmt: str, document: str, extra: list[str]
) -> None:
    r = cli("partners", "init", partner, "--format", fmt, "--document", document, *extra, cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert f"mappings/{partner}/partner.yaml" in r.stdout
    r = cli("mappings", "test", partner, cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert "1 passed, 0 failed" in r.stderr
    r = cli("partners", "check", partner, cwd=workdir)
    assert r.returncode == 0, r.stderr


def test_init_refuses_bad_input(cli: CliRunner, workdir: Path) -> None:
    r = cli("partners", "init", "X", "--format", "telex", "--document", "order", cwd=workdir)
    assert r.returncode == 2 and "unknown format 'telex'" in r.stderr
    assert cli("partners", "init", "X", "--format", "json", "--document", "order", cwd=workdir).returncode == 0
    r = cli("partners", "init", "X", "--format", "json", "--document", "order", cwd=workdir)
    assert r.returncode == 2 and "exists already" in r.stderr


def test_check_and_test_report_a_broken_mapping_with_its_line(cli: CliRunner, workdir: Path) -> None:
    assert cli("partners", "init", "SHOP", "--format", "json", "--document", "order", cwd=workdir).returncode == 0
    mapping = workdir / "mappings" / "SHOP" / "order.yaml"
    mapping.write_text(mapping.read_text().replace("table: units", "table: unitz"))
    r = cli("partners", "check", cwd=workdir)
    assert r.returncode == 1
    line = next(i for i, text in enumerate(mapping.read_text().splitlines(), 1) if "unitz" in text)
    assert "no code table 'unitz'" in r.stderr and f"mappings/SHOP/order.yaml, line {line}" in r.stderr
    assert '"event"' not in r.stderr  # the problems are printed once, not logged as well
    r = cli("mappings", "test", "SHOP", cwd=workdir)
    assert r.returncode == 1


def test_mappings_test_shows_a_diff(cli: CliRunner, workdir: Path) -> None:
    assert cli("partners", "init", "SHOP", "--format", "json", "--document", "order", cwd=workdir).returncode == 0
    mapping = workdir / "mappings" / "SHOP" / "order.yaml"
    mapping.write_text(mapping.read_text().replace("name: {path: title, required: true}", "name: {path: sku}"))
    r = cli("mappings", "test", "SHOP", cwd=workdir)
    assert r.returncode == 1
    assert "FAIL SHOP/order-in" in r.stderr
    assert '-        "name": "Widget, blue",' in r.stderr and '+        "name": "W-BLUE",' in r.stderr
    assert cli("mappings", "test", "SHOP", "--update", cwd=workdir).returncode == 0
    assert cli("mappings", "test", "SHOP", cwd=workdir).returncode == 0
