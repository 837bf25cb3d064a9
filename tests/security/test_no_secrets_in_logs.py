"""A full run logged at DEBUG: keys loaded with a passphrase, the pipeline signing and verifying (and
quarantining), an AS2 exchange over HTTP with a bearer token. No secret may appear in the logs."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from b2b_gateway.observability.logging import configure_logging, get_logger
from b2b_gateway.partners import PartnerDirectory, PartnerProfile, SecurityPolicy
from b2b_gateway.pipeline import Message, Pipeline, PipelineContext, State
from b2b_gateway.routing import DefaultRouter
from b2b_gateway.runtime.security import CmsSigner, CmsVerifier
from b2b_gateway.security.files import load_store, save_entry
from b2b_gateway.security.signature import sign_cms
from b2b_gateway.security.store import CertEntry
from b2b_gateway.settings import LoggingSettings, SecuritySettings, Settings
from b2b_gateway.store import MemoryStore
from tests.security.as2_setup import Station, output, profile
from tests.security.conftest import Pki, orders
from tests.security.servers import running

PASSPHRASE = "the-key-passphrase-nobody-may-see"
TOKEN = "bearer-token-0123456789-secret"
ORDER = (Path(__file__).resolve().parents[1] / "fixtures" / "canonical" / "order.json").read_bytes()


def key_material(pki: Pki) -> list[str]:
    """Fragments that would betray a private key: PEM body lines and the private exponent."""
    out: list[str] = []
    for entry in (pki.gateway, pki.partner):
        assert isinstance(entry.key, rsa.RSAPrivateKey)
        body = entry.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        out.extend(line for line in body.splitlines()[1:-1] if len(line) == 64)
        d = entry.key.private_numbers().d
        out.extend([str(d)[:40], format(d, "x")[:40], base64.b64encode(d.to_bytes(256, "big")).decode()[:40]])
    return out


async def test_no_secret_in_the_logs_of_a_full_run(pki: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("B2B_SECURITY__KEY_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("PARTNER_AS2_TOKEN", TOKEN)
    settings = Settings()
    security: SecuritySettings = settings.security
    logs = io.StringIO()
    secrets = [PASSPHRASE, TOKEN]
    configure_logging(LoggingSettings(format="json", level="DEBUG"), secrets=secrets, stream=logs)
    log = get_logger("test")
    log.info("settings.loaded", settings=settings.model_dump(), passphrase=security.key_passphrase)

    # keys at rest, loaded with the passphrase from the environment
    certs = tmp_path / "certs"
    save_entry(certs, "gw", list(pki.gateway.certificates), pki.gateway.key, security.passphrase())
    save_entry(certs, "eurodis", list(pki.partner.certificates), None, None)
    save_entry(certs, "root", [pki.root.certificate], None, None)
    store = load_store(certs, security.passphrase())

    # the pipeline signs and verifies, and quarantines a tampered document
    partner = PartnerProfile(
        id="EURODIS", security=SecurityPolicy(require_signature=True, certificates=["eurodis"], trusted_roots=["root"])
    )
    ctx = PipelineContext(
        partners=PartnerDirectory([partner]),
        signer=CmsSigner(store, "gw"),
        verifier=CmsVerifier(store),
        store=MemoryStore(),
        router=DefaultRouter(),
    )
    signature = base64.b64encode(sign_cms(ORDER, pki.partner)).decode()
    good = await Pipeline(ctx).run(Message(raw=ORDER, metadata={"partner": "EURODIS", "signature": signature}))
    bad = await Pipeline(ctx).run(
        Message(
            raw=ORDER.replace(b"PO-2026-0001", b"PO-2026-0009"), metadata={"partner": "EURODIS", "signature": signature}
        )
    )
    assert good.state is State.ROUTED, good.errors
    assert bad.state is State.QUARANTINED

    # an AS2 exchange over HTTP, signed and encrypted, with a bearer token on the channel
    policy = {"sign_outbound": True, "encrypt_outbound": True, "certificates": ["peer"], "trusted_roots": ["root"]}
    receiver = Station(
        "PARTNER",
        load_store(certs, security.passphrase()).with_entry(CertEntry("peer", pki.gateway.certificates)),
        [profile("GATEWAY", our_as2_id="PARTNER", **{**policy, "sign_outbound": False, "encrypt_outbound": False})],
    )
    with running(receiver.app()) as url:
        sender_profile = profile(
            "PARTNER", url=url + "/as2", channel={"auth_token_env": "PARTNER_AS2_TOKEN"}, signing_key="gw",
            **{**policy, "certificates": ["gw"]},
        )  # fmt: skip
        sender = Station("GATEWAY", store, [sender_profile])
        sender.sender.security = security
        result = await sender.sender.send(output(orders()), sender_profile, sender_profile.channels[0])
    assert result.status == "delivered", result
    assert receiver.received[0].payload == orders()

    text = logs.getvalue()
    for event in ("settings.loaded", "message.stopped", "as2.sent", "as2.mdn", "as2.received"):
        assert f'"event": "{event}"' in text, f"{event} was not logged"
    assert re.search(r'"authorization": "\*\*\*"', text, re.I), "the Authorization header was logged unredacted"
    assert PASSPHRASE not in text and TOKEN not in text
    assert "PRIVATE KEY" not in text
    leaked = [fragment for fragment in key_material(pki) if fragment in text]
    assert not leaked, f"private key material in the logs: {leaked[:2]}"
