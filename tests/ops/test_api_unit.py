"""The REST API over the in-memory twin: authentication, roles, CSRF, filters, actions in the audit trail."""

from __future__ import annotations

from b2b_gateway.api.users import Role
from b2b_gateway.pipeline.message import State
from tests.ops.conftest import Rig
from tests.ops.helpers import ADMIN_PASSWORD, API_TOKEN

BEARER = {"Authorization": f"Bearer {API_TOKEN}"}


async def test_everything_needs_authentication(rig: Rig) -> None:
    r = await rig.client.get("/api/v1/messages")
    assert r.status_code == 401 and r.json()["errors"][0]["code"] == "UNAUTHENTICATED"
    assert r.headers["www-authenticate"] == "Bearer"
    r = await rig.client.get("/api/v1/messages", headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401


async def test_list_filter_and_search_by_business_key(rig: Rig) -> None:
    r = await rig.client.get("/api/v1/messages", headers=BEARER)
    assert r.status_code == 200 and r.json()["total"] == 4
    r = await rig.client.get("/api/v1/messages", params={"q": "PO-2024-0042"}, headers=BEARER)
    (item,) = r.json()["items"]
    assert item["business_key"] == "PO-2024-0042" and item["document_type"] == "order_response"
    r = await rig.client.get("/api/v1/messages", params={"state": "rejected"}, headers=BEARER)
    assert [i["business_key"] for i in r.json()["items"]] == ["INV-7781"]
    assert r.json()["items"][0]["error_count"] == 1
    params = {"partner": "MOCKEDI", "document_type": "order"}
    r = await rig.client.get("/api/v1/messages", params=params, headers=BEARER)
    assert [i["business_key"] for i in r.json()["items"]] == ["PO-2024-0043"]


async def test_show_has_lineage_raw_errors_and_trail(rig: Rig) -> None:
    child = next(m for m in rig.store.messages.values() if m.business_key == "PO-2024-0042")
    r = await rig.client.get(f"/api/v1/messages/{child.id}", headers=BEARER)
    body = r.json()
    assert [x["id"] for x in body["lineage"]] == [child.parent_id, child.id]
    assert body["raw"]["content"].startswith("UNH+1+ORDRSP") and body["signature"] == {"present": False}
    assert [e["stage"] for e in body["events"]] == ["map", "deliver"]
    bad = next(m for m in rig.store.messages.values() if m.business_key == "INV-7781")
    errors = (await rig.client.get(f"/api/v1/messages/{bad.id}", headers=BEARER)).json()["errors"]
    assert errors[0]["code"] == "BR-CO-15" and errors[0]["location"] == {"json_pointer": "/totals"}
    raw = await rig.client.get(f"/api/v1/messages/{bad.id}/raw", headers=BEARER)
    assert raw.content == bad.raw
    assert (await rig.client.get("/api/v1/messages/nope", headers=BEARER)).status_code == 404


async def test_actions_are_audited_with_the_actor(rig: Rig) -> None:
    failed = next(m for m in rig.store.messages.values() if m.state is State.FAILED)
    r = await rig.client.post(f"/api/v1/messages/{failed.id}/retry", json={"reason": "endpoint back"}, headers=BEARER)
    assert r.status_code == 200 and r.json()["state"] == "delivered"
    event = failed.events[-1]
    assert (event.stage, event.actor, event.detail) == ("retry", "api-token", "endpoint back")
    r = await rig.client.post(f"/api/v1/messages/{failed.id}/release", headers=BEARER)
    assert r.status_code == 409 and r.json()["errors"][0]["code"] == "ACTION_NOT_ALLOWED"
    r = await rig.client.post(f"/api/v1/messages/{failed.id}/explode", headers=BEARER)
    assert r.status_code == 422


async def test_sessions_roles_and_csrf(rig: Rig) -> None:
    rig.auth.users.add("vera", Role.VIEWER, "viewer-password")
    r = await rig.client.post("/login", data={"username": "vera", "password": "viewer-password", "next": "/"})
    assert r.status_code == 303 and "b2b_session" in r.headers["set-cookie"]
    assert "HttpOnly" in r.headers["set-cookie"] and "SameSite=strict" in r.headers["set-cookie"]
    me = await rig.client.get("/api/v1/me")
    assert me.json() == {"name": "vera", "role": "viewer", "via": "session"}
    failed = next(m for m in rig.store.messages.values() if m.state is State.FAILED)
    r = await rig.client.post(f"/api/v1/messages/{failed.id}/retry")
    assert r.status_code == 403 and r.json()["errors"][0]["code"] == "FORBIDDEN"
    rig.client.cookies.clear()
    r = await rig.client.post("/login", data={"username": "admin", "password": ADMIN_PASSWORD})
    assert r.status_code == 303
    r = await rig.client.post(f"/api/v1/messages/{failed.id}/retry")
    assert r.status_code == 403 and "CSRF" in r.json()["errors"][0]["message"]
    page = await rig.client.get(f"/messages/{failed.id}")
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    r = await rig.client.post(f"/api/v1/messages/{failed.id}/retry", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and failed.events[-1].actor == "admin"


async def test_wrong_password_and_tampered_cookie(rig: Rig) -> None:
    r = await rig.client.post("/login", data={"username": "admin", "password": "nope-nope"})
    assert r.status_code == 401 and "wrong user name or password" in r.text
    rig.client.cookies.set("b2b_session", "eyJ1IjoiYWRtaW4ifQ.forged")
    assert (await rig.client.get("/api/v1/me")).status_code == 401
    assert (await rig.client.get("/")).status_code == 303


async def test_partners_certificates_queues_stats_conversation(rig: Rig) -> None:
    partners = (await rig.client.get("/api/v1/partners", headers=BEARER)).json()
    assert [p["id"] for p in partners] == ["ACME", "MOCKEDI"]
    detail = (await rig.client.get("/api/v1/partners/MOCKEDI", headers=BEARER)).json()
    assert detail["profile"]["channels"][0]["headers"] == {"Authorization": "***"}
    assert {m["business_key"] for m in detail["recent"]} >= {"PO-2024-0042", "PO-2024-0043"}
    certs = (await rig.client.get("/api/v1/certificates", headers=BEARER)).json()
    assert certs[0]["name"] == "mockedi" and certs[0]["partner"] == "MOCKEDI" and 11 < certs[0]["days_left"] < 13
    queues = (await rig.client.get("/api/v1/queues", headers=BEARER)).json()
    assert queues[1] == {"name": "b2b.in.process.dlq", "messages": 1, "consumers": 0, "dead_letter": True}
    stats = (await rig.client.get("/api/v1/stats", params={"hours": 3}, headers=BEARER)).json()
    assert sum(b["received"] for b in stats["throughput"]) == 4
    assert stats["states"]["rejected"] == 1 and [c["name"] for c in stats["certificates_expiring"]] == ["mockedi"]
    conv = (await rig.client.get("/api/v1/conversations/PO-2024-004", headers=BEARER)).json()
    assert [t["business_key"] for t in conv["timeline"]] == ["PO-2024-0042", "PO-2024-0043"]


async def test_openapi_lists_the_api(rig: Rig) -> None:
    paths = (await rig.client.get("/api/openapi.json")).json()["paths"]
    assert {"/api/v1/messages", "/api/v1/messages/{message_id}/{action}", "/readyz", "/metrics"} <= set(paths)
    assert "/login" not in paths
