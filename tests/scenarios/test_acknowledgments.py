"""Acknowledgments mock-edi does not send by itself, posted to the gateway's AS2 endpoint as MOCKEDI would:
an APERAK rejecting our order, and a CONTRL for an interchange the gateway never sent."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.scenarios.harness import Scenario, as2_profile, purchase_order
from tests.scenarios.mocks import MockEdi, eventually

APERAK = (
    "UNA:+.? '"
    "UNB+UNOC:3+MOCKEDI:ZZ+EURODIS:14+261102:0900+{ref}'"
    "UNH+1+APERAK:D:96A:UN'"
    "BGM+23+APK-{ref}+27'"
    "DTM+137:20261102:102'"
    "RFF+ACW:{answered}'"
    "NAD+MS+MOCKEDI'"
    "NAD+MR+EURODIS'"
    "ERC+Z01'"
    "FTX+AAO+++Item WIDGET-001 is discontinued'"
    "UNT+9+1'"
    "UNZ+1+{ref}'"
)
CONTRL = (
    "UNA:+.? '"
    "UNB+UNOC:3+MOCKEDI:ZZ+EURODIS:14+261102:0900+{ref}'"
    "UNH+1+CONTRL:D:3:UN'"
    "UCI+{answered}+EURODIS:14+MOCKEDI:ZZ+7'"
    "UNT+3+1'"
    "UNZ+1+{ref}'"
)


async def as2_post(url: str, body: str, message_id: str) -> httpx.Response:
    headers = {
        "AS2-From": "MOCKEDI",
        "AS2-To": "EURODIS",
        "Message-ID": f"<{message_id}@MOCKEDI>",
        "Content-Type": "application/edifact",
        "Disposition-Notification-To": "MOCKEDI",
    }
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.post(url + "/as2", content=body.encode("latin-1"), headers=headers)


async def test_an_aperak_rejects_our_order_and_a_stray_contrl_is_reported(tmp_path: Path, vhost: str) -> None:
    mock = MockEdi.start("--start-at", "2026-11-02T09:00:00Z", log=tmp_path / "mock-edi.log")
    try:
        async with Scenario(tmp_path, vhost, partners={"MOCKEDI": as2_profile("MOCKEDI", mock.url)}) as s:
            await mock.partner("EURODIS", behaviour="no-ack")  # takes the order, says nothing itself
            await s.erp.publish(purchase_order("PO-APERAK-1"), "MOCKEDI", "erp-po-aperak-1")
            sent = await s.sent("order", "PO-APERAK-1")

            reply = await as2_post(s.url, APERAK.format(ref="77", answered=sent.message_ref), "aperak-77")
            assert reply.status_code == 200 and b"processed" in reply.content
            await s.erp.wait("the APERAK", status=1)
            [aperak] = s.erp.of("status", "MOCKEDI")
            assert aperak.document["kind"] == "aperak" and aperak.document["status"] == "rejected"
            assert aperak.document["referenced_document"] == {"id": "PO-APERAK-1", "document_type": "order"}
            assert aperak.document["reasons"][0]["text"] == "Item WIDGET-001 is discontinued"
            detail = await s.detail(sent.id)
            assert detail.summary.last_error.startswith("[PARTNER_REJECTED] APERAK from MOCKEDI: rejected")  # type: ignore[union-attr]
            timeline = await s.api("/api/v1/orders/PO-APERAK-1/timeline")
            assert [(e["milestone"], e["ack_status"]) for e in timeline["entries"]] == [
                ("ordered", "rejected"),
                ("rejected by partner", None),
            ]

            # A CONTRL for interchange 999, which the gateway never sent: delivered, and reported.
            reply = await as2_post(s.url, CONTRL.format(ref="78", answered="999"), "contrl-78")
            assert reply.status_code == 200
            await s.erp.wait("the stray CONTRL", status=2)
            stray = s.erp.of("status", "MOCKEDI")[1]
            assert (
                stray.document["referenced_document"]["id"] == "999"
                and "acknowledges" not in stray.document["extensions"]
            )
            found = await eventually(
                lambda: s.messages(direction="inbound", business_key="999"),
                lambda ms: bool(ms),
                "the stray CONTRL stored",
            )
            warnings = [e for e in (await s.detail(found[0].id)).errors if e["code"] == "UNMATCHED_ACK"]
            assert warnings and warnings[0]["severity"] == "warning" and "never sent" in warnings[0]["message"]
    finally:
        await mock.close()
