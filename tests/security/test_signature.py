"""CMS signatures made and verified in the gateway; each rejection has its own error and acknowledgment."""

from __future__ import annotations

import pytest

from b2b_gateway.errors import (
    CertificateExpiredError,
    CertificateNotYetValidError,
    CertificateUntrustedError,
    ContentTamperedError,
    DecompressionError,
    SecurityError,
    SignatureInvalidError,
    UnsupportedAlgorithmError,
)
from b2b_gateway.security.compression import compress_cms, decompress_cms
from b2b_gateway.security.jws import sign_jws, verify_jws
from b2b_gateway.security.signature import sign_cms, verify_cms
from b2b_gateway.security.store import CertEntry
from tests.security.conftest import Pki

DATA = b"UNA:+.? 'UNB+UNOC:3+EURODIS:14+MOCKEDI:ZZ+260101:1200+1'UNZ+0+1'"


@pytest.mark.parametrize(
    ("who", "algorithm"),
    [
        ("partner", "rsa-sha256"),
        ("partner", "rsa-pss-sha256"),
        ("partner", "rsa-sha384"),
        ("partner", "rsa-sha512"),
        ("partner_ec", "ecdsa-sha256"),
        ("partner_ec", "ecdsa-sha384"),
    ],
)
def test_sign_and_verify_every_algorithm(pki: Pki, who: str, algorithm: str) -> None:
    signer: CertEntry = getattr(pki, who)
    signature = sign_cms(DATA, signer, algorithm)
    check = verify_cms(signature, DATA, certificates=[signer.certificate], trusted_roots=[pki.root.certificate])
    assert check.signer == signer.certificate and check.content == DATA
    assert check.digest_algorithm == algorithm.rsplit("-", 1)[-1]
    assert [c.subject for c in check.path] == [
        signer.certificate.subject,
        pki.intermediate.certificate.subject,
        pki.root.certificate.subject,
    ]


def test_embedded_content_is_returned(pki: Pki) -> None:
    signature = sign_cms(DATA, pki.partner, detached=False)
    assert verify_cms(signature, trusted_roots=[pki.root.certificate]).content == DATA


def _assert_ack(error: SecurityError, mdn: str, contrl: str = "27") -> None:
    assert error.ack.mdn == mdn and error.ack.contrl == contrl and error.ack.http in (400, 403)


def test_tampered_content(pki: Pki) -> None:
    signature = sign_cms(DATA, pki.partner)
    with pytest.raises(ContentTamperedError) as info:
        verify_cms(
            signature, DATA.replace(b"1001", b"1002").replace(b"+1'", b"+2'"), trusted_roots=[pki.root.certificate]
        )
    _assert_ack(info.value, "error: integrity-check-failed")


def test_broken_signature_value(pki: Pki) -> None:
    signature = bytearray(sign_cms(DATA, pki.partner))
    signature[-5] ^= 0xFF  # the signature value is the last element of the SignerInfo
    with pytest.raises(SignatureInvalidError) as info:
        verify_cms(bytes(signature), DATA, trusted_roots=[pki.root.certificate])
    _assert_ack(info.value, "error: authentication-failed")


def test_wrong_certificate(pki: Pki) -> None:
    signature = sign_cms(DATA, pki.partner_next)  # valid chain, but not the certificate the profile pins
    with pytest.raises(CertificateUntrustedError, match="not one of the partner's") as info:
        verify_cms(signature, DATA, certificates=[pki.partner.certificate], trusted_roots=[pki.root.certificate])
    _assert_ack(info.value, "error: authentication-failed")
    # during a rollover both are pinned and both verify
    both = [pki.partner.certificate, pki.partner_next.certificate]
    assert verify_cms(signature, DATA, certificates=both, trusted_roots=[pki.root.certificate]).signer == both[1]


def test_untrusted_root(pki: Pki) -> None:
    signature = sign_cms(DATA, pki.foreign)
    with pytest.raises(CertificateUntrustedError, match="does not chain to a trusted root"):
        verify_cms(signature, DATA, trusted_roots=[pki.root.certificate])
    with pytest.raises(CertificateUntrustedError, match="no partner certificate and no trusted root"):
        verify_cms(signature, DATA)


def test_expired_and_not_yet_valid(pki: Pki) -> None:
    with pytest.raises(CertificateExpiredError) as expired:
        verify_cms(sign_cms(DATA, pki.expired), DATA, trusted_roots=[pki.root.certificate])
    _assert_ack(expired.value, "error: authentication-failed")
    assert expired.value.code == "CERT_EXPIRED"
    with pytest.raises(CertificateNotYetValidError) as future:
        verify_cms(sign_cms(DATA, pki.future), DATA, certificates=[pki.future.certificate])
    assert future.value.code == "CERT_NOT_YET_VALID"


def test_unsupported_algorithms(pki: Pki) -> None:
    with pytest.raises(UnsupportedAlgorithmError, match="needs an ECDSA key"):
        sign_cms(DATA, pki.partner, "ecdsa-sha256")
    with pytest.raises(UnsupportedAlgorithmError):
        sign_cms(DATA, pki.partner, "rsa-sha1")  # the gateway signs with SHA-256 or stronger only
    with pytest.raises(SignatureInvalidError, match="not a CMS structure"):
        verify_cms(b"\x00\x01 definitely not CMS", DATA, trusted_roots=[pki.root.certificate])


def test_detached_jws(pki: Pki) -> None:
    payload = b'{"document_type": "invoice", "id": "INV-1"}'
    for signer, algorithm in (
        (pki.partner, "rsa-sha256"),
        (pki.partner, "rsa-pss-sha256"),
        (pki.partner_ec, "ecdsa-sha256"),
    ):
        token = sign_jws(payload, signer, algorithm)
        assert token.count(".") == 2 and token.split(".")[1] == ""
        assert verify_jws(payload, token, trusted_roots=[pki.root.certificate]) == signer.certificate
        with pytest.raises(SignatureInvalidError):
            verify_jws(payload.replace(b"INV-1", b"INV-2"), token, trusted_roots=[pki.root.certificate])
    with pytest.raises(CertificateUntrustedError):
        verify_jws(payload, sign_jws(payload, pki.foreign), trusted_roots=[pki.root.certificate])
    with pytest.raises(CertificateExpiredError):
        verify_jws(payload, sign_jws(payload, pki.expired), trusted_roots=[pki.root.certificate])


def test_compression_round_trip_and_corruption() -> None:
    packed = compress_cms(DATA * 100)
    assert decompress_cms(packed) == DATA * 100 and len(packed) < len(DATA) * 10
    with pytest.raises(DecompressionError, match="beyond the limit") as info:
        decompress_cms(packed, max_bytes=1000)
    assert info.value.ack.mdn == "error: decompression-failed"
    with pytest.raises(DecompressionError):
        decompress_cms(packed[:-20] + b"\x00" * 20)
    with pytest.raises(DecompressionError):
        decompress_cms(b"not cms")
