"""Certificate validity and chain validation against trusted roots.

A path is built from the signer's certificate through the intermediates the signature (or the store)
carries to one of the trust anchors: each link is checked by subject/issuer names, the issuer's CA
flag and the signature of the issuing certificate. Every certificate on the path must be valid at
the given moment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from b2b_gateway.errors import CertificateExpiredError, CertificateNotYetValidError, CertificateUntrustedError
from b2b_gateway.security.keys import fingerprint, subject_text

__all__ = ["check_validity", "is_self_signed", "issued_by", "validate_chain"]

MAX_DEPTH = 8


def check_validity(cert: x509.Certificate, at: dt.datetime | None = None) -> None:
    """Raise if ``cert`` is not valid at ``at`` (default now).

    Raises:
        CertificateExpiredError: after its not-after date.
        CertificateNotYetValidError: before its not-before date.
    """
    moment = at or dt.datetime.now(dt.UTC)
    who = subject_text(cert)
    if moment > cert.not_valid_after_utc:
        raise CertificateExpiredError(
            f"certificate {who} expired on {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC",
            details={"fingerprint": fingerprint(cert)},
            hint="the partner must send its new certificate; add it to certs/ and to the partner profile",
        )
    if moment < cert.not_valid_before_utc:
        raise CertificateNotYetValidError(
            f"certificate {who} is not valid before {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC",
            details={"fingerprint": fingerprint(cert)},
            hint="check the clocks, or wait until the rollover date",
        )


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return cert.version == x509.Version.v1  # old roots carry no extensions


def issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether ``issuer``'s key signed ``cert`` (names match and the signature verifies)."""
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def is_self_signed(cert: x509.Certificate) -> bool:
    return issued_by(cert, cert)


def _path(
    cert: x509.Certificate,
    pool: Sequence[x509.Certificate],
    anchors: dict[str, x509.Certificate],
    depth: int,
) -> list[x509.Certificate] | None:
    if fingerprint(cert) in anchors:
        return [cert]
    if depth >= MAX_DEPTH:
        return None
    for anchor in anchors.values():
        if (anchor is not cert) and _is_ca(anchor) and issued_by(cert, anchor):
            return [cert, anchor]
    for candidate in pool:
        if candidate is cert or fingerprint(candidate) == fingerprint(cert) or not _is_ca(candidate):
            continue
        if issued_by(cert, candidate):
            rest = _path(candidate, pool, anchors, depth + 1)
            if rest is not None:
                return [cert, *rest]
    return None


def validate_chain(
    cert: x509.Certificate,
    anchors: Sequence[x509.Certificate],
    intermediates: Sequence[x509.Certificate] = (),
    *,
    at: dt.datetime | None = None,
) -> list[x509.Certificate]:
    """The validated path from ``cert`` to one of ``anchors``.

    Raises:
        CertificateUntrustedError: no path ends at a trusted root (unknown issuer or bad signature).
        CertificateExpiredError: a certificate on the path has expired.
        CertificateNotYetValidError: a certificate on the path is not valid yet.
    """
    by_print = {fingerprint(a): a for a in anchors}
    path = _path(cert, list(intermediates), by_print, 0)
    if path is None:
        raise CertificateUntrustedError(
            f"certificate {subject_text(cert)} (issued by {cert.issuer.rfc4514_string()}) "
            "does not chain to a trusted root",
            details={"fingerprint": fingerprint(cert)},
            hint="add the partner's CA to the profile's security.trusted_roots, or pin its certificate",
        )
    for link in path:
        check_validity(link, at)
    return path
