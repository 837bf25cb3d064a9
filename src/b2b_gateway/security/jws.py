"""JWS with a detached payload (RFC 7515 appendix F) for JSON endpoints that ask for it.

The token is ``<protected header>..<signature>``: the payload travels as the HTTP body and is put back
in for verification. The header carries the signer's certificate chain (``x5c``) and its SHA-256
thumbprint (``x5t#S256``), so the receiver checks the key against the partner's certificates and
trusted roots exactly as for CMS.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Sequence

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from b2b_gateway.errors import CertificateUntrustedError, SignatureInvalidError, UnsupportedAlgorithmError
from b2b_gateway.security.algorithms import hash_for, signature_scheme
from b2b_gateway.security.chain import check_validity, validate_chain
from b2b_gateway.security.keys import fingerprint
from b2b_gateway.security.store import CertEntry

__all__ = ["JWS_ALGORITHMS", "sign_jws", "verify_jws"]

JWS_ALGORITHMS = {
    "rsa-sha256": "RS256",
    "rsa-sha384": "RS384",
    "rsa-sha512": "RS512",
    "rsa-pss-sha256": "PS256",
    "ecdsa-sha256": "ES256",
    "ecdsa-sha384": "ES384",
}
_FROM_JWS = {v: k for k, v in JWS_ALGORITHMS.items()}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise SignatureInvalidError("the JWS is not base64url") from None


def _coordinate_size(key: ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey) -> int:
    return (key.curve.key_size + 7) // 8


def sign_jws(payload: bytes, signer: CertEntry, algorithm: str = "rsa-sha256") -> str:
    """A compact JWS with a detached payload: ``header..signature``.

    Raises:
        UnsupportedAlgorithmError: the algorithm does not fit the key.
    """
    if signer.key is None:
        raise SignatureInvalidError(f"certificate {signer.name!r} has no private key: it cannot sign")
    hash_alg, pad = signature_scheme(algorithm, signer.key)
    header = {
        "alg": JWS_ALGORITHMS[algorithm],
        "x5c": [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode() for c in signer.certificates],
        "x5t#S256": _b64(bytes.fromhex(fingerprint(signer.certificate))),
    }
    protected = _b64(json.dumps(header, separators=(",", ":")).encode())
    signing_input = f"{protected}.{_b64(payload)}".encode("ascii")
    key = signer.key
    if isinstance(key, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hash_alg)))
        size = _coordinate_size(key)
        raw = r.to_bytes(size, "big") + s.to_bytes(size, "big")
    else:
        assert pad is not None
        raw = key.sign(signing_input, pad, hash_alg)
    return f"{protected}..{_b64(raw)}"


def _header(token: str) -> tuple[str, dict[str, object], str]:
    parts = token.strip().split(".")
    if len(parts) != 3 or parts[1]:
        raise SignatureInvalidError("not a detached compact JWS (expected header..signature)")
    try:
        header = json.loads(_unb64(parts[0]))
    except ValueError:
        raise SignatureInvalidError("the JWS header is not JSON") from None
    if not isinstance(header, dict):
        raise SignatureInvalidError("the JWS header is not a JSON object")
    return parts[0], header, parts[2]


def verify_jws(
    payload: bytes,
    token: str,
    *,
    certificates: Sequence[x509.Certificate] = (),
    trusted_roots: Sequence[x509.Certificate] = (),
    at: dt.datetime | None = None,
) -> x509.Certificate:
    """Verify a detached JWS over ``payload``; the trust rules are :func:`~.signature.verify_cms`'s.

    Returns:
        The signer's certificate.

    Raises:
        SecurityError: a bad signature, an algorithm outside the list, an untrusted or expired certificate.
    """
    protected, header, signature = _header(token)
    algorithm = _FROM_JWS.get(str(header.get("alg")))
    if algorithm is None:
        raise UnsupportedAlgorithmError(f"JWS algorithm {header.get('alg')!r} is not accepted")
    chain_b64 = header.get("x5c")
    chain = (
        [x509.load_der_x509_certificate(base64.b64decode(c)) for c in chain_b64 or []]
        if isinstance(chain_b64, list)
        else []
    )
    thumb = header.get("x5t#S256")
    pinned = {fingerprint(c): c for c in certificates}
    signer = chain[0] if chain else next((c for f, c in pinned.items() if _b64(bytes.fromhex(f)) == thumb), None)
    if signer is None:
        raise CertificateUntrustedError("the JWS names no certificate the gateway knows")
    signing_input = f"{protected}.{_b64(payload)}".encode("ascii")
    raw = _unb64(signature)
    hash_alg = hash_for(algorithm.rsplit("-", 1)[-1])
    public = signer.public_key()
    try:
        if isinstance(public, ec.EllipticCurvePublicKey):
            size = _coordinate_size(public)
            der = encode_dss_signature(int.from_bytes(raw[:size], "big"), int.from_bytes(raw[size:], "big"))
            public.verify(der, signing_input, ec.ECDSA(hash_alg))
        elif isinstance(public, rsa.RSAPublicKey):
            pad: padding.AsymmetricPadding = (
                padding.PSS(mgf=padding.MGF1(hash_alg), salt_length=padding.PSS.AUTO)
                if algorithm.startswith("rsa-pss")
                else padding.PKCS1v15()
            )
            public.verify(raw, signing_input, pad, hash_alg)
        else:
            raise UnsupportedAlgorithmError("the JWS certificate's key is neither RSA nor EC")
    except InvalidSignature:
        raise SignatureInvalidError("the JWS signature does not verify: payload or header changed") from None
    if not certificates and not trusted_roots:
        raise CertificateUntrustedError("no partner certificate and no trusted root to verify the JWS against")
    if pinned and fingerprint(signer) not in pinned:
        raise CertificateUntrustedError("the JWS was signed with a certificate that is not one of the partner's")
    if trusted_roots:
        validate_chain(signer, trusted_roots, chain[1:], at=at)
    else:
        check_validity(signer, at)
    return signer
