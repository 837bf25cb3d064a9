"""The shipped partners: their golden samples pass, their files check, and mock-edi accepts what we send."""

from __future__ import annotations

import json
import subprocess
import sys

from mockedi.testing import Mock

from tests.conftest import ROOT, CliRunner

SAMPLES = ROOT / "mappings" / "MOCKEDI" / "samples"


def test_every_shipped_partner_passes_mappings_test(cli: CliRunner) -> None:
    r = cli("mappings", "test", cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert "0 failed" in r.stderr
    for partner in ("HANSAMARKT", "MOCKEDI", "PEPPOLCO", "WEBSHOP"):
        assert f"ok   {partner}/" in r.stderr


def test_partners_check_passes_on_the_repository(cli: CliRunner) -> None:
    r = cli("partners", "check", cwd=ROOT, env={"B2B_COMPANY_ID": "EURODIS"})
    assert r.returncode == 0, r.stderr
    assert "checked 4 partner(s), 4 standard mapping(s): all valid" in r.stderr
    assert "warning" not in r.stderr


def test_partners_list_as_json(cli: CliRunner) -> None:
    r = cli("partners", "list", "--json", cwd=ROOT)
    assert r.returncode == 0, r.stderr
    rows = {row["id"]: row for row in json.loads(r.stdout)}
    assert set(rows) == {"HANSAMARKT", "MOCKEDI", "PEPPOLCO", "WEBSHOP"}
    assert "outbound order (edifact D96A)" in rows["MOCKEDI"]["documents"]


def test_mock_edi_accepts_the_orders_we_render_for_it() -> None:
    order = (
        (SAMPLES / "order-out" / "output.edi").read_text(encoding="latin-1").replace("+000000:0000+", "+260301:1200+")
    )
    with Mock.start(start_at="2026-03-01T12:00:00Z") as mock:
        summary = mock.send(order)
        assert summary["accepted"], summary
        assert summary["transactionSets"][0]["findings"] == []
        assert summary["orders"] == ["PO-4711"]


def test_the_mockedi_inputs_are_what_mock_edi_sends() -> None:
    r = subprocess.run(
        [sys.executable, "scripts/capture_mockedi_samples.py", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    r = subprocess.run(
        [sys.executable, "scripts/capture_mockedi_samples.py", "--check", "--behaviour", "short-ship"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr


def test_the_mapping_and_profile_schemas_are_current_and_shipped_files_meet_them() -> None:
    r = subprocess.run([sys.executable, "scripts/generate_mapping_schema.py", "--check"], cwd=ROOT, check=False)
    assert r.returncode == 0, "schemas/*.schema.json are stale: run scripts/generate_mapping_schema.py"
    import yaml
    from jsonschema import Draft202012Validator

    mapping = Draft202012Validator(json.loads((ROOT / "schemas" / "mapping.schema.json").read_text()))
    partner = Draft202012Validator(json.loads((ROOT / "schemas" / "partner.schema.json").read_text()))
    for path in sorted((ROOT / "mappings").rglob("*.yaml")):
        if "tables" in path.parts:
            continue
        validator = partner if path.name in ("partner.yaml", "_self.yaml") else mapping
        errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text(encoding="utf-8")))]
        assert errors == [], f"{path}: {errors}"


def test_mapping_files_say_which_schema_they_follow() -> None:
    for path in sorted((ROOT / "mappings").rglob("*.yaml")):
        if "tables" in path.parts:
            continue
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), path
        assert (path.parent / first.split("=", 1)[1]).resolve().is_file(), path
