"""The assembled gateway on its embedded defaults: HTTP inbound, duplicates per partner policy, replay and retry."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from structlog.testing import capture_logs

from b2b_gateway.api import create_app
from b2b_gateway.runtime import Gateway, open_operations
from b2b_gateway.settings import Settings
from b2b_gateway.store import MessageFilter
from tests.delivery.conftest import invoice_broken, order, settings_for

TOKEN = "inbound-test-token-123"


def _partners(root: Path) -> None:
    for pid, policy in (("ACME", "reject"), ("LAXCO", "ignore"), ("REPEAT", "accept")):
        folder = root / "mappings" / pid
        folder.mkdir(parents=True)
        (folder / "partner.yaml").write_text(
            f"id: {pid}\nduplicates: {policy}\nidentifiers:\n  - value: GLN-{pid}\n    kind: gln\n"
        )


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    _partners(tmp_path)
    tokens = tmp_path / "tokens"
    tokens.write_text(f"{TOKEN}\nacme-only-token-456 ACME\n")
    settings = settings_for(tmp_path, http={"enabled": True, "port": 0, "inbound_tokens_file": tokens})
    gw = Gateway(settings, app_factory=create_app)
    await gw.start()
    gw.start_background()
    yield gw
    await gw.stop()


async def _post(gw: Gateway, body: bytes, token: str = TOKEN, **headers: str) -> httpx.Response:
    assert gw.http is not None
    async with httpx.AsyncClient(base_url=gw.http.url) as client:
        return await client.post(
            "/api/v1/documents", content=body, headers={"Authorization": f"Bearer {token}", **headers}
        )


async def _erp_files(gw: Gateway, count: int) -> list[dict[str, Any]]:
    folder = gw.settings.erp_outbox
    for _ in range(1000):
        files = sorted(folder.glob("*.json")) if folder.exists() else []
        if len(files) >= count:
            return [json.loads(f.read_text()) for f in files]
        await asyncio.sleep(0.01)
    raise AssertionError(f"expected {count} file(s) in {folder}")


async def test_posting_a_document_answers_with_its_outcome(gateway: Gateway) -> None:
    ok = await _post(gateway, order("PO-100"), **{"X-B2B-Partner": "ACME"})
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert body["state"] in ("routed", "delivered") and body["partner"] == "ACME" and body["business_key"] == "PO-100"
    (erp,) = await _erp_files(gateway, 1)
    assert erp["document_number"] == "PO-100"
    bad = await _post(gateway, invoice_broken())
    assert bad.status_code == 422 and bad.json()["errors"][0]["code"] == "BR-CO-15"
    assert (await _post(gateway, order("PO-101"), token="wrong")).status_code == 401
    scoped = await _post(gateway, order("PO-102"), token="acme-only-token-456", **{"X-B2B-Partner": "LAXCO"})
    assert scoped.status_code == 403


async def test_the_same_idempotency_key_is_the_same_message(gateway: Gateway) -> None:
    first = await _post(gateway, order("PO-200"), **{"Idempotency-Key": "client-key-1"})
    again = await _post(gateway, order("PO-200"), **{"Idempotency-Key": "client-key-1"})
    assert first.json()["id"] == again.json()["id"] and again.status_code == 200
    assert len(await _erp_files(gateway, 1)) == 1


async def test_duplicates_follow_the_partners_policy(gateway: Gateway) -> None:
    assert (await _post(gateway, order("PO-300"), **{"X-B2B-Partner": "ACME"})).status_code == 200
    dup = await _post(gateway, order("PO-300"), **{"X-B2B-Partner": "ACME"})
    assert dup.status_code == 409
    error = dup.json()["errors"][0]
    assert error["code"] == "DUPLICATE" and error["ack"]["contrl"] == "26" and dup.json()["state"] == "duplicate"

    assert (await _post(gateway, order("PO-301"), **{"X-B2B-Partner": "LAXCO"})).status_code == 200
    quiet = await _post(gateway, order("PO-301"), **{"X-B2B-Partner": "LAXCO"})
    assert quiet.status_code == 200 and quiet.json()["state"] == "duplicate"
    assert quiet.json()["errors"][0]["severity"] == "warning"

    assert (await _post(gateway, order("PO-302"), **{"X-B2B-Partner": "REPEAT"})).status_code == 200
    again = await _post(gateway, order("PO-302"), **{"X-B2B-Partner": "REPEAT"})
    assert again.status_code == 200 and again.json()["state"] in ("routed", "delivered")
    docs = await _erp_files(gateway, 4)  # accepted twice: two messages, two idempotency keys
    assert sorted(d["document_number"] for d in docs) == ["PO-300", "PO-301", "PO-302", "PO-302"]


@pytest.mark.parametrize("policy", ["reject", "ignore"])
async def test_the_same_order_in_a_new_interchange_is_a_duplicate_with_nothing_sent(
    tmp_path: Path, policy: str
) -> None:
    """The document-level check (the order number, claimed with the outbox save): a new interchange
    reference, the same order. The copy ends ``duplicate``, nothing of it reaches the ERP, and its
    CONTRL says why (0085 code 26) when the partner's policy rejects."""
    from bench.documents import order as edifact_order

    from b2b_gateway.transport.http.inbound import InboundRequest
    from tests.conftest import ROOT

    shutil.copytree(ROOT / "mappings", tmp_path / "mappings")
    profile = tmp_path / "mappings" / "MOCKBUYER" / "partner.yaml"
    profile.write_text(profile.read_text().replace("duplicates: ignore", f"duplicates: {policy}"))
    gw = Gateway(settings_for(tmp_path))
    await gw.start()
    gw.start_background()
    assert gw.repo is not None
    kinds: list[str | None] = []
    submit = gw.repo.writer.submit

    async def counted(writes: Any = (), kind: str | None = None, arg: Any = None) -> Any:
        kinds.append(kind)
        return await submit(writes, kind, arg)

    gw.repo.writer.submit = counted  # type: ignore[method-assign]
    try:
        first = await gw.submit(InboundRequest(edifact_order(3, "PO-DUP-7", "IC-1")))
        # one commit: the outputs, with the receipt's and the order's duplicate claims
        assert kinds.count("dedup") == 0 and kinds.count("enqueue") == 1
        copy = await gw.submit(InboundRequest(edifact_order(3, "PO-DUP-7", "IC-2")))
        assert first.state.value in ("routed", "delivered") and copy.state.value == "duplicate"
        (error,) = [e for e in copy.errors if e.code == "DUPLICATE"]
        assert error.details["document"] == "order:PO-DUP-7" and error.details["duplicate_of"] == first.id
        assert error.severity == ("error" if policy == "reject" else "warning")
        assert gw.repo is not None
        detail = await gw.repo.get(copy.id)
        assert [o["kind"] for o in detail.outputs] == ["acknowledgment"]  # its CONTRL, no document
        contrl = next(o for o in copy.outputs if o.kind == "acknowledgment").payload
        assert (b"+26'" in contrl or b"+26+" in contrl) == (policy == "reject")
        assert not [e for e in detail.events if e["stage"] == "deliver" and "queued for erp" in e["detail"]]
        await _erp_files(gw, 1)
        await asyncio.sleep(0.2)
        assert len(list(gw.settings.erp_outbox.glob("*.json"))) == 1
    finally:
        await gw.stop()


