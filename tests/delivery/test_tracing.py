"""One trace per document across queues: the W3C trace context travels in message and HTTP headers.

The real OpenTelemetry SDK with its in-memory exporter, real RabbitMQ (a private vhost), the real store.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import aio_pika
import httpx

from b2b_gateway.observability.tracing import Tracing, outgoing_trace, parse_traceparent, trace_context
from b2b_gateway.runtime import Gateway, open_operations
from b2b_gateway.runtime.context import build_context
from b2b_gateway.settings import AmqpSettings, Settings
from b2b_gateway.transport.amqp import AmqpTransport
from b2b_gateway.transport.base import Endpoint, Envelope, Headers
from b2b_gateway.transport.http import HttpSender
from b2b_gateway.transport.topology import Topology
from tests.delivery.conftest import order, settings_for
from tests.delivery.test_senders import _request, partner_server  # noqa: F401 (a fixture)

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"
TOKEN = "trace-test-token-123"


def _setup(root: Path, **sections: Any) -> Settings:
    folder = root / "mappings" / "ACME"
    folder.mkdir(parents=True)
    (folder / "partner.yaml").write_text("id: ACME\nidentifiers:\n  - value: GLN-ACME\n    kind: gln\n")
    return settings_for(root, **sections)


def _traced(settings: Settings) -> tuple[Gateway, Tracing]:
    """A gateway whose pipeline reports its stages to a tracer with an in-memory exporter."""
    gateway = Gateway(settings)
    tracing = Tracing(settings.tracing)
    ctx = build_context(settings, partners=gateway.partners, repository=gateway.repository)
    ctx.observers.append(tracing.observe)
    gateway.context = ctx
    return gateway, tracing


async def _publish(settings: Settings, body: bytes, headers: dict[str, Any]) -> None:
    publisher = AmqpTransport(settings.amqp, Topology.from_settings(settings.amqp), connection_name="test publisher")
    await publisher.start()
    try:
        await publisher.publish("b2b.in", Envelope(body, "erp-side-id-1", routing_key="test", headers=headers))
    finally:
        await publisher.close()


async def _erp_messages(vhost: str) -> list[aio_pika.abc.AbstractIncomingMessage]:
    connection = await aio_pika.connect(vhost)
    try:
        channel = await connection.channel()
        queue = await channel.get_queue("b2b.erp", ensure=True)
        out = []
        while (msg := await queue.get(fail=False, no_ack=True)) is not None:
            out.append(msg)
        return out
    finally:
        await connection.close()


def _amqp(vhost: str) -> dict[str, Any]:
    return {"url": vhost, "retry_delays_ms": AmqpSettings().retry_delays_ms}


async def test_a_document_keeps_its_trace_from_the_inbound_queue_to_the_erp_queue(tmp_path: Path, vhost: str) -> None:
    settings = _setup(tmp_path, amqp=_amqp(vhost), tracing={"enabled": True, "exporter": "memory"})
    gateway, tracing = _traced(settings)
    headers = {"traceparent": f"00-{TRACE}-{PARENT}-01", "tracestate": "erp=t61rcWkgMzE", Headers.PARTNER: "ACME"}
    await _publish(settings, order("PO-TRACE-1"), headers)

    (message,) = await gateway.run_once()
    assert message.state.value == "delivered"
    assert message.metadata.get("traceparent") == f"00-{TRACE}-{PARENT}-01", message.metadata  # stored
    assert message.metadata["tracestate"] == "erp=t61rcWkgMzE"

    assert tracing.memory is not None
    spans = tracing.memory.get_finished_spans()
    assert len(spans) >= 5
    assert {f"{s.context.trace_id:032x}" for s in spans} == {TRACE}
    assert {f"{s.parent.span_id:016x}" for s in spans if s.parent is not None} == {PARENT}
    assert {"stage route", "stage store"} <= {s.name for s in spans}
    tracing.shutdown()

    (erp,) = await _erp_messages(vhost)
    parsed = parse_traceparent(erp.headers["traceparent"])
    assert parsed is not None and parsed[0] == TRACE and parsed[1] != PARENT and parsed[2] == "01"
    assert erp.headers["tracestate"] == "erp=t61rcWkgMzE"
    assert erp.headers[Headers.MESSAGE_ID] == message.id

    async with open_operations(settings) as ops:  # a replay joins the original's trace
        replay_id = await ops.replay(message.id, actor="test")
    again, tracing = _traced(settings)
    (replayed,) = await again.run_once()
    assert replayed.id == replay_id and replayed.metadata["traceparent"] == f"00-{TRACE}-{PARENT}-01"
    assert tracing.memory is not None
    assert {f"{s.context.trace_id:032x}" for s in tracing.memory.get_finished_spans()} == {TRACE}
    tracing.shutdown()


async def test_without_an_incoming_trace_the_correlation_id_is_the_trace(tmp_path: Path, vhost: str) -> None:
    settings = _setup(tmp_path, amqp=_amqp(vhost), tracing={"enabled": True, "exporter": "memory"})
    gateway, tracing = _traced(settings)
    await _publish(settings, order("PO-TRACE-2"), {Headers.PARTNER: "ACME", Headers.CORRELATION_ID: TRACE})
    (message,) = await gateway.run_once()
    assert tracing.memory is not None
    assert {f"{s.context.trace_id:032x}" for s in tracing.memory.get_finished_spans()} == {TRACE}
    tracing.shutdown()
    (erp,) = await _erp_messages(vhost)
    assert parse_traceparent(erp.headers["traceparent"]) is not None
    assert erp.headers["traceparent"].split("-")[1] == TRACE == message.correlation_id


async def test_with_tracing_off_no_trace_context_is_kept_or_sent(tmp_path: Path, vhost: str) -> None:
    settings = _setup(tmp_path, amqp=_amqp(vhost))
    await _publish(settings, order("PO-TRACE-3"), {"traceparent": f"00-{TRACE}-{PARENT}-01", Headers.PARTNER: "ACME"})
    (message,) = await Gateway(settings).run_once()
    assert message.state.value == "delivered" and "traceparent" not in message.metadata
    (erp,) = await _erp_messages(vhost)
    assert "traceparent" not in (erp.headers or {}) and "tracestate" not in (erp.headers or {})


async def test_a_posted_document_continues_the_callers_trace(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text(f"{TOKEN}\n")
    settings = _setup(
        tmp_path,
        http={"enabled": True, "port": 0, "inbound_tokens_file": tokens},
        tracing={"enabled": True, "exporter": "memory"},
    )
    gateway, tracing = _traced(settings)
    await gateway.start()
    try:
        assert gateway.http is not None
        async with httpx.AsyncClient(base_url=gateway.http.url) as client:
            r = await client.post(
                "/api/v1/documents",
                content=order("PO-TRACE-4"),
                headers={
                    "Authorization": f"Bearer {TOKEN}",
                    "X-B2B-Partner": "ACME",
                    "traceparent": f"00-{TRACE.upper()}-{PARENT}-01",  # upper case is tolerated, stored lower
                },
            )
        assert r.status_code == 200, r.text
        assert gateway.repo is not None
        stored = await gateway.repo.load_message(r.json()["id"])
        assert stored.metadata["traceparent"] == f"00-{TRACE}-{PARENT}-01"
    finally:
        await gateway.stop()
    assert tracing.memory is not None
    assert {f"{s.context.trace_id:032x}" for s in tracing.memory.get_finished_spans()} == {TRACE}
    tracing.shutdown()


_WITHOUT_OTEL = """
import importlib.abc, sys

