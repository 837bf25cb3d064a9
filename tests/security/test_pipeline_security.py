"""The Signer and Verifier ports in the pipeline: archived signatures, unwrapping, quarantine with the right ack."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from b2b_gateway.as2 import As2Party, Inbound
from b2b_gateway.errors import (
    CertificateExpiredError,
    ContentTamperedError,
    EncryptionRequiredError,
    SecurityError,
    SignatureRequiredError,
)
from b2b_gateway.mapping.canonical_json import dump_canonical
from b2b_gateway.partners import PartnerDirectory, PartnerProfile, SecurityPolicy
from b2b_gateway.pipeline import Message, Pipeline, PipelineContext, State
from b2b_gateway.routing import DefaultRouter
from b2b_gateway.runtime.security import CmsSigner, CmsVerifier, pipeline_handler, secure_inbound
from b2b_gateway.security.envelope import encrypt_cms
from b2b_gateway.security.jws import verify_jws
from b2b_gateway.security.signature import sign_cms, verify_cms
from b2b_gateway.security.store import CertEntry, CertStore
from b2b_gateway.store import MemoryStore
from tests.security.conftest import Pki

ORDER = (Path(__file__).resolve().parents[1] / "fixtures" / "canonical" / "order.json").read_bytes()


def context(pki: Pki, **policy: Any) -> PipelineContext:
    store = CertStore(
        [
            CertEntry("root", (pki.root.certificate,)),
            CertEntry("gw", pki.gateway.certificates, pki.gateway.key),
            CertEntry("eurodis", pki.partner.certificates),
            CertEntry("eurodis-old", pki.expired.certificates),
        ]
    )
    partner = PartnerProfile(
        id="EURODIS", security=SecurityPolicy(certificates=["eurodis"], trusted_roots=["root"], **policy)
    )
    return PipelineContext(
        partners=PartnerDirectory([partner]),
        signer=CmsSigner(store, "gw"),
        verifier=CmsVerifier(store),
        store=MemoryStore(),
        router=DefaultRouter(),
    )


def message(raw: bytes = ORDER, **metadata: str) -> Message:
    return Message(raw=raw, channel="test", metadata={"partner": "EURODIS", **metadata})


def detached(pki: Pki, data: bytes = ORDER, signer: CertEntry | None = None) -> str:
    return base64.b64encode(sign_cms(data, signer or pki.partner)).decode()


async def test_signed_document_is_verified_and_our_signature_archived(pki: Pki) -> None:
    ctx = context(pki, require_signature=True, signature_algorithm="rsa-pss-sha256")
    msg = await Pipeline(ctx).run(message(signature=detached(pki)), stop_after="store")
    assert msg.state is State.STORED, msg.errors
    assert msg.metadata["security.signer"] == pki.partner.fingerprint and msg.metadata["security.signed"] == "true"
    assert msg.signature is not None and msg.canonical is not None
    check = verify_cms(msg.signature, dump_canonical(msg.canonical), certificates=[pki.gateway.certificate])
    assert check.signer == pki.gateway.certificate


async def test_jws_when_the_partner_asks(pki: Pki) -> None:
    msg = await Pipeline(context(pki, jws=True)).run(message(), stop_after="store")
    assert msg.signature is not None and msg.canonical is not None
    token = msg.signature.decode()
    assert (
        verify_jws(dump_canonical(msg.canonical), token, trusted_roots=[pki.root.certificate])
        == pki.gateway.certificate
    )


@pytest.mark.parametrize(
    ("policy", "build", "error"),
    [
        (
            {},
            lambda pki: message(raw=ORDER.replace(b"PO-2026-0001", b"PO-2026-0002"), signature=detached(pki)),
            ContentTamperedError,
        ),
        ({"require_signature": True}, lambda pki: message(), SignatureRequiredError),
        ({"require_encryption": True}, lambda pki: message(), EncryptionRequiredError),
        ({}, lambda pki: message(signature=detached(pki, signer=pki.expired)), SecurityError),
    ],
    ids=["tampered", "unsigned", "clear", "wrong-certificate"],
)
async def test_security_failures_quarantine_with_their_ack(
    pki: Pki, policy: dict[str, Any], build: Any, error: type
) -> None:
    ctx = context(pki, **policy)
    msg = await Pipeline(ctx).run(build(pki))
    assert msg.state is State.QUARANTINED
    [err] = msg.errors
    assert isinstance(err, error) and err.ack.contrl == "27" and err.ack.mdn is not None and err.ack.http in (400, 403)
    assert msg.events[-1].stage == "verify" and msg.events[-1].data["state"] == "quarantined"
    assert isinstance(ctx.store, MemoryStore) and ctx.store.get(msg.id) is msg  # nothing lost


async def test_expired_certificate_is_its_own_error(pki: Pki) -> None:
    ctx = context(pki)
    ctx.partners = PartnerDirectory(
        [PartnerProfile(id="EURODIS", security=SecurityPolicy(certificates=["eurodis-old"]))]
    )
    msg = await Pipeline(ctx).run(message(signature=detached(pki, signer=pki.expired)))
    assert msg.state is State.QUARANTINED and isinstance(msg.errors[0], CertificateExpiredError)


async def test_cms_wrapped_input_is_unwrapped(pki: Pki) -> None:
    ctx = context(pki, require_signature=True, require_encryption=True)
    wrapped = encrypt_cms(sign_cms(ORDER, pki.partner, detached=False), [pki.gateway.certificate], "aes256-gcm")
    msg = await Pipeline(ctx, inbound=secure_inbound()).run(message(raw=wrapped), stop_after="store")
    assert msg.state is State.STORED, msg.errors
    assert msg.events[1].stage == "unwrap" and msg.events[1].data["layers"] == ["encrypted (aes256-gcm)", "signed"]
    assert msg.raw == ORDER and msg.business_key == "PO-2026-0001"
    assert msg.metadata["security.encrypted"] == "true" and msg.metadata["security.signed"] == "true"


async def test_as2_handler_turns_a_pipeline_quarantine_into_the_mdn_error(pki: Pki) -> None:
    handler = pipeline_handler(Pipeline(context(pki, require_signature=True)))
    party = As2Party(partner_id="EURODIS", as2_id="EURODIS", our_as2_id="GW")
    inbound = Inbound(
        message_id="<m@EURODIS>", as2_from="EURODIS", as2_to="GW", request=None, payload=ORDER, party=party
    )
    with pytest.raises(SignatureRequiredError):
        await handler(inbound)
    signed = Inbound(
        message_id="<n@EURODIS>", as2_from="EURODIS", as2_to="GW", request=None, payload=ORDER, signed=True
    )
    await handler(signed)  # the transport verified the signature: accepted
