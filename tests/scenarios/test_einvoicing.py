"""E-invoicing with mock-einvoice: Peppol BIS Billing 3 invoices and the Peppol invoice responses, both ways.

* Our invoices: the ERP's canonical invoice becomes a UBL invoice POSTed to mock-einvoice's buyer,
  which holds it to EN 16931 and Peppol's rules; the buyer's invoice responses (received on arrival,
  then accepted, rejected with a reason, paid) come to the gateway's webhook, are matched to the
  invoice and reach the ERP as canonical status documents.
* Their invoices: mock-einvoice's supplier (Globex GmbH) bills an order and POSTs the UBL invoice to
  the gateway, which delivers it to the ERP; the ERP's own status documents (accepted, paid, or
  rejected with a reason) become Peppol invoice responses that the supplier takes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from tests.scenarios.harness import QUICK_RETRY, Scenario, canonical
from tests.scenarios.mocks import MockEinvoice, eventually, free_port

US = {
    "name": "Eurodis Handels GmbH",
    "identifiers": [{"value": "4012345000016", "scheme": "0088"}],
    "electronic_address": {"value": "4012345000016", "scheme": "0088"},
}
GLOBEX = {
    "name": "Globex GmbH",
    "identifiers": [{"value": "4012345000009", "scheme": "0088"}],
    "electronic_address": {"value": "4012345000009", "scheme": "0088"},
}


@asynccontextmanager
async def peppol(tmp_path: Path, vhost: str) -> AsyncIterator[tuple[Scenario, MockEinvoice]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    profile = {
        "channels": [
            {"name": "invoices", "kind": "http", "url": base + "/invoices"},
            {"name": "responses", "kind": "http", "url": base + "/responses"},
        ],
        "retry": QUICK_RETRY,
    }
    async with Scenario(tmp_path, vhost, partners={"MOCKEINVOICE": profile}) as s:
        mock = MockEinvoice.start(
            "--seller-url",
            s.webhook,
            "--buyer-url",
            s.webhook,
            "--answers",
            "always",
            "--clock",
            "2026-11-02T09:00",
            port=port,
            log=tmp_path / "mock-einvoice.log",
        )
        try:
            yield s, mock
        finally:
            await mock.close()


def our_invoice(number: str) -> dict[str, Any]:
    return canonical("PEPPOLCO", "invoice-out", document_number=number, issue_date="2026-11-02", due_date="2026-12-02")


def invoice_response(number: str, invoice: dict[str, Any], status: str, code: str, **more: Any) -> dict[str, Any]:
    """The ERP's answer to a supplier's invoice: a canonical status document of kind invoice_response."""
    return {
        "document_type": "status",
        "document_number": number,
        "issue_date": "2026-11-02",
        "kind": "invoice_response",
        "status": status,
        "status_code": code,
        "referenced_document": {
            "id": invoice["document_number"],
            "issue_date": invoice["issue_date"],
            "document_type": invoice["invoice_type_code"],
        },
        "sender": US,
        "receiver": GLOBEX,
        **more,
    }


async def test_our_invoice_and_the_buyers_responses(tmp_path: Path, vhost: str) -> None:
    async with peppol(tmp_path, vhost) as (s, mock):
        await s.erp.publish(our_invoice("INV-PEP-1"), "MOCKEINVOICE", "erp-inv-pep-1")
        await s.erp.publish(our_invoice("INV-PEP-2"), "MOCKEINVOICE", "erp-inv-pep-2")
        await s.sent("invoice", "INV-PEP-1")
        await s.sent("invoice", "INV-PEP-2")
        held = await mock.call("GET", "/_mock/invoices")
        ids = {i["number"]: i["id"] for i in held}
        assert {i["verdict"] for i in held} == {"valid"}
        # Acknowledged (AB) on arrival, then accepted and paid; the second rejected with a reason.
        await mock.call("POST", f"/_mock/invoices/{ids['INV-PEP-1']}/responses", {"code": "AP"})
        await mock.call("POST", f"/_mock/invoices/{ids['INV-PEP-1']}/responses", {"code": "PD"})
        reason = {"code": "REF", "text": "No purchase order PO-PEPPOL-0042 known here."}
        await mock.call("POST", f"/_mock/invoices/{ids['INV-PEP-2']}/responses", {"code": "RE", "reasons": [reason]})
        await s.erp.wait("the five invoice responses", status=5)
        said = sorted(
            (m.document["referenced_document"]["id"], m.document["status"]) for m in s.erp.of("status", "MOCKEINVOICE")
        )
        assert said == [
            ("INV-PEP-1", "accepted"),
            ("INV-PEP-1", "paid"),
            ("INV-PEP-1", "received"),
            ("INV-PEP-2", "received"),
            ("INV-PEP-2", "rejected"),
        ]
        rejected = next(m for m in s.erp.of("status") if m.document["status"] == "rejected")
        assert rejected.document["kind"] == "invoice_response"
        assert (
            rejected.document["reasons"][0]["code"] == "REF"
            and "PO-PEPPOL-0042" in rejected.document["reasons"][0]["text"]
        )
        acknowledges = rejected.document["extensions"]["acknowledges"]
        assert [a["business_key"] for a in acknowledges] == ["INV-PEP-2"]

        timeline = await s.api("/api/v1/invoices/INV-PEP-1/timeline")
        assert [e["milestone"] for e in timeline["entries"]] == [
            "invoiced",
            "invoice received",
            "invoice accepted",
            "invoice paid",
        ]
        assert timeline["entries"][0]["ack_status"] == "paid"
        second = await s.api("/api/v1/invoices/INV-PEP-2/timeline")
        assert second["rejected_by_partner"] is True
        sent = await s.sent("invoice", "INV-PEP-2")
        assert (await s.detail(sent.id)).summary.last_error.startswith("[PARTNER_REJECTED]")  # type: ignore[union-attr]
        assert not await s.api("/api/v1/acknowledgments/awaiting")


async def test_a_suppliers_invoice_and_our_responses(tmp_path: Path, vhost: str) -> None:
    async with peppol(tmp_path, vhost) as (s, mock):
        buyer = {
            "name": "Eurodis Handels GmbH",
            "endpoint": "0088:4012345000016",
            "vat": "DE987654321",
            "street": "Hafenstrasse 12",
            "city": "Hamburg",
            "postal_code": "20457",
            "country": "DE",
        }
        for number in ("PO-PEP-7", "PO-PEP-8"):
            order = await mock.call(
                "POST",
                "/_mock/orders",
                {
                    "number": number,
                    "buyer": buyer,
                    "lines": [{"line": "1", "name": "Widget", "quantity": 40, "unit": "C62", "price": "20.00"}],
                },
            )
            billed = await mock.call("POST", f"/_mock/orders/{order['id']}/invoices", {})
            assert billed["delivery"]["status"] == 200, billed  # our webhook took it
        await s.erp.wait("Globex's invoices", invoice=2)
        first, second = sorted(s.erp.of("invoice", "MOCKEINVOICE"), key=lambda m: m.document["document_number"])
        assert first.document["seller"]["name"] == "Globex GmbH" and first.document["order_reference"] == "PO-PEP-7"
        assert first.document["totals"]["payable"] == "952.00"

        answers = [
            (first.document, "IR-1", "accepted", "AP", {}),
            (first.document, "IR-2", "paid", "PD", {}),
            (
                second.document,
                "IR-3",
                "rejected",
                "RE",
                {"reasons": [{"code": "QTY", "text": "40 ordered, 30 received"}]},
            ),
        ]
        for sent_so_far, (invoice, number, status, code, more) in enumerate(answers, 1):
            # one at a time, in order: the supplier ignores a response that comes out of order
            await s.erp.publish(
                invoice_response(number, invoice, status, code, **more), "MOCKEINVOICE", f"erp-{number}"
            )
            await eventually(
                lambda: s.messages(direction="outbound", document_type="status", state=["delivered"]),
                lambda ms, n=sent_so_far: len(ms) == n,  # type: ignore[misc]
                f"our response {number} taken by the supplier",
            )
        sent = {row["number"]: row for row in await mock.call("GET", "/_mock/sent")}
        assert sent[first.document["document_number"]]["status"] == "PD"
        assert sent[second.document["document_number"]]["status"] == "RE"
        detail = await mock.call("GET", f"/_mock/sent/{sent[second.document['document_number']]['id']}")
        assert detail["responses"][-1]["code"] == "RE", detail
        timeline = await s.api(f"/api/v1/invoices/{first.document['document_number']}/timeline")
        assert [(e["direction"], e["milestone"]) for e in timeline["entries"]] == [
            ("inbound", "invoiced"),
            ("outbound", "invoice accepted"),
            ("outbound", "invoice paid"),
        ]
        order_timeline = await s.api("/api/v1/orders/PO-PEP-7/timeline")
        assert [e["milestone"] for e in order_timeline["entries"]] == ["invoiced", "invoice accepted", "invoice paid"]
