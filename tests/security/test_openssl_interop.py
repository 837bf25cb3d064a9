"""Interoperability with the real ``openssl cms``, both directions: signatures and encryption."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from b2b_gateway.errors import DecryptionError, UnsupportedAlgorithmError
from b2b_gateway.security.envelope import decrypt_cms, encrypt_cms
from b2b_gateway.security.signature import sign_cms, verify_cms
from b2b_gateway.security.store import CertEntry
from tests.security.conftest import Openssl, Pki, key_pem, orders, pem

DATA = orders() * 20
Files = Callable[[str, bytes], Path]


@pytest.mark.parametrize(
    ("who", "algorithm"),
    [
        ("gateway", "rsa-sha256"),
        ("gateway", "rsa-pss-sha256"),
        ("gateway", "rsa-sha512"),
        ("partner_ec", "ecdsa-sha256"),
    ],
)
def test_gateway_signatures_verify_with_openssl(
    pki: Pki, openssl: Openssl, files: Files, who: str, algorithm: str
) -> None:
    signer: CertEntry = getattr(pki, who)
    files("data.edi", DATA)
    files("data.p7s", sign_cms(DATA, signer, algorithm))
    files("root.pem", pem([pki.root.certificate]))
    proc = openssl(
        "cms", "-verify", "-binary", "-inform", "DER", "-in", "data.p7s", "-content", "data.edi",
        "-CAfile", "root.pem", "-purpose", "any", "-out", "verified.edi",
    )  # fmt: skip
    assert b"Verification successful" in proc.stderr
    # and openssl refuses it once the content changed
    files("data.edi", DATA + b"X")
    bad = openssl(
        "cms", "-verify", "-binary", "-inform", "DER", "-in", "data.p7s", "-content", "data.edi",
        "-CAfile", "root.pem", "-purpose", "any", check=False,
    )  # fmt: skip
    assert bad.returncode != 0


@pytest.mark.parametrize(
    ("who", "options", "digest"),
    [
        ("partner", ["-md", "sha256"], "sha256"),
        ("partner", ["-md", "sha1"], "sha1"),
        ("partner", ["-md", "sha384"], "sha384"),
        ("partner", ["-md", "sha512", "-keyopt", "rsa_padding_mode:pss"], "sha512"),
        ("partner_ec", ["-md", "sha256"], "sha256"),
    ],
)
def test_openssl_signatures_verify_in_the_gateway(
    pki: Pki, openssl: Openssl, files: Files, who: str, options: list[str], digest: str
) -> None:
    signer: CertEntry = getattr(pki, who)
    assert signer.key is not None
    files("data.edi", DATA)
    files("signer.pem", pem([signer.certificate]))
    files("signer.key", key_pem(signer.key))
    files("chain.pem", pem(signer.chain))
    detached = openssl(
        "cms", "-sign", "-binary", "-in", "data.edi", "-signer", "signer.pem", "-inkey", "signer.key",
        "-certfile", "chain.pem", "-outform", "DER", *options,
    ).stdout  # fmt: skip
    check = verify_cms(detached, DATA, certificates=[signer.certificate], trusted_roots=[pki.root.certificate])
    assert check.digest_algorithm == digest and check.signer == signer.certificate
    embedded = openssl(
        "cms", "-sign", "-nodetach", "-binary", "-in", "data.edi", "-signer", "signer.pem", "-inkey", "signer.key",
        "-outform", "PEM", *options,
    ).stdout  # fmt: skip
    assert verify_cms(embedded, trusted_roots=[pki.root.certificate], intermediates=signer.chain).content == DATA


def test_openssl_md5_signature_is_refused(pki: Pki, openssl: Openssl, files: Files) -> None:
    assert pki.partner.key is not None
    files("data.edi", DATA)
    files("signer.pem", pem([pki.partner.certificate]))
    files("signer.key", key_pem(pki.partner.key))
    md5 = openssl(
        "cms", "-sign", "-binary", "-md", "md5", "-in", "data.edi", "-signer", "signer.pem", "-inkey", "signer.key",
        "-outform", "DER",
    ).stdout  # fmt: skip
    with pytest.raises(UnsupportedAlgorithmError, match="md5") as info:
        verify_cms(md5, DATA, trusted_roots=[pki.root.certificate], intermediates=pki.partner.chain)
    assert info.value.ack.mdn == "error: insufficient-message-security"


@pytest.mark.parametrize(
    ("cipher", "name"),
    [
        ("-aes128", "aes128-cbc"),
        ("-aes192", "aes192-cbc"),
        ("-aes256", "aes256-cbc"),
        ("-aes-128-gcm", "aes128-gcm"),
        ("-aes-256-gcm", "aes256-gcm"),
        ("-des3", "3des-cbc"),
    ],
)
@pytest.mark.parametrize("padding", ["pkcs1", "oaep"])
def test_openssl_encrypted_messages_decrypt_in_the_gateway(
    pki: Pki, openssl: Openssl, files: Files, cipher: str, name: str, padding: str
) -> None:
    files("data.edi", DATA)
    files("gw.pem", pem([pki.gateway.certificate]))
    keyopt = ["-keyopt", "rsa_padding_mode:oaep"] if padding == "oaep" else []
    der = openssl(
        "cms", "-encrypt", "-binary", cipher, "-in", "data.edi", "-outform", "DER", "-recip", "gw.pem", *keyopt
    ).stdout
    decrypted = decrypt_cms(der, [pki.partner, pki.gateway])
    assert decrypted.content == DATA and decrypted.algorithm == name and decrypted.recipient == "gateway"


@pytest.mark.parametrize("name", ["aes128-cbc", "aes192-cbc", "aes256-cbc", "aes128-gcm", "aes256-gcm"])
def test_gateway_encryption_decrypts_with_openssl(pki: Pki, openssl: Openssl, files: Files, name: str) -> None:
    assert pki.partner.key is not None
    files("enc.der", encrypt_cms(DATA, [pki.partner.certificate], name))
    files("partner.pem", pem([pki.partner.certificate]))
    files("partner.key", key_pem(pki.partner.key))
    plain = openssl(
        "cms", "-decrypt", "-binary", "-inform", "DER", "-in", "enc.der", "-recip", "partner.pem",
        "-inkey", "partner.key",
    ).stdout  # fmt: skip
    assert plain == DATA


def test_decryption_failures(pki: Pki, openssl: Openssl, files: Files) -> None:
    der = encrypt_cms(DATA, [pki.partner.certificate], "aes256-cbc")
    with pytest.raises(DecryptionError, match="not encrypted for any of our certificates") as info:
        decrypt_cms(der, [pki.gateway])
    assert info.value.ack.mdn == "error: decryption-failed" and info.value.ack.contrl == "27"
    gcm = bytearray(encrypt_cms(DATA, [pki.gateway.certificate], "aes128-gcm"))
    gcm[-40] ^= 0x01  # inside the ciphertext: the tag no longer verifies
    with pytest.raises(DecryptionError, match="tag"):
        decrypt_cms(bytes(gcm), [pki.gateway])
    with pytest.raises(UnsupportedAlgorithmError, match="not used outbound"):
        encrypt_cms(DATA, [pki.partner.certificate], "3des-cbc")  # 3DES: inbound only
    files("data.edi", DATA)
    files("gw.pem", pem([pki.gateway.certificate]))
    des = openssl(
        "cms", "-encrypt", "-binary", "-des3", "-in", "data.edi", "-outform", "DER", "-recip", "gw.pem"
    ).stdout
    with pytest.raises(UnsupportedAlgorithmError):
        decrypt_cms(des, [pki.gateway], allowed=frozenset({"aes256-cbc"}))
