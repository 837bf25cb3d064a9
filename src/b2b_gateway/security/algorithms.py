"""Names of the algorithms the gateway speaks, and what each means to the cryptography package."""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from b2b_gateway.errors import UnsupportedAlgorithmError
from b2b_gateway.security.keys import PrivateKey

__all__ = [
    "ACCEPTED_DIGESTS",
    "SIGNING_DIGESTS",
    "default_signature_algorithm",
    "digest",
    "hash_for",
    "normalize_digest",
    "signature_scheme",
]

SIGNING_DIGESTS = frozenset({"sha256", "sha384", "sha512"})
"""What the gateway signs with: SHA-256 or stronger."""
ACCEPTED_DIGESTS = frozenset({"sha1", "sha256", "sha384", "sha512"})
"""What the gateway accepts from partners (SHA-1 for older AS2 software)."""

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


def normalize_digest(name: str) -> str:
    """``SHA-256``, ``sha256``, ``rsa-sha256`` → ``sha256`` (what MIME micalg and asn1crypto spell differently)."""
    value = name.strip().lower().replace("-", "").replace("_", "")
    for known in ("sha512", "sha384", "sha256", "sha224", "sha1", "md5"):
        if value.endswith(known):
            return known
    return value


def hash_for(name: str, allowed: frozenset[str] = ACCEPTED_DIGESTS) -> hashes.HashAlgorithm:
    """The hash object for a digest name that ``allowed`` admits.

    Raises:
        UnsupportedAlgorithmError: an unknown or disallowed digest (MD5, SHA-1 where only SHA-2 is allowed).
    """
    key = normalize_digest(name)
    if key not in allowed or key not in _HASHES:
        raise UnsupportedAlgorithmError(
            f"digest algorithm {name!r} is not accepted (accepted: {', '.join(sorted(allowed))})"
        )
    return _HASHES[key]()


def digest(data: bytes, name: str) -> bytes:
    """The digest of ``data`` with algorithm ``name`` (any of SHA-1/SHA-2)."""
    return hashlib.new(normalize_digest(name), data).digest()


def signature_scheme(algorithm: str, key: PrivateKey) -> tuple[hashes.HashAlgorithm, padding.AsymmetricPadding | None]:
    """The hash and RSA padding for a profile signature algorithm (``rsa-pss-sha256``, ``ecdsa-sha384`` …).

    Raises:
        UnsupportedAlgorithmError: unknown name, a hash under SHA-256, or a key of the wrong kind.
    """
    name = algorithm.lower()
    hash_alg = hash_for(name.rsplit("-", 1)[-1], SIGNING_DIGESTS)
    if name.startswith("ecdsa-"):
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise UnsupportedAlgorithmError(f"{algorithm} needs an ECDSA key, but the signing key is RSA")
        return hash_alg, None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise UnsupportedAlgorithmError(f"{algorithm} needs an RSA key, but the signing key is ECDSA")
    if name.startswith("rsa-pss-"):
        return hash_alg, padding.PSS(mgf=padding.MGF1(hash_alg), salt_length=padding.PSS.DIGEST_LENGTH)
    if name.startswith("rsa-"):
        return hash_alg, padding.PKCS1v15()
    raise UnsupportedAlgorithmError(f"unknown signature algorithm {algorithm!r}")


def default_signature_algorithm(key: PrivateKey | None) -> str:
    """``ecdsa-sha256`` for an EC key, ``rsa-sha256`` otherwise."""
    return "ecdsa-sha256" if isinstance(key, ec.EllipticCurvePrivateKey) else "rsa-sha256"