async def test_a_resend_after_a_rejection_is_not_a_duplicate(gateway: Gateway) -> None:
    broken = json.loads(invoice_broken())
    r1 = await _post(gateway, json.dumps(broken).encode(), **{"X-B2B-Partner": "ACME"})
    assert r1.status_code == 422
    broken["totals"].update(tax_inclusive="177.20", payable="177.20")
    r2 = await _post(gateway, json.dumps(broken).encode(), **{"X-B2B-Partner": "ACME"})
    assert r2.status_code == 200, r2.text  # same invoice number, fixed: goes through


async def test_replay_processes_the_input_again_as_a_linked_message(gateway: Gateway) -> None:
    parked = await _post(gateway, order("PO-400"), **{"X-B2B-Partner": "ACME"})
    original = parked.json()["id"]
    async with open_operations(gateway.settings) as ops:
        replay_id = await ops.replay(original, actor="alice")
    for _ in range(500):
        found = await gateway.repo.list_messages(MessageFilter(business_key="PO-400"))  # type: ignore[union-attr]
        if len(found) == 2 and all(f.state == "delivered" for f in found):
            break
        await asyncio.sleep(0.01)
    by_id = {f.id: f for f in found}
    assert by_id[replay_id].replay_of == original and by_id[replay_id].state == "delivered"
    events = (await gateway.repo.get(original)).events  # type: ignore[union-attr]
    assert any(e["stage"] == "replay" and e["actor"] == "alice" and replay_id in e["detail"] for e in events)


async def test_health_reports_store_and_transport(gateway: Gateway) -> None:
    assert await gateway.health() == {"store": True, "transport": True}


async def test_dropped_files_run_through_the_embedded_queue(gateway: Gateway) -> None:
    (gateway.settings.inbox / "order.json").write_bytes(order("PO-500"))
    (erp,) = await _erp_files(gateway, 1)
    assert erp["document_number"] == "PO-500"
    archived = list(gateway.pickup.archive.iterdir())
    assert len(archived) == 1 and archived[0].name.endswith("-order.json")


