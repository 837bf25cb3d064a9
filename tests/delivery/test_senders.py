"""Senders deliver one output to one endpoint: HTTP (real server), directory, exchange; and AMQPS settings."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from b2b_gateway.errors import BrokerUnavailableError, DeliveryRefusedError, EndpointUnavailableError, SettingsError
from b2b_gateway.partners import Channel
from b2b_gateway.settings import AmqpSettings
from b2b_gateway.transport import Endpoint, OutboundRequest
from b2b_gateway.transport.amqp import AmqpTransport, tls_context
from b2b_gateway.transport.directory import DirectorySender, PickedFile
from b2b_gateway.transport.http import HttpSender
from b2b_gateway.transport.memory import MemoryTransport
from b2b_gateway.transport.publisher import QueueSender, erp_routing_key


@pytest.fixture
def partner_server() -> Iterator[tuple[str, list[dict[str, str]], list[int]]]:
    """A partner endpoint answering with the statuses the test queues up (200 once they run out)."""
    seen: list[dict[str, str]] = []
    statuses: list[int] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append({**{k.lower(): v for k, v in self.headers.items()}, "body": body.decode()})
            status = statuses.pop(0) if statuses else 200
            answer = b"no thanks" if status >= 400 else b"ok"
            self.send_response(status)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/in", seen, statuses
    server.shutdown()
    server.server_close()


def _request(endpoint: Endpoint, **kw: object) -> OutboundRequest:
    base: dict[str, object] = {
        "idempotency_key": "0123456789abcdef0123456789abcdef",
        "message_id": "fedcba9876543210fedcba9876543210",
        "payload": b'{"document_number": "PO-1"}',
        "content_type": "application/json",
        "format": "canonical-json",
        "kind": "document",
        "endpoint": endpoint,
        "partner_id": "ACME",
        "document_type": "order",
        "business_key": "PO-1",
    }
    base.update(kw)
    return OutboundRequest(**base)  # type: ignore[arg-type]


async def test_http_sender_maps_statuses(
    partner_server: tuple[str, list[dict[str, str]], list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, seen, statuses = partner_server
    monkeypatch.setenv("ACME_TOKEN", "partner-secret-token")
    channel = Channel(kind="http", url=url, auth_token_env="ACME_TOKEN", headers={"X-Extra": "1"})
    endpoint = Endpoint("http", url, channel=channel)
    sender = HttpSender()
    try:
        assert await sender.send(_request(endpoint)) == "HTTP 200"
        first = seen[0]
        assert first["idempotency-key"] == "0123456789abcdef0123456789abcdef"
        assert first["authorization"] == "Bearer partner-secret-token" and first["x-extra"] == "1"
        assert first["x-b2b-document-type"] == "order" and json.loads(first["body"])["document_number"] == "PO-1"
        statuses.extend([503, 429, 400])
        for _ in range(2):
            with pytest.raises(EndpointUnavailableError):
                await sender.send(_request(endpoint))
        with pytest.raises(DeliveryRefusedError, match="HTTP 400: no thanks"):
            await sender.send(_request(endpoint))
        with pytest.raises(EndpointUnavailableError):
            await sender.send(_request(Endpoint("http", "http://127.0.0.1:1/closed")))
    finally:
        await sender.close()


async def test_directory_and_queue_senders(tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    request = _request(Endpoint("directory", str(folder)))
    assert await DirectorySender().send(request) == "file order-PO-1-0123456789abcdef0123456789abcdef.json"
    assert await DirectorySender().send(request)  # again: the same file, rewritten
    assert [p.name for p in folder.iterdir()] == ["order-PO-1-0123456789abcdef0123456789abcdef.json"]

    transport = MemoryTransport()
    await QueueSender(transport).send(_request(Endpoint("erp", "b2b.erp")))
    (published,) = transport.published["b2b.erp"]
    assert published.routing_key == "order.ACME" and published.message_id == request.idempotency_key
    assert published.headers["idempotency-key"] == request.idempotency_key
    await QueueSender(transport).send(_request(Endpoint("queue", "b2b.audit/copies.all")))
    assert transport.published["b2b.audit"][0].routing_key == "copies.all"
    assert erp_routing_key(None, "x.y") == "unknown.x-y"


async def test_a_slow_disk_does_not_stall_the_event_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The directory sender writes and fsyncs in a thread: other documents go on meanwhile."""
    import asyncio
    import os
    import time

    real = os.fsync

    def slow_fsync(fd: int) -> None:  # a network or busy disk: 0.3 s per fsync
        time.sleep(0.3)
        real(fd)

    monkeypatch.setattr(os, "fsync", slow_fsync)
    ticks = 0

    async def other_work() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    beside = asyncio.create_task(other_work())
    try:
        await DirectorySender().send(_request(Endpoint("directory", str(tmp_path / "slow"))))
    finally:
        beside.cancel()
    assert ticks >= 10 and len(list((tmp_path / "slow").iterdir())) == 1


def test_picked_files_have_a_stable_identity(tmp_path: Path) -> None:
    a = PickedFile(tmp_path / "a", "a.json", b"data", 1)
    assert a.identity == PickedFile(tmp_path / "b", "a.json", b"data", 1).identity
    assert a.identity != PickedFile(tmp_path / "a", "a.json", b"data", 2).identity


def _certificate(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "b2b-gateway test client")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "client.pem", tmp_path / "client.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


async def test_amqps_uses_tls_with_a_client_certificate(tmp_path: Path) -> None:
    cert, key = _certificate(tmp_path)
    assert tls_context(AmqpSettings(url="amqp://guest:guest@127.0.0.1/")) is None
    settings = AmqpSettings(url="amqps://guest:guest@127.0.0.1:5672/", tls_ca=cert, tls_cert=cert, tls_key=key)
    ctx = tls_context(settings)
    assert ctx is not None and ctx.minimum_version == ssl.TLSVersion.TLSv1_2 and ctx.verify_mode == ssl.CERT_REQUIRED
    with pytest.raises(SettingsError):
        tls_context(AmqpSettings(url="amqps://h/", tls_cert=tmp_path / "missing.pem"))
    with pytest.raises(BrokerUnavailableError):  # the plain listener does not speak TLS: the handshake fails
        await AmqpTransport(settings).start()
