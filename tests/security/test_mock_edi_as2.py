"""Unsigned AS2 with MDNs against the real ``mock-edi`` (a separate process on loopback), both directions.

mock-edi plays MOCKEDI, the supplier; the gateway plays EURODIS, its EDIFACT customer. mock-edi does
not do S/MIME: it refuses signed or encrypted messages, and a signed MDN required of it, each with
its own MDN, and those refusals are checked too.
"""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from b2b_gateway.errors import SecurityError, SignatureRequiredError
from b2b_gateway.security.store import CertEntry, CertStore
from tests.security.as2_setup import Station, eventually, output, profile, wait_for
from tests.security.conftest import Pki, orders
from tests.security.servers import free_port, running


def _start_mock_edi() -> tuple[subprocess.Popen[bytes], str] | None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mockedi", "--host", "127.0.0.1", "--port", str(port), "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            if httpx.get(url + "/_mock/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    proc.kill()
    proc.wait(10)
    return None


@pytest.fixture
def mock_edi() -> Iterator[str]:
    """``mock-edi`` started as its own process, as its command line allows; its base URL.

    The port is picked free just before the start; should another process take it meanwhile, mock-edi
    exits at once and a new port is tried (three times at most).
    """
    for _ in range(3):
        started = _start_mock_edi()
        if started is not None:
            break
    else:
        raise RuntimeError("mock-edi did not start on 127.0.0.1")
    proc, url = started
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(15)


def eurodis(mock: str, **policy: Any) -> Station:
    """The gateway as EURODIS with mock-edi (MOCKEDI) as its AS2 partner."""
    channel = {k: policy.pop(k) for k in ("mdn", "mdn_url", "signed_mdn") if k in policy}
    partner = profile("MOCKEDI", url=mock + "/as2", our_as2_id="EURODIS", channel=channel, **policy)
    return Station("EURODIS", CertStore(), [partner])


async def control(mock: str, method: str, path: str, body: Any = None) -> Any:
    async with httpx.AsyncClient(base_url=mock, timeout=30) as client:
        reply = await client.request(method, path, json=body)
    assert reply.status_code < 400, reply.text
    return reply.json()


async def send(station: Station, payload: bytes) -> Any:
    partner = station.partners[0]
    return await station.sender.send(output(payload), partner, partner.channels[0])


async def test_gateway_sends_orders_to_mock_edi_and_takes_its_mdn(mock_edi: str) -> None:
    station = eurodis(mock_edi, sign_outbound=False)
    result = await send(station, orders("2001", "PO-AS2-1"))
    assert result.status == "delivered" and result.error is None
    assert result.mdn is not None and not result.mdn.signed and result.mdn.disposition_type == "processed"
    assert result.mdn.mic is not None and result.mdn.mic.algorithm == "sha256"  # compared with ours by check_mdn
    assert "Purchase order(s) recorded: PO-AS2-1" in result.mdn.text
    order = await control(mock_edi, "GET", "/_mock/orders/PO-AS2-1")
    assert "PO-AS2-1" in str(order)
    mdns = await control(mock_edi, "GET", "/_mock/mdns")
    ours = [m for m in mdns if m.get("original_id") == result.message_id]
    assert ours and ours[0]["disposition"] == "processed"


async def test_mock_edi_sends_to_our_endpoint_and_accepts_our_mdns(mock_edi: str) -> None:
    station = eurodis(mock_edi, sign_outbound=False)
    with running(station.app()) as gateway:
        await control(mock_edi, "PATCH", "/_mock/partners/EURODIS", {"as2_url": gateway + "/as2"})
        assert (await send(station, orders("2002", "PO-AS2-2"))).status == "delivered"
        # mock-edi answers the order with CONTRL, ORDRSP, DESADV and INVOIC, posted to our AS2 endpoint
        await wait_for(lambda: len(station.received) >= 4, "mock-edi's four documents")

        async def outbox() -> list[dict[str, Any]]:
            rows: list[dict[str, Any]] = await control(mock_edi, "GET", "/_mock/outbox")
            return [r for r in rows if r["partner"] == "EURODIS"]

        rows = await eventually(outbox, lambda rs: all(r["status"] == "delivered" for r in rs), "mock-edi's deliveries")
    assert {r["code"] for r in rows} == {"CONTRL", "ORDRSP", "DESADV", "INVOIC"}
    assert all(r["status"] == "delivered" for r in rows), rows
    assert all(r["note"] == "MDN: automatic-action/MDN-sent-automatically; processed" for r in rows), rows
    kinds = {
        inbound.payload.split(b"UNH+", 1)[1].split(b"+")[1].split(b":")[0]
        for inbound in station.received
        if inbound.payload
    }
    assert kinds == {b"CONTRL", b"ORDRSP", b"DESADV", b"INVOIC"}
    assert all(i.party is not None and i.party.partner_id == "MOCKEDI" and not i.signed for i in station.received)
    # mock-edi recorded our MDNs, with the MIC of what it sent
    mdns = await control(mock_edi, "GET", "/_mock/mdns")
    received = {m["original_id"]: m for m in mdns if m["direction"] == "in"}
    for inbound in station.received:
        assert inbound.payload is not None
        mic = base64.b64encode(hashlib.sha256(inbound.payload).digest()).decode()
        assert received[inbound.message_id]["mic"] == f"{mic}, sha-256"


async def test_async_mdn_from_mock_edi(mock_edi: str) -> None:
    station = eurodis(mock_edi, sign_outbound=False)
    partner = station.partners[0]
    with running(station.app()) as gateway:
        chan = partner.channels[0].model_copy(update={"mdn": "async", "mdn_url": gateway + "/as2/mdn"})
        result = await station.sender.send(output(orders("2003", "PO-AS2-3")), partner, chan)
        assert result.status == "sent"
        await wait_for(lambda: station.async_mdns, "mock-edi's asynchronous MDN")
    [(message, receipt)] = station.async_mdns
    assert message.message_id == result.message_id and receipt.ok and receipt.mic == message.mic


async def test_mock_edi_refusals_come_back_as_errors(mock_edi: str, pki: Pki) -> None:
    # mock-edi has no S/MIME: a signed message is refused with insufficient-message-security
    partner = profile("MOCKEDI", url=mock_edi + "/as2", our_as2_id="EURODIS", sign_outbound=True, signing_key="gw")
    signing = Station("EURODIS", CertStore([CertEntry("gw", pki.gateway.certificates, pki.gateway.key)]), [partner])
    result = await send(signing, orders("2004", "PO-AS2-4"))
    assert result.status == "refused" and isinstance(result.error, SecurityError)
    assert result.mdn is not None and "insufficient-message-security" in (result.mdn.modifier or "").lower()
    # a signed MDN required of it: it answers with an unsigned failure, which we do not take as a receipt
    strict = eurodis(mock_edi, sign_outbound=False, signed_mdn=True)
    with pytest.raises(SignatureRequiredError):
        await send(strict, orders("2005", "PO-AS2-5"))


async def test_our_policy_refuses_mock_edi_and_it_records_our_mdn(mock_edi: str) -> None:
    station = eurodis(mock_edi, sign_outbound=False)
    strict = eurodis(mock_edi, sign_outbound=False, require_signature=True)
    with running(strict.app()) as gateway:
        await control(mock_edi, "PATCH", "/_mock/partners/EURODIS", {"as2_url": gateway + "/as2"})
        assert (await send(station, orders("2006", "PO-AS2-6"))).status == "delivered"

        async def notes() -> list[str]:
            rows: list[dict[str, Any]] = await control(mock_edi, "GET", "/_mock/outbox")
            return [r["note"] for r in rows if r["partner"] == "EURODIS" and r["status"] == "delivered"]

        found = await eventually(notes, lambda ns: len(ns) >= 4, "mock-edi's four deliveries")
    assert len(found) == 4 and not strict.received
    assert all(
        n == "MDN: automatic-action/MDN-sent-automatically; processed/error: insufficient-message-security"
        for n in found
    )
