"""The dashboard's pages over the in-memory twin (the browser tests drive the real thing)."""

from __future__ import annotations

from b2b_gateway.api.users import Role
from b2b_gateway.pipeline.message import Message, State
from tests.ops.conftest import Rig
from tests.ops.helpers import ADMIN_PASSWORD, API_TOKEN


async def login(rig: Rig, user: str = "admin", password: str = ADMIN_PASSWORD) -> str:
    r = await rig.client.post("/login", data={"username": user, "password": password, "next": "/messages"})
    assert r.status_code == 303 and r.headers["location"] == "/messages"
    page = await rig.client.get("/messages")
    return page.text.split('name="csrf_token" value="')[1].split('"')[0]


async def test_pages_need_a_session_and_redirect_back(rig: Rig) -> None:
    r = await rig.client.get("/messages?q=PO-1")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Fmessages%3Fq%3DPO-1"
    r = await rig.client.get("/", headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert r.status_code == 200  # a bearer token is a valid identity for pages too
    r = await rig.client.post("/login", data={"username": "admin", "password": ADMIN_PASSWORD, "next": "//evil"})
    assert r.headers["location"] == "/"


async def test_every_page_renders(rig: Rig) -> None:
    await login(rig)
    for path, needle in [
        ("/", "Throughput and failures per hour"),
        ("/messages", "PO-2024-0042"),
        ("/partners", "Mock EDI Supplier"),
        ("/partners/MOCKEDI", "Acknowledgment status"),
        ("/certificates", "mockedi"),
        ("/conversations/PO-2024-004", "PO-2024-0043"),
        ("/static/htmx.min.js", "htmx"),
        ("/static/style.css", ":root"),
    ]:
        r = await rig.client.get(path)
        assert r.status_code == 200 and needle in r.text, path
    overview = (await rig.client.get("/")).text
    assert "<svg" in overview and "mockedi" in overview and "b2b.in.process" in overview
    assert (await rig.client.get("/partners/NOBODY")).status_code == 404
    assert (await rig.client.get("/messages/nope")).status_code == 404
    assert (await rig.client.get("/static/../../etc/passwd")).status_code == 404


async def test_search_fragment_for_htmx(rig: Rig) -> None:
    await login(rig)
    r = await rig.client.get("/messages", params={"q": "INV-7781"}, headers={"HX-Request": "true", "HX-Target": "rows"})
    assert r.status_code == 200 and "<html" not in r.text and "INV-7781" in r.text and "PO-2024" not in r.text


async def test_detail_escapes_payloads_and_shows_errors(rig: Rig) -> None:
    evil = rig.store.add(Message(raw=b"<script>alert(1)</script>", partner_id="ACME"))
    evil.state = State.REJECTED
    await login(rig)
    page = (await rig.client.get(f"/messages/{evil.id}")).text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    bad = next(m for m in rig.store.messages.values() if m.business_key == "INV-7781")
    page = (await rig.client.get(f"/messages/{bad.id}")).text
    assert "BR-CO-15" in page and "json_pointer <code>/totals</code>" in page and 'data-action="replay"' in page


async def test_replay_from_the_page_with_htmx_and_csrf(rig: Rig) -> None:
    csrf = await login(rig)
    bad = next(m for m in rig.store.messages.values() if m.business_key == "INV-7781")
    r = await rig.client.post(f"/messages/{bad.id}/replay", headers={"HX-Request": "true"})
    assert "refused" in r.text and "CSRF" in r.text
    r = await rig.client.post(f"/messages/{bad.id}/replay", headers={"HX-Request": "true", "X-CSRF-Token": csrf})
    assert "Replay done" in r.text and bad.events[-1].actor == "admin"
    r = await rig.client.post(f"/messages/{bad.id}/release", data={"csrf_token": csrf})
    assert r.status_code == 409  # no htmx: the JSON error with its status


async def test_viewers_see_no_buttons_and_cannot_act(rig: Rig) -> None:
    rig.auth.users.add("vera", Role.VIEWER, "viewer-password")
    csrf = await login(rig, "vera", "viewer-password")
    bad = next(m for m in rig.store.messages.values() if m.business_key == "INV-7781")
    page = (await rig.client.get(f"/messages/{bad.id}")).text
    assert "can look but not act" in page and 'data-action="replay"' not in page
    r = await rig.client.post(f"/messages/{bad.id}/replay", headers={"HX-Request": "true", "X-CSRF-Token": csrf})
    assert "may not replay" in r.text


async def test_logout_needs_csrf_and_clears_the_session(rig: Rig) -> None:
    csrf = await login(rig)
    r = await rig.client.post("/logout", data={"csrf_token": csrf})
    assert r.status_code == 303 and 'b2b_session=""' in r.headers["set-cookie"]
