"""The XML commands as people run them: schemas install, doctor, translate and validate of UBL/CII/UBL-JSON."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import FIXTURES, SHARED, CliRunner

XML = SHARED / "samples" / "xml"
INVOICE = XML / "OpenPEPPOL_peppol-bis-invoice-3__base-example.xml"


def _install(cli: CliRunner, cwd: Path) -> None:
    r = cli("schemas", "install", "--from", str(SHARED / "reference"), cwd=cwd)
    assert r.returncode == 0, r.stderr
    assert "installed ubl-2.1: 79 files verified" in r.stdout and "installed en16931" in r.stdout


def test_doctor_says_what_is_off_then_on(cli: CliRunner, tmp_path: Path) -> None:
    before = cli("doctor", cwd=tmp_path)
    assert before.returncode == 0, before.stderr
    assert "UBL XSD validation is off" in before.stdout and "hint: b2b-gateway schemas install" in before.stdout
    _install(cli, tmp_path)
    after = cli("doctor", "--json", cwd=tmp_path)
    report = {f["check"]: f for f in json.loads(after.stdout)}
    assert after.returncode == 0
    assert report["schemas ubl-2.1"]["status"] == "ok" and report["schemas en16931"]["status"] == "ok"
    assert report["xslt2"]["status"] == "ok"
    (tmp_path / "var/schemas/en16931/EN16931-UBL-validation.xslt").write_text("tampered")
    broken = cli("doctor", cwd=tmp_path)
    assert broken.returncode == 1 and "checksum differs" in broken.stdout


def test_schemas_install_refuses_bad_sources_and_explains_without_one(cli: CliRunner, tmp_path: Path) -> None:
    r = cli("schemas", "install", "--from", str(tmp_path / "missing"))
    assert r.returncode == 1 and "CONFIG_OFFICIAL_SCHEMAS" in r.stderr and "Traceback" not in r.stderr
    r = cli("schemas", "install")
    assert r.returncode == 2 and "https://docs.oasis-open.org/ubl/os-UBL-2.1/UBL-2.1.zip" in r.stderr


def test_validate_without_schemas_warns_that_xsd_is_off(cli: CliRunner) -> None:
    r = cli("validate", str(INVOICE))
    assert r.returncode == 0, r.stderr
    assert "XSD validation is off" in r.stderr and "valid ubl" in r.stderr


def test_translate_ubl_to_canonical_and_back(cli: CliRunner, tmp_path: Path) -> None:
    _install(cli, tmp_path)
    r = cli("translate", str(INVOICE), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["document_type"] == "invoice" and doc["totals"]["payable"] == "1656.25"
    canonical = tmp_path / "invoice.json"
    canonical.write_text(r.stdout)
    ubl = cli("translate", str(canonical), "--to", "ubl", "-o", str(tmp_path / "out.xml"), cwd=tmp_path)
    assert ubl.returncode == 0, ubl.stderr
    again = cli("validate", str(tmp_path / "out.xml"), "--json", cwd=tmp_path)
    assert again.returncode == 0 and json.loads(again.stdout)["format"] == "ubl"


def test_translate_cii_and_ubl_json(cli: CliRunner, tmp_path: Path) -> None:
    _install(cli, tmp_path)
    order = SHARED / "samples" / "json" / "Tradeshift_tradeshift-ubl-jsonschema__UBL-Order-2.1-Example.json"
    r = cli("translate", str(order), "--to", "ubl-json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["_D"] == "urn:oasis:names:specification:ubl:schema:xsd:Order-2"
    cii = cli("validate", str(XML / "ConnectingEurope_eInvoicing-EN16931__CII_example1.xml"), cwd=tmp_path)
    assert cii.returncode == 0, cii.stderr
    assert "warning[GW-LIN-01]" in cii.stderr and "IncludedSupplyChainTradeLineItem[20]" in cii.stderr


def test_rejected_ubl_names_rule_xpath_and_line(cli: CliRunner, tmp_path: Path) -> None:
    _install(cli, tmp_path)
    data = INVOICE.read_bytes().replace(
        b'<cbc:PayableAmount currencyID="EUR">', b'<cbc:PayableAmount currencyID="EUR">9', 1
    )
    broken = tmp_path / "broken.xml"
    broken.write_bytes(data)
    r = cli("translate", str(broken), "--json-errors", cwd=tmp_path)
    assert r.returncode == 1
    errors = json.loads(r.stderr)
    codes = {e["code"] for e in errors}
    assert "BR-CO-16" in codes
    cen = next(e for e in errors if e["code"] == "BR-CO-16")
    assert cen["location"]["xpath"].startswith("/Invoice[1]/cac:LegalMonetaryTotal") and cen["location"]["line"]
    r = cli("translate", str(FIXTURES / "canonical" / "order.json"), "--to", "ubl", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.startswith("<?xml") and "<cac:OrderLine>" in r.stdout
