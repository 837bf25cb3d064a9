"""The embedded default as users run it (a real ``b2b-gateway run`` process), and the operations commands."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, CliRunner
from tests.delivery.conftest import order

ORDER = FIXTURES / "canonical" / "order.json"


def _wait_for_files(folder: Path, pattern: str, proc: subprocess.Popen[bytes], log: Path) -> list[Path]:
    end = time.monotonic() + 120  # a hang guard, not a timing assertion
    while time.monotonic() < end:
        found = sorted(folder.glob(pattern)) if folder.exists() else []
        if found:
            return found
        assert proc.poll() is None, log.read_text()
        time.sleep(0.1)
    raise AssertionError(f"nothing matching {pattern} in {folder}:\n{log.read_text()[-2000:]}")


def test_run_on_a_fresh_machine_turns_a_dropped_order_into_canonical_json(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("B2B_")}
    env.update({"B2B_HTTP__PORT": "0", "B2B_DIRECTORIES__POLL_INTERVAL_S": "0.1"})
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "b2b_gateway", "run"], cwd=tmp_path, env=env, stdout=out, stderr=out
        )
    try:
        inbox = tmp_path / "var" / "in"
        end = time.monotonic() + 60
        while not inbox.is_dir() and time.monotonic() < end:
            time.sleep(0.05)
        (inbox / "order.json").write_bytes(ORDER.read_bytes())
        (out_file,) = _wait_for_files(tmp_path / "var" / "erp", "*.json", proc, log)
        assert json.loads(out_file.read_text())["document_number"] == "PO-2026-0001"
        assert (tmp_path / "var" / "gateway.db").exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
    assert code == 0, log.read_text()
    assert "gateway.stopped" in log.read_text()


def test_run_once_then_operations_commands(cli: CliRunner, tmp_path: Path) -> None:
    inbox = tmp_path / "var" / "in"
    inbox.mkdir(parents=True)
    (inbox / "good.json").write_bytes(order("PO-CLI-1"))
    (inbox / "bad.json").write_bytes((FIXTURES / "canonical" / "invoice_broken_totals.json").read_bytes())
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "routes.yaml").write_text(
        "routes:\n  - name: orders\n    when: {document_type: order}\n    to: [erp]\n"
    )
    ran = cli("run", "--once")
    assert ran.returncode == 0, ran.stderr
    assert len(list((tmp_path / "var" / "erp").glob("*.json"))) == 1

    listed = cli("messages", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {r["business_key"]: r for r in json.loads(listed.stdout)}
    assert rows["PO-CLI-1"]["state"] == "delivered" and rows["INV-2026-0101-BROKEN"]["state"] == "rejected"
    table = cli("messages", "list", "--state", "rejected")
    assert "INV-2026-0101-BROKEN" in table.stdout and "PO-CLI-1" not in table.stdout

    shown = cli("messages", "show", rows["INV-2026-0101-BROKEN"]["id"], "--json")
    detail = json.loads(shown.stdout)
    assert detail["errors"][0]["code"] == "BR-CO-15" and detail["events"][0]["stage"] == "receive"
    human = cli("messages", "show", rows["PO-CLI-1"]["id"])
    assert "audit trail" in human.stdout and "delivered" in human.stdout
    raw = cli("messages", "show", rows["PO-CLI-1"]["id"], "--raw")
    assert json.loads(raw.stdout)["document_number"] == "PO-CLI-1"
    assert cli("messages", "show", "0" * 32).returncode == 2

    (tmp_path / "mappings" / "routes.yaml").write_text(
        "routes:\n  - name: invoices-only\n    when: {document_type: invoice}\n    to: [erp]\n"
    )
    (inbox / "parked.json").write_bytes(order("PO-CLI-2"))
    assert cli("run", "--once").returncode == 0
    parked = json.loads(cli("messages", "list", "--state", "parked", "--json").stdout)
    assert [p["business_key"] for p in parked] == ["PO-CLI-2"]
    assert "UNROUTABLE" in parked[0]["last_error"]

    (tmp_path / "mappings" / "routes.yaml").write_text("routes:\n  - name: all\n    to: [erp]\n")
    replayed = cli("messages", "replay", parked[0]["id"], "--actor", "ops-alice", "--json")
    assert replayed.returncode == 0, replayed.stderr
    new_id = json.loads(replayed.stdout)[0]["as"]
    assert cli("run", "--once").returncode == 0
    again = json.loads(cli("messages", "show", new_id, "--json").stdout)
    assert again["state"] == "delivered" and again["replay_of"] == parked[0]["id"]
    original = json.loads(cli("messages", "show", parked[0]["id"], "--json").stdout)
    assert any(e["stage"] == "replay" and e["actor"] == "ops-alice" for e in original["events"])

    cancelled = cli("messages", "cancel", parked[0]["id"], "--reason", "replayed instead", "--json")
    assert json.loads(cancelled.stdout) == {"cancelled": 1}
    gone = json.loads(cli("messages", "show", parked[0]["id"], "--json").stdout)
    assert gone["state"] == "cancelled" and gone["events"][-1]["detail"] == "replayed instead"
    assert json.loads(cli("messages", "cancel", new_id, "--json").stdout) == {"cancelled": 0}  # delivered stays

    retried = cli("messages", "retry", rows["PO-CLI-1"]["id"], "--json")
    assert json.loads(retried.stdout) == {"retried": 0}  # nothing dead to deliver again

    queues = json.loads(cli("queues", "--json").stdout)
    assert queues["transport"] == "embedded" and queues["outbox"]["delivered"] == 2
    assert {q["queue"] for q in queues["queues"]} >= {"b2b.in.gateway", "b2b.erp", "b2b.in.gateway.dead"}
    assert "outbox:" in cli("queues").stdout


def test_db_upgrade_and_status(cli: CliRunner) -> None:
    assert cli("db", "status").returncode == 1  # an empty store needs an upgrade
    first = cli("db", "upgrade", "--json")
    assert first.returncode == 0 and json.loads(first.stdout)["before"] is None
    assert "nothing to do" in cli("db", "upgrade").stdout
    status = json.loads(cli("db", "status", "--json").stdout)
    assert status["up_to_date"] is True
    assert json.loads(cli("db", "purge", "--json").stdout) == {"trees": 0, "messages": 0, "payloads": 0}


@pytest.mark.postgres
def test_db_upgrade_on_postgres(cli: CliRunner, pg_url: str) -> None:
    env = {"B2B_STORE__URL": pg_url}
    assert cli("db", "upgrade", env=env).returncode == 0
    assert json.loads(cli("messages", "list", "--json", env=env).stdout) == []
