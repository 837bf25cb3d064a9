"""The embedded default: files dropped into the inbox come out as canonical JSON in the ERP directory."""

from __future__ import annotations

import json
from pathlib import Path

from b2b_gateway.runtime.embedded import EmbeddedGateway
from b2b_gateway.settings import Settings
from tests.conftest import FIXTURES


def _settings(tmp_path: Path) -> Settings:
    return Settings(paths={"data_dir": tmp_path / "var"}, directories={"settle_s": 0})


async def test_dropped_order_reaches_the_erp_directory(tmp_path: Path) -> None:
    s = _settings(tmp_path)
    gw = EmbeddedGateway(s)
    (s.inbox / "order.json").write_bytes((FIXTURES / "canonical" / "order.json").read_bytes())
    (s.inbox / "half-written.json.part").write_bytes(b"{")
    (done,) = await gw.run_once()
    assert done.state.value == "delivered"
    (out,) = list(s.erp_outbox.glob("*.json"))
    assert json.loads(out.read_text())["document_number"] == "PO-2026-0001"
    assert not list(s.erp_outbox.glob(".*"))  # no temporary files left
    assert [p.name for p in gw.pickup.archive.iterdir()] == [f"{done.id}-order.json"]
    assert (s.inbox / "half-written.json.part").exists()  # incomplete uploads are not taken


async def test_rejected_file_goes_to_error_with_a_report(tmp_path: Path) -> None:
    s = _settings(tmp_path)
    gw = EmbeddedGateway(s)
    (s.inbox / "bad.json").write_bytes((FIXTURES / "canonical" / "invoice_broken_totals.json").read_bytes())
    (done,) = await gw.run_once()
    assert done.state.value == "rejected"
    names = sorted(p.name for p in gw.pickup.error.iterdir())
    assert names == [f"{done.id}-bad.json", f"{done.id}-bad.json.errors.json"]
    report = json.loads((gw.pickup.error / names[1]).read_text())
    assert report["message"]["errors"][0]["code"] == "BR-CO-15"
    assert not list(s.erp_outbox.glob("*.json"))


async def test_a_file_left_in_work_by_a_crash_is_processed_at_start(tmp_path: Path) -> None:
    s = _settings(tmp_path)
    gw = EmbeddedGateway(s)
    (gw.pickup.work / "order.json").write_bytes((FIXTURES / "canonical" / "order.json").read_bytes())
    (done,) = await EmbeddedGateway(s).run_once()
    assert done.state.value == "delivered"


async def test_settling_waits_for_a_stable_file(tmp_path: Path) -> None:
    s = Settings(paths={"data_dir": tmp_path / "var"}, directories={"settle_s": 60})
    gw = EmbeddedGateway(s)
    (s.inbox / "order.json").write_bytes((FIXTURES / "canonical" / "order.json").read_bytes())
    assert await gw.run_once() == []  # seen once, not yet stable
