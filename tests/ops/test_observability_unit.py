"""Readiness, metrics, alerts (with a real webhook server), tracing and users over the in-memory twin."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from b2b_gateway._version import __version__
from b2b_gateway.api.ports import AwaitingAck
from b2b_gateway.api.users import Role, UserStore, hash_password, verify_password
from b2b_gateway.errors import ActionNotAllowedError, AuthenticationError
from b2b_gateway.observability.alerts import Alert, AlertNotifier
from b2b_gateway.observability.metrics import GatewayMetrics
from b2b_gateway.observability.tracing import correlation_from_headers, inject_headers
from b2b_gateway.pipeline import Message, Pipeline, PipelineContext
from b2b_gateway.settings import TracingSettings
from tests.conftest import FIXTURES
from tests.ops.conftest import Rig


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


async def test_readyz_reports_each_dependency(rig: Rig) -> None:
    r = await rig.client.get("/readyz")
    assert r.status_code == 200 and r.json() == {"ready": True, "checks": {"store": "ok", "broker": "ok"}}
    rig.queues.down = True
    r = await rig.client.get("/readyz")
    assert r.status_code == 503 and r.json()["checks"]["broker"].startswith("BROKER_UNAVAILABLE")
    assert (await rig.client.get("/healthz")).status_code == 200


async def test_metrics_exposes_gauges_and_build_info(rig: Rig) -> None:
    rig.store.dead, rig.store.pending = 2, 5
    now = dt.datetime.now(dt.UTC)
    rig.store.awaiting = [AwaitingAck("m1", "MOCKEDI", "order", "PO-1", now - dt.timedelta(hours=3), None)]
    r = await rig.client.get("/metrics")
    assert r.headers["content-type"].startswith("text/plain")
    got = samples(r.text)
    assert got[("b2b_build_info", (("version", __version__),))] == 1
    assert got[("b2b_queue_depth", (("queue", "b2b.in.process"),))] == 3
    assert got[("b2b_dead_lettered", ())] == 2 and got[("b2b_outbox_pending", ())] == 5
    assert got[("b2b_unacknowledged_documents", (("partner", "MOCKEDI"),))] == 1
    expiry = got[("b2b_certificate_expiry_timestamp_seconds", (("certificate", "mockedi"),))]
    assert 11 * 86400 < expiry - now.timestamp() < 13 * 86400


async def test_pipeline_observer_counts_messages_and_stage_durations() -> None:
    metrics = GatewayMetrics("1.0", partners={"MOCKEDI"})
    ctx = PipelineContext(observers=[metrics.observe])
    await Pipeline(ctx).run(Message(raw=(FIXTURES / "canonical" / "order.json").read_bytes()))
    await Pipeline(ctx).run(Message(raw=b'{"document_type": "x"}', partner_id="SOMEONE"))
    got = samples(metrics.render().decode())
    labels = {"direction": "inbound", "document_type": "other", "partner": "other", "status": "rejected"}
    rejected = ("b2b_messages_total", tuple(sorted(labels.items())))
    assert got[rejected] == 1
    assert got[("b2b_stage_duration_seconds_count", (("direction", "inbound"), ("stage", "receive")))] == 2
    assert metrics.partner_label(None) == "unknown" and metrics.partner_label("MOCKEDI") == "MOCKEDI"


class _Hook(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []
    handler = type("Hook", (_Hook,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()
    server.server_close()


async def test_alerts_log_count_and_post_to_the_webhook(rig: Rig, webhook: tuple[str, list[dict[str, Any]]]) -> None:
    url, received = webhook
    rig.ops.notifier = AlertNotifier(rig.ops.metrics, webhook_url=url)
    now = dt.datetime.now(dt.UTC)
    rig.store.awaiting = [
        AwaitingAck("late", "MOCKEDI", "order", "PO-9", now - dt.timedelta(minutes=61), None),
        AwaitingAck("fine", "MOCKEDI", "order", "PO-8", now - dt.timedelta(minutes=5), None),
    ]
    rig.store.dead = 3
    new = await rig.ops.check_alerts(now)
    assert sorted((a.kind, a.key) for a in new) == [
        ("certificate_expiry", "mockedi"),
        ("dead_letters", "dead-letters@3"),
        ("unacknowledged", "late"),
    ]
    assert sorted(a["kind"] for a in received) == ["certificate_expiry", "dead_letters", "unacknowledged"]
    assert next(a for a in received if a["kind"] == "unacknowledged")["details"]["business_key"] == "PO-9"
    assert await rig.ops.check_alerts(now) == []  # same conditions: not raised again, and no growth
    rig.store.dead = 4
    assert [a.kind for a in await rig.ops.check_alerts(now)] == ["dead_letters"]
    got = samples(rig.ops.metrics.render().decode())
    assert got[("b2b_alerts_total", (("kind", "dead_letters"),))] == 2
    assert got[("b2b_alerts_active", (("kind", "unacknowledged"),))] == 1
    assert len(received) == 4


async def test_a_failing_webhook_is_counted_not_fatal(rig: Rig) -> None:
    rig.ops.notifier = AlertNotifier(rig.ops.metrics, webhook_url="http://127.0.0.1:9/refused", timeout_s=2)
    rig.store.dead = 1
    assert len(await rig.ops.check_alerts()) == 2
    assert samples(rig.ops.metrics.render().decode())[("b2b_alert_webhook_failures_total", ())] == 2


async def test_alert_loop_stops_when_asked(rig: Rig) -> None:
    stop = asyncio.Event()
    raise_alert = rig.ops.notifier.raise_alert

    async def raise_and_stop(alert: Alert) -> None:
        await raise_alert(alert)
        stop.set()

    rig.ops.notifier.raise_alert = raise_and_stop  # type: ignore[method-assign]
    await rig.ops.run_alerts(stop)
    assert {a.kind for a in rig.ops.notifier.sent} == {"certificate_expiry"}


def test_passwords_are_scrypt_hashed(tmp_path: Path) -> None:
    encoded = hash_password("a long password")
    assert encoded.startswith("scrypt$16384$8$1$") and "a long password" not in encoded
    assert verify_password("a long password", encoded) and not verify_password("A long password", encoded)
    assert not verify_password("x", "bcrypt$whatever")
    users = UserStore(tmp_path / "users.json", admin_password="bootstrap-pw")
    users.add("olga", Role.OPERATOR, "operator-pw")
    assert (tmp_path / "users.json").stat().st_mode & 0o777 == 0o600
    assert "operator-pw" not in (tmp_path / "users.json").read_text()
    assert users.authenticate("olga", "operator-pw").role is Role.OPERATOR
    assert users.authenticate("admin", "bootstrap-pw").builtin
    with pytest.raises(AuthenticationError):
        users.authenticate("olga", "wrong-password")
    with pytest.raises(ActionNotAllowedError):
        users.add("olga", Role.VIEWER, "another-pw")
    with pytest.raises(ActionNotAllowedError):
        users.add("tim", Role.VIEWER, "short")
    users.set_password("olga", "new-operator-pw")
    assert users.authenticate("olga", "new-operator-pw").name == "olga"
    assert [u.name for u in users.list()] == ["admin", "olga"]


async def test_tracing_puts_every_stage_in_the_correlation_trace() -> None:
    from b2b_gateway.observability.tracing import Tracing

    tracing = Tracing(TracingSettings(enabled=True, exporter="memory"))
    ctx = PipelineContext(observers=[tracing.observe])
    message = Message(raw=(FIXTURES / "canonical" / "order.json").read_bytes())
    headers = inject_headers({}, message.correlation_id)
    assert correlation_from_headers(headers) == message.correlation_id
    assert correlation_from_headers({"traceparent": b"garbage"}) is None
    await Pipeline(ctx).run(message)
    assert tracing.memory is not None
    spans = tracing.memory.get_finished_spans()
    assert len(spans) >= 4 and {s.context.trace_id for s in spans} == {int(message.correlation_id, 16)}
    assert {s.name for s in spans} >= {"stage receive", "stage identify", "stage decode"}
    tracing.shutdown()
