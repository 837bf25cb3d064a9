"""``b2b-gateway validate`` on EDIFACT: every error with its location; ``--contrl`` prints the CONTRL."""

from __future__ import annotations

import json
from pathlib import Path

from b2b_gateway.formats.edifact.reader import read
from tests.conftest import CliRunner
from tests.edifact.conftest import SAMPLES


def test_validate_reports_every_error_located(cli: CliRunner) -> None:
    r = cli("validate", str(SAMPLES / "xlate_staedi__invoic_d97b_bad.edi"))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "error[TOO_LONG] NAD 3035: 'BYZZ'" in r.stderr
    assert "segment 5 (NAD), element 1, line 6, column 1" in r.stderr
    assert "error[REPRESENTATION] QTY C186/6060: '1020A'" in r.stderr
    assert "warning[TOO_MANY] segment UNS occurs 2 times" in r.stderr


def test_validate_json_and_contrl(cli: CliRunner) -> None:
    r = cli("validate", "--json", "--contrl", str(SAMPLES / "nerdocs_pydifact__aperak.edi"))
    assert r.returncode == 1
    report = json.loads(r.stdout)
    assert report["valid"] is False and report["format"] == "edifact"
    [error] = [e for e in report["errors"] if e["severity"] == "error"]
    assert error["code"] == "CONTROL_COUNT" and error["location"]["line"] == 9 and error["ack"]["contrl"] == "29"
    [contrl] = report["contrl"]
    assert "UCM+1+APERAK:D:96A:UN+4+29+UNT+1'" in contrl


def test_contrl_on_stdout(cli: CliRunner, tmp_path: Path) -> None:
    r = cli("validate", "--contrl", str(SAMPLES / "php-edifact_edifact__example_order_error.edi"))
    assert r.returncode == 1
    reply = read(r.stdout.encode("latin-1"))
    assert reply.ok
    contrl = reply.interchanges[0]
    assert (contrl.sender, contrl.recipient) == ("unbekannt", "4250159300001")
    assert any(s.tag == "UCD" and s.value(1) == "16" for s in contrl.messages[0].segments)