async def _serving(gw: Gateway, stop: asyncio.Event) -> asyncio.Task[None]:
    """``gw.serve(stop)`` as a task, once the gateway has started its background work."""
    serving = asyncio.create_task(gw.serve(stop))
    for _ in range(500):
        if gw.worker is not None and gw._tasks:
            break
        await asyncio.sleep(0.01)
    return serving


async def test_a_serving_gateway_keeps_its_start_up_objects_out_of_gc_passes(tmp_path: Path) -> None:
    """``process.gc_freeze``: once serving, what start-up loaded is frozen (full collections stay short);
    ``process.gc_thresholds`` hold while serving (full collections rarer), and are given back after."""
    import gc

    before = gc.get_threshold()
    for freeze, expected in ((False, 0), (True, 1)):
        gc.unfreeze()
        thresholds = (700, 10, 100) if freeze else (900, 11, 12)
        process = {"gc_freeze": freeze, "gc_thresholds": thresholds, "gc_log_ms": 0 if freeze else 10_000}
        gw = Gateway(settings_for(tmp_path / str(freeze), process=process))
        stop = asyncio.Event()
        serving = await _serving(gw, stop)
        try:
            await asyncio.sleep(0.05)
            assert min(gc.get_freeze_count(), 1) == expected
            assert gc.get_threshold() == thresholds
            seen = gw.gc_watch.count[2]
            gc.collect()  # timed by the watch; logged as gc.pause from gc_log_ms (0 here: every pass)
            assert gw.gc_watch.count[2] == seen + 1 and gw.gc_watch.longest_ms[2] > 0
            assert gw.gc_watch.report() >= (1 if freeze else 0) and gw.gc_watch.slow >= (1 if freeze else 0)
        finally:
            stop.set()
            await serving
            gc.unfreeze()  # the test process keeps collecting as before
        assert gw.gc_watch._callback not in gc.callbacks
        assert gc.get_threshold() == before
    assert Settings().process.gc_thresholds == (200_000, 10, 100)
    with pytest.raises(ValidationError, match="at least 1"):
        Settings(process={"gc_thresholds": (0, 10, 10)})


async def test_documents_in_flight_do_not_set_off_young_collections(tmp_path: Path) -> None:
    """The default ``process.gc_thresholds``: a young pass walks every object allocated since the last one
    and still alive, that is every document in flight (5-15 ms a pass through RabbitMQ with 100 in
    flight: 7% of the gateway's CPU at (20000, 10, 100)). 500 orders served 100 at a time set off at most
    one (five at (20000, 10, 100))."""
    from b2b_gateway.transport import Envelope, Topology
    from b2b_gateway.transport.memory import MemoryTransport

    settings = settings_for(tmp_path)
    transport = MemoryTransport(Topology.from_settings(settings.amqp))
    gw = Gateway(settings, transport=transport)
    stop = asyncio.Event()
    serving = await _serving(gw, stop)
    try:
        young = gw.gc_watch.count[0]
        for i in range(500):
            await transport.publish(gw.topology.exchange_in, Envelope(body=order(f"PO-{i}"), message_id=f"{i:032x}"))
        for _ in range(3000):
            if len(transport.published[gw.topology.exchange_erp]) >= 500:
                break
            await asyncio.sleep(0.01)
        assert len(transport.published[gw.topology.exchange_erp]) == 500
        assert gw.gc_watch.count[0] - young <= 1
    finally:
        stop.set()
        await serving


async def test_a_serving_gateway_logs_the_event_loops_stalls(tmp_path: Path) -> None:
    """``process.loop_stall_ms``: a callback holding the loop that long is logged as ``loop.stall``; 0: no watch."""
    import time

    for stall_ms, expected in ((30.0, 1), (0.0, 0)):
        gw = Gateway(settings_for(tmp_path / str(stall_ms), process={"loop_stall_ms": stall_ms}))
        stop = asyncio.Event()
        serving = await _serving(gw, stop)
        try:
            await asyncio.sleep(0.1)
            before = gw.loop_watch.stalls
            with capture_logs() as logged:
                time.sleep(0.12)  # noqa: ASYNC251 - the stall under test: nothing else runs meanwhile
                await asyncio.sleep(0.1)
        finally:
            stop.set()
            await serving
        stalls = [e for e in logged if e["event"] == "loop.stall"]
        assert gw.loop_watch.stalls - before == len(stalls) and min(len(stalls), 1) == expected
        if expected:
            assert stalls[0]["ms"] >= 80 and gw.loop_watch.longest_ms >= 80
    assert Settings().process.loop_stall_ms == 40
