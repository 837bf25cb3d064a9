"""Signed and encrypted AS2 payloads against the real ``openssl cms``, both directions."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from b2b_gateway.as2 import As2Party, As2Receiver, Entity, Headers, build_message, read_mdn
from b2b_gateway.as2.mime import split_multipart
from b2b_gateway.errors import UnsupportedAlgorithmError
from tests.security.conftest import Openssl, Pki, key_pem, orders, pem

Files = Callable[[str, bytes], Path]
PAYLOAD = orders("3001", "PO-OSSL-1")
ENTITY = (
    b"Content-Type: application/edifact\r\nContent-Transfer-Encoding: binary\r\n"
    b'Content-Disposition: attachment; filename="po.edi"\r\n\r\n' + PAYLOAD
)


def to_partner(pki: Pki, algorithm: str) -> As2Party:
    return As2Party(
        partner_id="PARTNER",
        as2_id="PARTNER",
        our_as2_id="GATEWAY",
        sign=True,
        encrypt=True,
        encryption_algorithm=algorithm,
        certificates=(pki.partner.certificate,),
        signing=pki.gateway,
    )


@pytest.mark.parametrize("algorithm", ["aes128-cbc", "aes256-cbc", "aes128-gcm", "aes256-gcm"])
def test_gateway_as2_message_decrypts_and_verifies_with_openssl(
    pki: Pki, openssl: Openssl, files: Files, algorithm: str
) -> None:
    assert pki.partner.key is not None
    message = build_message(PAYLOAD, to_partner(pki, algorithm), filename="po.edi")
    assert "smime-type=" in message.headers["Content-Type"]
    files("body.der", message.body)
    files("partner.pem", pem([pki.partner.certificate]))
    files("partner.key", key_pem(pki.partner.key))
    files("root.pem", pem([pki.root.certificate]))
    inner = openssl(
        "cms", "-decrypt", "-binary", "-inform", "DER", "-in", "body.der", "-recip", "partner.pem",
        "-inkey", "partner.key",
    ).stdout  # fmt: skip
    assert inner.startswith(b"Content-Type: multipart/signed")
    files("signed.mime", inner)
    verified = openssl(
        "cms", "-verify", "-inform", "SMIME", "-in", "signed.mime", "-CAfile", "root.pem", "-purpose", "any"
    )
    assert b"Verification successful" in verified.stderr
    assert verified.stdout == ENTITY
    # the MIC the gateway expects back is the digest of exactly what openssl verified
    assert message.mic.value == base64.b64encode(hashlib.sha256(verified.stdout).digest()).decode()


def from_partner(pki: Pki) -> As2Party:
    return As2Party(
        partner_id="PARTNER",
        as2_id="PARTNER",
        our_as2_id="GATEWAY",
        require_signature=True,
        certificates=(pki.partner.certificate,),
        trusted_roots=(pki.root.certificate,),
        intermediates=(pki.intermediate.certificate,),
        signing=pki.gateway,
        decryption=(pki.gateway,),
    )


def headers(content_type: str, micalg: str = "sha-256") -> dict[str, str]:
    return {
        "AS2-From": "PARTNER",
        "AS2-To": "GATEWAY",
        "Message-ID": "<openssl-1@partner>",
        "Content-Type": content_type,
        "Disposition-Notification-To": "PARTNER",
        "Disposition-Notification-Options": (
            f"signed-receipt-protocol=optional, pkcs7-signature; signed-receipt-micalg=optional, {micalg}"
        ),
    }


def openssl_signed(pki: Pki, openssl: Openssl, files: Files, digest: str) -> bytes:
    assert pki.partner.key is not None
    files("entity.mime", ENTITY)
    files("partner.pem", pem([pki.partner.certificate]))
    files("partner.key", key_pem(pki.partner.key))
    files("chain.pem", pem(pki.partner.chain))
    return openssl(
        "cms", "-sign", "-binary", "-crlfeol", "-md", digest, "-in", "entity.mime", "-signer", "partner.pem",
        "-inkey", "partner.key", "-certfile", "chain.pem",
    ).stdout  # fmt: skip


@pytest.mark.parametrize(
    ("cipher", "name", "digest"),
    [
        ("-aes256", "aes256-cbc", "sha256"),
        ("-aes-128-gcm", "aes128-gcm", "sha384"),
        ("-aes-256-gcm", "aes256-gcm", "sha512"),
        ("-des3", "3des-cbc", "sha1"),
    ],
)
def test_openssl_signed_and_encrypted_as2_is_received(
    pki: Pki, openssl: Openssl, files: Files, cipher: str, name: str, digest: str
) -> None:
    signed = openssl_signed(pki, openssl, files, digest)
    files("signed.mime", signed)
    files("gw.pem", pem([pki.gateway.certificate]))
    enveloped = openssl(
        "cms", "-encrypt", "-binary", cipher, "-in", "signed.mime", "-outform", "DER", "-recip", "gw.pem"
    ).stdout
    party = from_partner(pki)
    rx = As2Receiver(lambda f, _t: party if f == "PARTNER" else None)
    smime_type = "authEnveloped-data" if "gcm" in name else "enveloped-data"
    micalg = "sha1" if digest == "sha1" else f"sha-{digest[3:]}"
    inbound = rx.receive(headers(f"application/pkcs7-mime; smime-type={smime_type}; name=smime.p7m", micalg), enveloped)
    assert inbound.ok, inbound.error
    assert inbound.payload == PAYLOAD and inbound.filename == "po.edi"
    assert inbound.signed and inbound.encrypted and inbound.algorithms == {"encryption": name, "signature": digest}
    # the MIC is over the part openssl signed, with the algorithm the sender asked for
    assert inbound.mic is not None and inbound.mic.algorithm == digest
    assert inbound.mic.value == base64.b64encode(hashlib.new(digest, ENTITY).digest()).decode()
    mdn = rx.mdn(inbound)
    assert mdn is not None and mdn.disposition == "processed"


def test_openssl_signed_only_and_md5_refused(pki: Pki, openssl: Openssl, files: Files) -> None:
    party = from_partner(pki)
    rx = As2Receiver(lambda f, _t: party if f == "PARTNER" else None)
    entity = Entity.parse(openssl_signed(pki, openssl, files, "sha256"))
    [first, _signature] = split_multipart(entity.body, entity.params["boundary"])
    assert first == ENTITY
    inbound = rx.receive(headers(entity.content_type), entity.body)
    assert inbound.ok and inbound.signed and not inbound.encrypted and inbound.payload == PAYLOAD
    md5 = Entity.parse(openssl_signed(pki, openssl, files, "md5"))
    refused = rx.receive(headers(md5.content_type), md5.body)
    assert isinstance(refused.error, UnsupportedAlgorithmError)
    mdn = rx.mdn(refused)
    assert mdn is not None
    receipt = read_mdn(
        Headers(mdn.headers), mdn.body, dataclasses.replace(party, certificates=(pki.gateway.certificate,))
    )
    assert receipt.modifier == "error: insufficient-message-security" and not receipt.ok
