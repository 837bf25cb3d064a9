"""The same conversation through mock-edi's directory trading: drop and pickup directories, no AS2.

mock-edi reads what is dropped into its ``--drop-dir`` and writes what it sends into its
``--pickup-dir``. The gateway's MOCKEDI channel is a directory channel on the first, and its pickup
directory is the second: ORDERS out, CONTRL, ORDRSP, DESADV, INVOIC in, our CONTRLs out again.
"""

from __future__ import annotations

from pathlib import Path

from tests.scenarios.harness import QUICK_RETRY, Scenario, purchase_order
from tests.scenarios.mocks import MockEdi, eventually


async def test_order_to_cash_through_directories(tmp_path: Path, vhost: str) -> None:
    drop, pickup = tmp_path / "mock-edi-in", tmp_path / "mock-edi-out"
    drop.mkdir()
    pickup.mkdir()
    mock = MockEdi.start(
        "--start-at",
        "2026-11-02T09:00:00Z",
        "--drop-dir",
        str(drop),
        "--pickup-dir",
        str(pickup),
        "--drop-interval-ms",
        "100",
        "--drop-settle-ms",
        "50",
        log=tmp_path / "mock-edi.log",
    )
    profile = {"channels": [{"name": "drop", "kind": "directory", "path": str(drop)}], "retry": QUICK_RETRY}
    try:
        async with Scenario(
            tmp_path, vhost, partners={"MOCKEDI": profile}, settings={"directories": {"inbox": pickup}}
        ) as s:
            await s.erp.publish(purchase_order("PO-DIR-1"), "MOCKEDI", "erp-po-dir-1")
            await s.erp.wait("mock-edi's four documents", status=1, order_response=1, despatch_advice=1, invoice=1)
            assert {m.partner for m in s.erp.received} == {"MOCKEDI"}
            sent = await s.sent("order", "PO-DIR-1")
            detail = await s.detail(sent.id)
            [written] = [e for e in detail.events if e["stage"] == "deliver" and e["outcome"] == "ok"]
            assert written["detail"].startswith("partner:MOCKEDI attempt 1: file order-PO-DIR-1-")
            assert written["data"]["endpoint"] == f"directory:{drop}"
            timeline = await s.api("/api/v1/orders/PO-DIR-1/timeline")
            assert all(timeline["milestones"].values()), timeline
            # mock-edi picked up our CONTRLs from its drop directory: it holds nothing unacknowledged.
            await eventually(mock.unacknowledged, lambda rows: not rows, "our CONTRLs read from the drop directory")
            picked = sorted(p.name for p in (tmp_path / "mock-edi-out.archive").iterdir())
            assert len(picked) == 4 and all("EURODIS" in name for name in picked), picked
            drops = await mock.call("GET", "/_mock/drop")
            assert not drops.get("stuck"), drops
    finally:
        await mock.close()
