"""The gateway sells: mock-edi, as the buyer MOCKBUYER, orders from EURODIS and changes its order.

mock-edi (``--as2-id MOCKBUYER``) has our company as a supplier; ``POST /_mock/purchase`` sends us its
ORDERS and ``/change`` its ORDCHG over AS2. The gateway acknowledges each with a CONTRL and delivers
it to the ERP; the ERP answers with a canonical OrderResponse, DespatchAdvice and Invoice, which the
gateway renders as ORDRSP, DESADV and INVOIC and sends back. mock-edi accepts them (its CONTRLs say
so) and files them under its order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.scenarios.harness import Scenario, as2_profile, canonical
from tests.scenarios.mocks import MockEdi, eventually

PURCHASE: dict[str, Any] = {
    "partner": "EURODIS",
    "requested_on": "2026-11-10",
    "currency": "EUR",
    "lines": [
        {"sku": "WIDGET-001", "quantity": "100", "uom": "EA", "price": "12.50"},
        {"sku": "BRKT-050", "quantity": "40", "uom": "EA", "price": "4.15"},
    ],
}


def answers(po: str) -> list[dict[str, Any]]:
    """The ERP's order response, despatch advice and invoice for ``po`` (line 1 changed to 80, 60 in stock)."""
    return [
        canonical("MOCKBUYER", "ordrsp-out", document_number=f"SO-{po}", order_reference={"id": po}),
        canonical("MOCKBUYER", "desadv-out", document_number=f"DES-{po}", order_reference={"id": po}),
        canonical(
            "MOCKBUYER", "invoic-out", document_number=f"INV-{po}", order_reference=po, despatch_advice_ref=f"DES-{po}"
        ),
    ]


async def start_selling(tmp_path: Path, *args: str) -> MockEdi:
    return MockEdi.start(
        "--as2-id", "MOCKBUYER", "--start-at", "2026-11-02T09:00:00Z", *args, log=tmp_path / "mock-buyer.log"
    )


async def test_mock_edi_buys_and_files_our_answers(tmp_path: Path, vhost: str) -> None:
    mock = await start_selling(tmp_path)
    try:
        async with Scenario(tmp_path, vhost, partners={"MOCKBUYER": as2_profile("MOCKBUYER", mock.url)}) as s:
            await mock.partner("EURODIS", role="supplier", as2_url=s.url + "/as2")
            await mock.call("POST", "/_mock/purchase", {**PURCHASE, "po_number": "PO-SELL-1"})
            await s.erp.wait("mock-edi's order", order=1)
            await mock.call("POST", "/_mock/purchase/PO-SELL-1/change", {"lines": [{"line": "1", "quantity": "80"}]})
            await s.erp.wait("mock-edi's order change", order=2)
            placed, change = s.erp.of("order", "MOCKBUYER")
            assert placed.document["document_number"] == "PO-SELL-1" and placed.document["message_function"] == "9"
            assert change.document["message_function"] == "4"
            assert change.document["references"] == [{"id": "PO-SELL-1", "document_type": "order"}]
            assert [(x["line_id"], x["quantity"]) for x in change.document["lines"]] == [("1", "80")]

            for number, doc in enumerate(answers("PO-SELL-1")):
                await s.erp.publish(doc, "MOCKBUYER", f"erp-answer-{number}")
            order = await eventually(
                lambda: mock.order("PO-SELL-1"),
                lambda o: all(x["invoiced"] == x["confirmed"] != "0" for x in o["lines"]),
                "mock-edi's order confirmed, shipped and billed",
            )
            assert [
                (x["line"], x["quantity"], x["confirmed"], x["shipped"], x["invoiced"]) for x in order["lines"]
            ] == [
                ("1", "80", "60", "60", "60"),
                ("2", "40", "40", "40", "40"),
            ]
            events = [e["summary"] for e in (await mock.timeline("PO-SELL-1"))["events"]]
            for code in ("ORDRSP", "DESADV", "INVOIC"):
                assert any(e.startswith(f"received {code}") for e in events), events
            # Its CONTRLs for ours were matched; ours for its ORDERS and ORDCHG reached it.
            timeline = await eventually(
                lambda: s.api("/api/v1/orders/PO-SELL-1/timeline"),
                lambda t: sum(1 for e in t["entries"] if e["milestone"] == "acknowledged") == 3,
                "mock-edi's three CONTRLs",
            )
            ours = [e for e in timeline["entries"] if e["direction"] == "outbound"]
            assert [e["milestone"] for e in ours] == ["confirmed with changes", "shipped", "invoiced"]
            assert all(e["ack_status"] == "accepted" and e["state"] == "delivered" for e in ours), ours
            assert all(timeline["milestones"].values()), timeline["milestones"]
            await eventually(mock.unacknowledged, lambda rows: not rows, "mock-edi holding our CONTRLs")
    finally:
        await mock.close()
