"""AS2 over real HTTP(S) between two gateway stations: sync and async MDNs, refusals, retries, mutual TLS."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from b2b_gateway.as2 import Headers, as2_party, build_message, check_mdn
from b2b_gateway.errors import (
    AuthenticationError,
    DuplicateDocumentError,
    EndpointUnavailableError,
    SecurityError,
    SignatureRequiredError,
    StoreUnavailableError,
)
from b2b_gateway.security.files import save_entry
from b2b_gateway.security.store import CertEntry, CertStore
from b2b_gateway.settings import HttpSettings, SecuritySettings
from b2b_gateway.transport.https import uvicorn_config
from tests.security.as2_setup import Station, output, profile, wait_for
from tests.security.conftest import Pki, orders
from tests.security.servers import running

POLICY = {
    "require_signature": True,
    "require_encryption": True,
    "sign_outbound": True,
    "encrypt_outbound": True,
    "certificates": ["peer"],
    "trusted_roots": ["root"],
}


def station(pki: Pki, as2_id: str, own: CertEntry, peer: CertEntry, peer_id: str, **channel: object) -> Station:
    store = CertStore(
        [
            CertEntry("root", (pki.root.certificate,)),
            CertEntry("peer", peer.certificates),
            CertEntry("own", own.certificates, own.key),
        ]
    )
    partner = profile(peer_id, our_as2_id=as2_id, channel=dict(channel), signing_key="own", **POLICY)
    return Station(as2_id, store, [partner])


@pytest.fixture
def stations(pki: Pki) -> tuple[Station, Station]:
    gateway = station(pki, "GATEWAY", pki.gateway, pki.partner, "PARTNER", signed_mdn=True)
    partner = station(pki, "PARTNER", pki.partner, pki.gateway, "GATEWAY", signed_mdn=True)
    return gateway, partner


def pointed(station: Station, url: str, **changes: object) -> Station:
    """The station with its (only) partner's AS2 URL set to ``url``."""
    old = station.partners[0]
    chan = old.channels[0].model_copy(update={"url": url, **changes})
    station.partners = [old.model_copy(update={"channels": [chan]})]
    return station


async def test_signed_encrypted_exchange_with_sync_signed_mdn(stations: tuple[Station, Station]) -> None:
    gateway, partner = stations
    with running(partner.app()) as partner_url:
        pointed(gateway, partner_url + "/as2")
        result = await gateway.sender.send(output(orders()), gateway.partners[0], gateway.partners[0].channels[0])
        assert result.status == "delivered" and result.error is None
        assert result.mdn is not None and result.mdn.signed and result.mdn.ok
        [inbound] = partner.received
        assert inbound.payload == orders() and inbound.signed and inbound.encrypted and inbound.filename == "orders.edi"
        # the same Message-ID again: a duplicate, acknowledged with a warning, not handed on twice
        again = await gateway.sender.send(output(orders()), gateway.partners[0], gateway.partners[0].channels[0])
        assert again.status == "delivered" and len(partner.received) == 2  # a fresh Message-ID is no duplicate


async def test_async_mdn_comes_back_to_our_endpoint(stations: tuple[Station, Station]) -> None:
    gateway, partner = stations
    with running(partner.app()) as partner_url, running(gateway.app()) as gateway_url:
        pointed(gateway, partner_url + "/as2", mdn="async", mdn_url=gateway_url + "/as2/mdn")
        result = await gateway.sender.send(output(orders()), gateway.partners[0], gateway.partners[0].channels[0])
        assert result.status == "sent" and result.message_id in gateway.sender.pending
        await wait_for(lambda: gateway.async_mdns, "the asynchronous MDN")
        [(message, receipt)] = gateway.async_mdns
        assert message.message_id == result.message_id and receipt.ok and receipt.signed
        assert receipt.mic == message.mic and not gateway.sender.pending


