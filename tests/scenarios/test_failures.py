"""Failure behaviours of a real trading partner, each switched on in mock-edi (``PATCH /_mock/partners``).

Short shipment, rejected lines, a refused order, a duplicate invoice, a strict partner rejecting our
document, a partner that never acknowledges, and a partner answering 30% of requests with a 500.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from structlog.testing import capture_logs

from tests.scenarios.harness import Scenario, as2_profile, purchase_order
from tests.scenarios.mocks import MockEdi, eventually


@asynccontextmanager
async def trading(
    tmp_path: Path, vhost: str, behaviour: str, *mock_args: str
) -> AsyncIterator[tuple[Scenario, MockEdi]]:
    """A gateway trading with a mock-edi whose EURODIS behaves as ``behaviour``."""
    mock = MockEdi.start("--start-at", "2026-11-02T09:00:00Z", *mock_args, log=tmp_path / "mock-edi.log")
    try:
        async with Scenario(tmp_path, vhost, partners={"MOCKEDI": as2_profile("MOCKEDI", mock.url)}) as s:
            await mock.partner("EURODIS", as2_url=s.url + "/as2", behaviour=behaviour)
            yield s, mock
    finally:
        await mock.close()


def lines(doc: dict[str, Any], *fields: str) -> list[tuple[Any, ...]]:
    return [tuple(line.get(f) for f in fields) for line in doc["lines"]]


async def test_short_shipment(tmp_path: Path, vhost: str) -> None:
    async with trading(tmp_path, vhost, "short-ship") as (s, _mock):
        await s.erp.publish(purchase_order("PO-SHORT-1"), "MOCKEDI", "erp-short-1")
        await s.erp.wait("response, despatch and invoice", order_response=1, despatch_advice=1, invoice=1)
        [response] = s.erp.of("order_response")
        assert response.document["status"] == "changed"
        confirmed = lines(response.document, "status", "ordered_quantity", "quantity")
        assert [c[0] for c in confirmed] == ["short", "short"], confirmed
        assert all(Decimal(c[2]) < Decimal(c[1]) for c in confirmed), confirmed
        [despatch] = s.erp.of("despatch_advice")
        shipped = [q for (q,) in lines(despatch.document, "quantity")]
        assert shipped == [c[2] for c in confirmed]  # ships what it confirmed, no balance follows
        [invoice] = s.erp.of("invoice")
        assert [q for (q,) in lines(invoice.document, "quantity")] == shipped
        timeline = await s.api("/api/v1/orders/PO-SHORT-1/timeline")
        assert "short" in next(e["detail"] for e in timeline["entries"] if e["milestone"].startswith("confirmed"))


async def test_rejected_line(tmp_path: Path, vhost: str) -> None:
    async with trading(tmp_path, vhost, "reject-line") as (s, _mock):
        await s.erp.publish(purchase_order("PO-REJL-1"), "MOCKEDI", "erp-rejl-1")
        await s.erp.wait("response, despatch and invoice", order_response=1, despatch_advice=1, invoice=1)
        [response] = s.erp.of("order_response")
        statuses = [status for (status,) in lines(response.document, "status")]
        assert "rejected" in statuses and len(statuses) == 2, statuses
        refused = next(x for x in response.document["lines"] if x["status"] == "rejected")
        assert refused["quantity"] == "0"
        for kind in ("despatch_advice", "invoice"):  # the refused line is neither shipped nor billed
            [doc] = s.erp.of(kind)
            assert refused["line_id"] not in [x.get("order_line_ref") for x in doc.document["lines"]]


async def test_refused_order(tmp_path: Path, vhost: str) -> None:
    async with trading(tmp_path, vhost, "reject-all") as (s, mock):
        await s.erp.publish(purchase_order("PO-REFUSED-1"), "MOCKEDI", "erp-refused-1")
        await s.erp.wait("the acknowledgment and the refusal", status=1, order_response=1)
        [response] = s.erp.of("order_response")
        assert response.document["status"] == "rejected"
        assert {status for (status,) in lines(response.document, "status")} == {"rejected"}
        timeline = await s.api("/api/v1/orders/PO-REFUSED-1/timeline")
        assert [e["milestone"] for e in timeline["entries"]] == ["ordered", "acknowledged", "refused"]
        assert timeline["milestones"]["shipped"] is False and timeline["milestones"]["invoiced"] is False
        assert not [r for r in await mock.outbox("EURODIS") if r["code"] in ("DESADV", "INVOIC")]


async def test_duplicate_invoice_reaches_the_erp_once(tmp_path: Path, vhost: str) -> None:
    async with trading(tmp_path, vhost, "duplicate-invoice") as (s, mock):
        await s.erp.publish(purchase_order("PO-DUP-1"), "MOCKEDI", "erp-dup-1")

        async def invoices() -> list[dict[str, Any]]:
            return [r for r in await mock.outbox("EURODIS") if r["code"] == "INVOIC" and r["status"] == "delivered"]

        await eventually(invoices, lambda rows: len(rows) == 1, "mock-edi's invoice")
        await mock.advance(1)  # its second copy follows a second later on its clock
        await eventually(invoices, lambda rows: len(rows) == 2, "mock-edi's second copy of the invoice")
        await s.erp.wait("the invoice", invoice=1)
        received = await eventually(  # the delivery is recorded once the ERP's broker has confirmed it
            lambda: s.messages(direction="inbound", document_type="invoice"),
            lambda ms: sorted(m.state for m in ms) == ["delivered", "duplicate"],
            "both stored, the first delivered",
        )
        duplicate = next(m for m in received if m.state == "duplicate")
        detail = await s.detail(duplicate.id)
        [found] = [e for e in detail.errors if e["code"] == "DUPLICATE"]
        assert found["severity"] == "warning" and found["details"]["document"] == "invoice:INV9000002"
        assert len(s.erp.of("invoice")) == 1  # the ERP sees the invoice once
        # Both were acknowledged as received (the duplicate is the buyer's business, not a syntax error).
        await eventually(mock.unacknowledged, lambda rows: not rows, "our CONTRL for both invoices")
        timeline = await s.api("/api/v1/orders/PO-DUP-1/timeline")
        assert [e["state"] for e in timeline["entries"] if e["milestone"] == "invoiced"] == ["delivered", "duplicate"]


async def test_strict_partner_rejects_our_order(tmp_path: Path, vhost: str) -> None:
    # mock-edi knows six currencies; a strict partner rejects a message for any finding at all.
    async with trading(tmp_path, vhost, "strict") as (s, mock):
        await s.erp.publish(purchase_order("PO-STRICT-1", currency="SEK"), "MOCKEDI", "erp-strict-1")
        await s.erp.wait("the CONTRL", status=1)
        [contrl] = s.erp.of("status")
        assert contrl.document["status"] == "rejected" and contrl.document["kind"] == "contrl"
        assert contrl.document["referenced_document"] == {"id": "PO-STRICT-1", "document_type": "order"}
        assert contrl.document["reasons"], contrl.document
        sent = await s.sent("order", "PO-STRICT-1")  # delivered: mock-edi received it, and refused it
        detail = await s.detail(sent.id)
        assert detail.summary.last_error and detail.summary.last_error.startswith("[PARTNER_REJECTED]")
        mdn, contrl_error = [e for e in detail.errors if e["code"] == "PARTNER_REJECTED"]
        assert mdn["details"]["kind"] == "mdn" and "SEK is not a code" in mdn["message"]  # its MDN's words
        assert contrl_error["details"]["kind"] == "contrl" and contrl_error["details"]["reasons"][0]["code"] == "12"
        [event] = [e for e in detail.events if e["stage"] == "acknowledged"]
        assert event["outcome"] == "error" and event["actor"] == "MOCKEDI"
        timeline = await s.api("/api/v1/orders/PO-STRICT-1/timeline")
        assert timeline["rejected_by_partner"] is True
        assert [(e["milestone"], e["ack_status"]) for e in timeline["entries"]] == [
            ("ordered", "rejected"),
            ("rejected by partner", None),
        ]
        assert all(o["po_number"] != "PO-STRICT-1" for o in await mock.call("GET", "/_mock/orders"))


async def test_partner_that_never_acknowledges_is_flagged_after_the_deadline(tmp_path: Path, vhost: str) -> None:
    async with trading(tmp_path, vhost, "no-ack") as (s, _mock):
        await s.erp.publish(purchase_order("PO-SILENT-1"), "MOCKEDI", "erp-silent-1")
        sent = await s.sent("order", "PO-SILENT-1")
        conversations = s.gw.conversations
        assert conversations is not None
        alerted: list[str] = []
        conversations.hooks.append(lambda item: alerted.append(item.message_id))
        [waiting] = await conversations.awaiting()
        assert waiting.message_id == sent.id and waiting.deadline == waiting.sent_at + dt.timedelta(minutes=60)
        assert await conversations.check_overdue(now=waiting.deadline - dt.timedelta(seconds=1)) == []
        with capture_logs() as logs:  # the gateway's clock, moved past the profile's deadline_minutes
            overdue = await conversations.check_overdue(now=waiting.deadline + dt.timedelta(minutes=1))
        assert [o.message_id for o in overdue] == alerted == [sent.id]
        [event] = [e for e in logs if e["event"] == "ack.overdue"]
        assert (
            event["partner"] == "MOCKEDI" and event["business_key"] == "PO-SILENT-1" and event["code"] == "ACK_OVERDUE"
        )
        assert await conversations.check_overdue(now=waiting.deadline + dt.timedelta(minutes=2)) == []  # once
        detail = await s.detail(sent.id)
        assert [e["stage"] for e in detail.events].count("ack_overdue") == 1
        [listed] = await s.api("/api/v1/acknowledgments/awaiting")  # still awaited (by the wall clock, not late)
        assert listed["message_id"] == sent.id and listed["deadline"] == waiting.deadline.isoformat()


async def test_thirty_percent_of_requests_failing(tmp_path: Path, vhost: str) -> None:
    async with trading(tmp_path, vhost, "accept", "--error-rate", "0.3", "--seed", "7") as (s, mock):
        numbers = [f"PO-FLAKY-{i}" for i in range(6)]
        for number in numbers:
            await s.erp.publish(purchase_order(number), "MOCKEDI", f"erp-{number}")
        await s.erp.wait("every answer", order_response=6, despatch_advice=6, invoice=6)
        attempts = 0
        failures = 0
        for number in numbers:
            detail = await s.detail((await s.sent("order", number)).id)
            tries = [e for e in detail.events if e["stage"] == "deliver" and e["actor"] == "gateway"]
            attempts += len([e for e in tries if "attempt" in e["detail"]])
            failures += len([e for e in tries if e["outcome"] == "error"])
        assert failures > 0 and attempts == len(numbers) + failures  # retried until delivered, every one
        await eventually(mock.unacknowledged, lambda rows: not rows, "our CONTRLs through the 500s")
