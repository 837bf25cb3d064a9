"""The gateway buys: EURODIS orders from MOCKEDI (mock-edi) over AS2 and follows the order to cash.

The ERP publishes a canonical order to ``b2b.out``; the gateway renders it as EDIFACT ORDERS, signs
and archives it, sends it over AS2 and takes mock-edi's MDN. mock-edi answers at the gateway's AS2
endpoint: a CONTRL at once, then (as its clock is advanced, nobody waits) the ORDRSP, the DESADV and
the INVOIC. Each is validated, acknowledged with a CONTRL of ours, mapped and published to the ERP on
``b2b.erp``, and the conversation of the order is kept.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.scenarios.harness import Scenario, as2_profile, purchase_order
from tests.scenarios.mocks import MockEdi, eventually

HOUR_MS = "3600000"


async def test_order_to_cash_over_as2(tmp_path: Path, vhost: str) -> None:
    mock = MockEdi.start(
        "--start-at",
        "2026-11-02T09:00:00Z",
        "--response-delay",
        HOUR_MS,
        "--despatch-delay",
        str(2 * 3600000),
        "--invoice-delay",
        str(3 * 3600000),
        log=tmp_path / "mock-edi.log",
    )
    try:
        async with Scenario(tmp_path, vhost, partners={"MOCKEDI": as2_profile("MOCKEDI", mock.url)}) as s:
            await mock.partner("EURODIS", as2_url=s.url + "/as2")
            await s.erp.publish(purchase_order("PO-BUY-1"), "MOCKEDI", "erp-po-buy-1")

            # Sent, signed and archived; mock-edi's MDN says processed; its CONTRL comes back at once.
            sent = await s.sent("order", "PO-BUY-1")
            detail = await s.detail(sent.id)
            assert detail.signature is not None
            [output] = detail.outputs
            assert output["destination"] == "partner:MOCKEDI" and output["format"] == "edifact"
            delivered = [e for e in detail.events if e["stage"] == "deliver" and e["outcome"] == "ok"]
            assert delivered and "MDN automatic-action/MDN-sent-automatically; processed" in delivered[-1]["detail"]
            await s.erp.wait("the CONTRL", status=1)
            [contrl] = s.erp.of("status", "MOCKEDI")
            assert contrl.document["kind"] == "contrl" and contrl.document["status"] == "accepted"
            assert contrl.document["referenced_document"] == {"id": "PO-BUY-1", "document_type": "order"}
            timeline = await s.api("/api/v1/orders/PO-BUY-1/timeline")
            assert timeline["milestones"] == {
                "ordered": True,
                "acknowledged": True,
                "confirmed": False,
                "shipped": False,
                "invoiced": False,
            }

            # mock-edi's clock moves an hour at a time: the order response, the despatch advice, the invoice.
            for step, kind in ((1, "order_response"), (2, "despatch_advice"), (3, "invoice")):
                await mock.advance(3600)
                await s.erp.wait(f"the {kind} after {step} hour(s)", **{kind: 1})
            [response] = s.erp.of("order_response", "MOCKEDI")
            assert response.document["status"] == "changed"
            assert [line["status"] for line in response.document["lines"]] == ["accepted", "changed"]
            [despatch] = s.erp.of("despatch_advice", "MOCKEDI")
            [invoice] = s.erp.of("invoice", "MOCKEDI")
            assert despatch.document["order_reference"]["id"] == invoice.document["order_reference"] == "PO-BUY-1"
            assert invoice.document["totals"]["payable"] == "1416.00"

            timeline = await s.api("/api/v1/orders/PO-BUY-1/timeline")
            assert all(timeline["milestones"].values()), timeline["milestones"]
            steps = [(e["direction"], e["milestone"]) for e in timeline["entries"]]
            assert steps == [
                ("outbound", "ordered"),
                ("inbound", "acknowledged"),
                ("inbound", "confirmed with changes"),
                ("inbound", "shipped"),
                ("inbound", "invoiced"),
            ]
            assert timeline["entries"][0]["ack_status"] == "accepted"

            # Our CONTRLs reached mock-edi over AS2 and answered everything it sent: nothing unacknowledged.
            async def ours() -> list[dict[str, Any]]:
                return [r for r in await mock.unacknowledged() if r["partner"] == "EURODIS"]

            await eventually(ours, lambda rows: not rows, "mock-edi holding our CONTRL for each document")
            events = [e["summary"] for e in (await mock.timeline("PO-BUY-1"))["events"]]
            assert any("accepted our ORDRSP" in e for e in events), events
            assert any("accepted our INVOIC" in e for e in events), events
            rows = await mock.outbox("EURODIS")
            assert {r["code"] for r in rows} == {"CONTRL", "ORDRSP", "DESADV", "INVOIC"}
            assert all(r["status"] == "delivered" for r in rows), rows
    finally:
        await mock.close()


async def test_an_asynchronous_mdn_is_recorded_on_the_order(tmp_path: Path, vhost: str) -> None:
    mock = MockEdi.start("--start-at", "2026-11-02T09:00:00Z", log=tmp_path / "mock-edi.log")
    try:
        async with Scenario(tmp_path, vhost, partners={"MOCKEDI": as2_profile("MOCKEDI", mock.url)}) as s:
            # The channel asks for the MDN to come later, to our /as2/mdn (a profile change, taken live).
            profile = tmp_path / "mappings" / "MOCKEDI" / "partner.yaml"
            data = yaml.safe_load(profile.read_text())
            data["channels"][0].update(mdn="async", mdn_url=s.url + "/as2/mdn")
            profile.write_text(yaml.safe_dump(data, sort_keys=False))
            assert s.gw.repository is not None and s.gw.repository.refresh().loaded == ["MOCKEDI"]
            await mock.partner("EURODIS", as2_url=s.url + "/as2")
            await s.erp.publish(purchase_order("PO-ASYNC-1"), "MOCKEDI", "erp-po-async-1")
            sent = await s.sent("order", "PO-ASYNC-1")

            async def events() -> list[dict[str, Any]]:
                return [e for e in (await s.detail(sent.id)).events if e["stage"] == "mdn"]

            [mdn] = await eventually(events, lambda found: bool(found), "the asynchronous MDN recorded")
            assert mdn["outcome"] == "ok" and "processed" in mdn["detail"] and mdn["data"]["kind"] == "mdn"
            delivered = [
                e for e in (await s.detail(sent.id)).events if e["stage"] == "deliver" and e["outcome"] == "ok"
            ]
            assert "awaiting the asynchronous MDN" in delivered[-1]["detail"]
            await s.erp.wait("mock-edi's documents", status=1, order_response=1, despatch_advice=1, invoice=1)
    finally:
        await mock.close()
