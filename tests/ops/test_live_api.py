"""The API, health and metrics of a running gateway: real HTTP server, real store, real pipeline."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from b2b_gateway._version import __version__
from tests.ops.helpers import API_TOKEN
from tests.ops.live import Live, live_gateway

BEARER = {"Authorization": f"Bearer {API_TOKEN}"}


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[Live]:
    async with live_gateway(tmp_path) as gateway:
        yield gateway


@pytest.fixture
async def client(live: Live) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live.url, headers=BEARER, timeout=30) as c:
        yield c


def metric(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    raise AssertionError(f"no sample {name} {labels}")


async def test_health_endpoints_of_a_running_gateway(live: Live, client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).text == "ok\n"
    r = await client.get("/readyz")
    assert r.status_code == 200 and r.json()["checks"] == {"store": "ok", "broker": "ok", "keys": "ok"}
    certs = live.settings.paths.certs_dir
    (certs / "broken.crt.pem").write_bytes((certs / "ours.crt.pem").read_bytes())
    (certs / "broken.key.pem").write_text(
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nnope\n-----END ENCRYPTED PRIVATE KEY-----\n"
    )
    r = await client.get("/readyz")
    assert r.status_code == 503 and r.json()["checks"]["keys"].startswith("CONFIG_KEYSTORE")


async def test_metrics_of_a_running_gateway(client: httpx.AsyncClient) -> None:
    text = (await client.get("/metrics")).text
    delivered = {"direction": "inbound", "partner": "ACME", "document_type": "order", "status": "delivered"}
    assert metric(text, "b2b_messages_total", **delivered) == 14
    assert metric(text, "b2b_messages_total", status="rejected", document_type="invoice") == 2
    assert metric(text, "b2b_messages_total", status="quarantined", partner="SIGNCO") == 1
    assert metric(text, "b2b_stage_duration_seconds_count", stage="check", direction="inbound") == 16
    assert metric(text, "b2b_unacknowledged_documents", partner="MOCKEDI") == 2
    assert metric(text, "b2b_messages_in_state", state="delivered") == 17
    assert metric(text, "b2b_outbox_pending") == 0 and metric(text, "b2b_dead_lettered") == 0
    assert metric(text, "b2b_certificate_expiry_timestamp_seconds", certificate="mockedi") > 0
    assert metric(text, "b2b_build_info", version=__version__) == 1


async def test_search_show_and_conversation(live: Live, client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/messages", params={"q": "PO-2026-0007"})
    (item,) = r.json()["items"]
    assert item["id"] == live.ids["order7"] and item["state"] == "delivered"
    detail = (await client.get(f"/api/v1/messages/{item['id']}")).json()
    assert detail["canonical"]["document_number"] == "PO-2026-0007"
    assert [e["stage"] for e in detail["events"]][:3] == ["receive", "identify", "verify"]
    assert detail["lineage"][0]["id"] == item["id"]
    broken = (await client.get(f"/api/v1/messages/{live.ids['broken1']}")).json()
    assert broken["errors"][0]["code"] == "BR-CO-15" and broken["errors"][0]["location"]["json_pointer"]
    r = await client.get("/api/v1/messages", params={"state": "rejected", "partner": "ACME"})
    assert r.json()["total"] == 2
    r = await client.get("/api/v1/messages", params={"direction": "outbound"})
    assert {i["business_key"] for i in r.json()["items"]} == {"PO-2026-0501", "PO-2026-0502", "PO-2026-0503"}
    conv = (await client.get("/api/v1/conversations/PO-2026-050")).json()["timeline"]
    assert [bool(t["awaiting_ack"]) for t in conv] == [True, True, False]


async def test_actions_on_the_real_store(live: Live, client: httpx.AsyncClient) -> None:
    original = live.ids["broken1"]
    r = await client.post(f"/api/v1/messages/{original}/replay", json={"reason": "partner fixed the totals"})
    assert r.status_code == 200, r.text
    new = r.json()
    assert new["replay_of"] == original and new["state"] == "rejected"
    trail = (await client.get(f"/api/v1/messages/{original}")).json()["events"]
    assert (trail[-1]["stage"], trail[-1]["actor"], trail[-1]["detail"]) == (
        "replay",
        "api-token",
        "partner fixed the totals",
    )
    r = await client.post(f"/api/v1/messages/{live.ids['quarantined']}/release")
    assert r.status_code == 200 and r.json()["state"] == "delivered"
    assert r.json()["replay_of"] == live.ids["quarantined"]
    r = await client.post(f"/api/v1/messages/{live.ids['order1']}/release")
    assert r.status_code == 409 and r.json()["errors"][0]["code"] == "ACTION_NOT_ALLOWED"
    r = await client.post(f"/api/v1/messages/{live.ids['order1']}/retry")
    assert r.status_code == 409
    r = await client.post(f"/api/v1/messages/{live.ids['broken2']}/cancel", json={"reason": "duplicate by phone"})
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    events = (await client.get(f"/api/v1/messages/{live.ids['broken2']}")).json()["events"]
    assert events[-1]["stage"] == "cancel" and events[-1]["actor"] == "api-token"
    assert (await client.post("/api/v1/messages/0123456789abcdef/replay")).status_code == 404


async def test_the_real_store_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    async with (
        live_gateway(tmp_path, store_url=postgres_url) as live,
        httpx.AsyncClient(base_url=live.url, headers=BEARER, timeout=30) as c,
    ):
        assert (await c.get("/readyz")).status_code == 200
        r = await c.get("/api/v1/messages", params={"q": "INV-2026-7781"})
        assert [i["state"] for i in r.json()["items"]] == ["rejected"]
        stats = (await c.get("/api/v1/stats")).json()
        assert sum(b["received"] for b in stats["throughput"]) == 20 and len(stats["overdue_ack"]) == 2
        r = await c.post(f"/api/v1/messages/{live.ids['broken1']}/replay")
        assert r.status_code == 200 and r.json()["replay_of"] == live.ids["broken1"]