class NoOpenTelemetry(importlib.abc.MetaPathFinder):  # as if the tracing extra were not installed
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "opentelemetry":
            raise ImportError(f"No module named {name!r}")
        return None

sys.meta_path.insert(0, NoOpenTelemetry())
# the gateway's own modules (FastAPI, of the API, imports OpenTelemetry itself when it is installed)
import b2b_gateway.pipeline.stages, b2b_gateway.runtime.delivery, b2b_gateway.transport.amqp
import b2b_gateway.transport.publisher, b2b_gateway.as2.inbound
from b2b_gateway.errors import SettingsError
from b2b_gateway.observability.tracing import build_tracing, continue_trace, outgoing_trace, trace_context
from b2b_gateway.settings import TracingSettings

assert build_tracing(TracingSettings()) is None
meta = trace_context({"traceparent": "00-%s-%s-01" % (TRACE, PARENT)})
continue_trace(meta, "c" * 32, "m" * 32)
assert outgoing_trace(meta, "o1")["traceparent"].startswith("00-" + TRACE)
try:
    build_tracing(TracingSettings(enabled=True))
except SettingsError as exc:
    assert "not installed" in exc.message
else:
    raise AssertionError("tracing enabled without OpenTelemetry must be refused")
"""


def test_without_the_tracing_extra_nothing_needs_opentelemetry() -> None:
    code = f"TRACE, PARENT = {TRACE!r}, {PARENT!r}\n" + _WITHOUT_OTEL
    env = {k: v for k, v in os.environ.items() if not k.startswith("B2B_")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert out.returncode == 0, out.stderr


async def test_a_partner_http_endpoint_receives_the_trace(
    partner_server: tuple[str, list[dict[str, str]], list[int]],  # noqa: F811 (the imported fixture)
) -> None:
    url, seen, _ = partner_server
    meta = trace_context({"traceparent": f"00-{TRACE}-{PARENT}-01", "tracestate": "erp=1"})
    sender = HttpSender()
    try:
        await sender.send(_request(Endpoint("http", url), headers=outgoing_trace(meta, "output-1")))
    finally:
        await sender.close()
    parsed = parse_traceparent(seen[0]["traceparent"])
    assert parsed is not None and parsed[0] == TRACE and seen[0]["tracestate"] == "erp=1"