async def test_refusals_travel_back_in_the_mdn(stations: tuple[Station, Station], pki: Pki) -> None:
    gateway, partner = stations
    with running(partner.app()) as partner_url:
        pointed(gateway, partner_url + "/as2")
        chan = gateway.partners[0].channels[0]
        # the receiving side's pipeline refuses it: its error's disposition comes back
        partner.refuse = AuthenticationError("not allowed")
        result = await gateway.sender.send(output(orders()), gateway.partners[0], chan)
        assert result.status == "refused" and isinstance(result.error, SecurityError)
        assert result.mdn is not None and result.mdn.modifier == "error: authentication-failed"
        # a transient failure over there: HTTP 503, no MDN, we retry later
        partner.refuse = StoreUnavailableError("db locked")
        with pytest.raises(EndpointUnavailableError):
            await gateway.sender.send(output(orders()), gateway.partners[0], chan)
        partner.refuse = None
        # our message unsigned, but the partner requires signatures
        unsigned = gateway.partners[0].model_copy(
            update={"security": gateway.partners[0].security.model_copy(update={"sign_outbound": False})}
        )
        result = await gateway.sender.send(output(orders()), unsigned, chan)
        assert result.status == "refused" and result.mdn is not None
        assert result.mdn.modifier == "error: insufficient-message-security"
        assert isinstance(result.error, SignatureRequiredError)
        assert not partner.received
    with pytest.raises(EndpointUnavailableError, match="unreachable"):
        await gateway.sender.send(output(orders()), gateway.partners[0], gateway.partners[0].channels[0])


async def test_duplicate_message_id_over_http(stations: tuple[Station, Station]) -> None:
    gateway, partner = stations
    with running(partner.app()) as partner_url:
        party = as2_party(gateway.partners[0], gateway.store, our_as2_id="GATEWAY")
        message = build_message(orders(), party)
        async with httpx.AsyncClient() as client:
            first = await client.post(partner_url + "/as2", content=message.body, headers=message.headers)
            second = await client.post(partner_url + "/as2", content=message.body, headers=message.headers)
        assert check_mdn(message, Headers(first.headers.items()), first.content, party).ok
        receipt = check_mdn(message, Headers(second.headers.items()), second.content, party)
        assert receipt.modifier == DuplicateDocumentError.ack.mdn and receipt.ok
        assert len(partner.received) == 1


async def test_as2_over_https_with_client_certificates(pki: Pki, tmp_path: Path) -> None:
    passphrase = "as2-tls-passphrase"
    certs = tmp_path / "certs"
    for entry in (pki.gateway, pki.partner):
        save_entry(certs, entry.name, list(entry.certificates), entry.key, passphrase.encode())
    save_entry(certs, "root", [pki.root.certificate], None, None)
    security = SecuritySettings(key_passphrase=SecretStr(passphrase))
    gateway = station(pki, "GATEWAY", pki.gateway, pki.partner, "PARTNER", client_cert="gateway", ca_cert="root")
    gateway.sender.certs_dir, gateway.sender.security = certs, security
    partner = station(pki, "PARTNER", pki.partner, pki.gateway, "GATEWAY")
    http = HttpSettings(
        tls_cert=certs / "partner.crt.pem", tls_key=certs / "partner.key.pem", tls_client_ca=certs / "root.crt.pem"
    )
    with running(config=uvicorn_config(partner.app(), http, security)) as partner_url:
        pointed(gateway, partner_url + "/as2")
        result = await gateway.sender.send(output(orders()), gateway.partners[0], gateway.partners[0].channels[0])
        assert result.status == "delivered" and partner.received[0].payload == orders()
        no_client_cert = pointed(gateway, partner_url + "/as2", client_cert=None)
        with pytest.raises(EndpointUnavailableError):
            await gateway.sender.send(
                output(orders()), no_client_cert.partners[0], no_client_cert.partners[0].channels[0]
            )


async def test_async_mdn_posted_to_the_message_endpoint_and_no_mdn_asked(stations: tuple[Station, Station]) -> None:
    gateway, partner = stations
    with running(partner.app()) as partner_url, running(gateway.app()) as gateway_url:
        # a signed MDN posted to /as2 itself is recognised as an MDN
        pointed(gateway, partner_url + "/as2", mdn="async", mdn_url=gateway_url + "/as2")
        result = await gateway.sender.send(output(orders()), gateway.partners[0], gateway.partners[0].channels[0])
        await wait_for(lambda: gateway.async_mdns, "the asynchronous MDN on /as2")
        assert gateway.async_mdns[0][0].message_id == result.message_id and gateway.async_mdns[0][1].signed
        # a signed message with no MDN asked is a message, not an MDN
        pointed(gateway, partner_url + "/as2", mdn="none")
        quiet = await gateway.sender.send(output(orders()), gateway.partners[0], gateway.partners[0].channels[0])
        assert quiet.status == "delivered" and quiet.mdn is None and len(partner.received) == 2
