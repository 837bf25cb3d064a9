"""The command line as users run it: a subprocess, exit codes, messages, no tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import FIXTURES, CliRunner

ORDER = FIXTURES / "canonical" / "order.json"
INVOICE = FIXTURES / "canonical" / "invoice.json"
BROKEN = FIXTURES / "canonical" / "invoice_broken_totals.json"


def test_version(cli: CliRunner) -> None:
    r = cli("--version")
    assert r.returncode == 0 and r.stdout.startswith("b2b-gateway ")


def test_translate_prints_the_order_back_validated(cli: CliRunner) -> None:
    r = cli("translate", str(ORDER))
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    original = json.loads(ORDER.read_text())
    assert out["document_type"] == "order" and out["document_number"] == original["document_number"]
    assert out["lines"][1]["quantity"] == "2.5" and out["totals"] == original["totals"]


def test_translate_from_stdin_to_a_file(cli: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    r = cli("translate", "-", "-o", str(target), input=INVOICE.read_bytes())
    assert r.returncode == 0, r.stderr
    assert json.loads(target.read_text())["totals"]["payable"] == "177.20"


def test_broken_totals_exit_1_naming_rule_and_field(cli: CliRunner) -> None:
    r = cli("translate", str(BROKEN))
    assert r.returncode == 1
    assert r.stdout == ""
    assert "BR-CO-15" in r.stderr and "totals.tax_inclusive" in r.stderr and "line 97" in r.stderr
    assert "Traceback" not in r.stderr


def test_json_errors(cli: CliRunner) -> None:
    r = cli("translate", str(BROKEN), "--json-errors")
    assert r.returncode == 1
    errors = json.loads(r.stderr)
    assert errors[0]["code"] == "BR-CO-15"
    assert errors[0]["location"]["json_pointer"] == "/totals/tax_inclusive"


def test_usage_errors_exit_2(cli: CliRunner, tmp_path: Path) -> None:
    missing = cli("translate", str(tmp_path / "nope.json"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr and "Traceback" not in missing.stderr
    bad_to = cli("translate", str(ORDER), "--to", "pdf")
    assert bad_to.returncode == 2 and "unknown format" in bad_to.stderr
    assert cli("translate").returncode == 2
    assert cli("frobnicate").returncode == 2


def test_garbage_and_broken_json_are_rejected_with_location(cli: CliRunner) -> None:
    r = cli("translate", "-", input=b"hello world")
    assert r.returncode == 1 and "UNKNOWN_FORMAT" in r.stderr and "Traceback" not in r.stderr
    r = cli("translate", "-", input=b'{"document_type": "order",\n "x": }')
    assert r.returncode == 1 and "JSON_SYNTAX" in r.stderr and "line 2" in r.stderr


def test_validate_exit_codes_and_json_report(cli: CliRunner) -> None:
    assert cli("validate", str(INVOICE)).returncode == 0
    r = cli("validate", str(BROKEN), "--json")
    assert r.returncode == 1
    report = json.loads(r.stdout)
    assert report["valid"] is False and report["errors"][0]["code"] == "BR-CO-15"
    assert report["documents"][0]["business_key"] == "INV-2026-0101-BROKEN"


def test_bad_settings_are_a_usage_error(cli: CliRunner) -> None:
    r = cli("validate", str(INVOICE), env={"B2B_LIMITS__MAX_DOCUMENT_BYTES": "many"})
    assert r.returncode == 2 and "limits.max_document_bytes" in r.stderr


def test_schema_export_writes_files(cli: CliRunner, tmp_path: Path) -> None:
    r = cli("schema", "export", "--dir", str(tmp_path / "s"))
    assert r.returncode == 0
    names = sorted(p.name for p in (tmp_path / "s").iterdir())
    assert "invoice.schema.json" in names and "order.schema.json" in names
    assert cli("schema", "export", "--dir", str(tmp_path / "s"), "--check").returncode == 0
    (tmp_path / "s" / "order.schema.json").write_text("{}")
    assert cli("schema", "export", "--dir", str(tmp_path / "s"), "--check").returncode == 1
