"""HTTPS with mutual TLS (a real uvicorn server), TLS 1.2+ only, and the AMQPS client context."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from b2b_gateway.api import create_app
from b2b_gateway.errors import KeyStoreError
from b2b_gateway.partners.profile import Channel
from b2b_gateway.security.files import save_entry
from b2b_gateway.security.tls import amqp_context, channel_context, client_context, server_context
from b2b_gateway.settings import AmqpSettings, HttpSettings, SecuritySettings
from b2b_gateway.transport.https import https_client, uvicorn_config
from tests.security.conftest import Pki, pem
from tests.security.servers import running

PASS = "tls-key-passphrase-42"


@pytest.fixture
def certs(tmp_path: Path, pki: Pki) -> Path:
    """certs/ with our server identity, a client identity, a foreign client and the root."""
    directory = tmp_path / "certs"
    for entry in (pki.gateway, pki.partner, pki.foreign):
        save_entry(directory, entry.name, list(entry.certificates), entry.key, PASS.encode())
    save_entry(directory, "root", [pki.root.certificate], None, None)
    (directory / "foreign-root.crt.pem").write_bytes(pem([pki.foreign_root.certificate]))
    return directory


def settings(certs: Path) -> tuple[HttpSettings, SecuritySettings]:
    http = HttpSettings(
        tls_cert=certs / "gateway.crt.pem", tls_key=certs / "gateway.key.pem", tls_client_ca=certs / "root.crt.pem"
    )
    return http, SecuritySettings(key_passphrase=SecretStr(PASS))


async def test_mutual_tls_server_and_client(certs: Path) -> None:
    http, security = settings(certs)
    config = uvicorn_config(create_app(), http, security)
    with running(config=config) as url:
        assert url.startswith("https://")
        async with https_client(
            ca=certs / "root.crt.pem",
            cert=certs / "partner.crt.pem",
            key=certs / "partner.key.pem",
            passphrase=PASS.encode(),
        ) as client:
            reply = await client.get(url + "/healthz")
            assert reply.status_code == 200 and reply.text == "ok\n"
            assert reply.extensions["network_stream"].get_extra_info("ssl_object").version() in ("TLSv1.2", "TLSv1.3")
        # no client certificate: refused
        async with https_client(ca=certs / "root.crt.pem") as anonymous:
            with pytest.raises(httpx.TransportError):
                await anonymous.get(url + "/healthz")
        # a client certificate from another CA: refused
        async with https_client(
            ca=certs / "root.crt.pem",
            cert=certs / "foreign.crt.pem",
            key=certs / "foreign.key.pem",
            passphrase=PASS.encode(),
        ) as stranger:
            with pytest.raises(httpx.TransportError):
                await stranger.get(url + "/healthz")
        # TLS 1.1: refused
        old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        old.load_verify_locations(str(certs / "root.crt.pem"))
        old.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        with pytest.warns(DeprecationWarning):
            old.maximum_version = ssl.TLSVersion.TLSv1_1
        old.load_cert_chain(str(certs / "partner.crt.pem"), str(certs / "partner.key.pem"), password=PASS)
        async with httpx.AsyncClient(verify=old) as legacy:
            with pytest.raises(httpx.TransportError):
                await legacy.get(url + "/healthz")
        # a server we do not trust: the client refuses it
        async with https_client(ca=certs / "foreign-root.crt.pem") as suspicious:
            with pytest.raises(httpx.ConnectError):
                await suspicious.get(url + "/healthz")


def test_contexts_are_tls12_or_newer(certs: Path) -> None:
    server = server_context(certs / "gateway.crt.pem", certs / "gateway.key.pem", passphrase=PASS.encode())
    client = client_context(ca=certs / "root.crt.pem")
    assert server.minimum_version == client.minimum_version == ssl.TLSVersion.TLSv1_2
    assert server.verify_mode == ssl.CERT_NONE  # no client CA: no client certificate asked
    with pytest.raises(KeyStoreError, match="cannot load the TLS certificate and key") as info:
        server_context(certs / "gateway.crt.pem", certs / "gateway.key.pem", passphrase=b"wrong")
    assert info.value.hint is not None and "PASSPHRASE" in info.value.hint
    _http, security = settings(certs)
    assert uvicorn_config(create_app(), HttpSettings(), security).ssl_context_factory is None
    chan = channel_context(Channel(kind="as2", client_cert="partner", ca_cert="root"), certs, security)
    assert chan is not None and chan.minimum_version == ssl.TLSVersion.TLSv1_2
    assert channel_context(Channel(kind="as2", url="http://127.0.0.1/as2"), certs, security) is None


async def test_amqps_context_with_client_certificate(certs: Path) -> None:
    security = SecuritySettings(key_passphrase=SecretStr(PASS))
    assert amqp_context(AmqpSettings(url=SecretStr("amqp://guest:guest@127.0.0.1/")), security) is None
    amqp = AmqpSettings(
        url=SecretStr("amqps://guest:guest@127.0.0.1:5671/"),
        tls_ca=certs / "root.crt.pem",
        tls_cert=certs / "partner.crt.pem",
        tls_key=certs / "partner.key.pem",
    )
    context = amqp_context(amqp, security)
    assert context is not None and context.minimum_version == ssl.TLSVersion.TLSv1_2
    # a TLS listener like a broker's AMQPS port, requiring a client certificate
    listener = server_context(
        certs / "gateway.crt.pem", certs / "gateway.key.pem", client_ca=certs / "root.crt.pem", passphrase=PASS.encode()
    )
    seen: list[str] = []

    async def greet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peercert")
        seen.append(dict(x[0] for x in peer["subject"])["commonName"])
        writer.write(b"AMQP\x00\x00\x09\x01")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(greet, "127.0.0.1", 0, ssl=listener)
    port = server.sockets[0].getsockname()[1]
    async with server:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context, server_hostname="127.0.0.1")
        assert await reader.read(8) == b"AMQP\x00\x00\x09\x01"
        writer.close()
    assert seen == ["partner"]
