"""CMS (PKCS#7) SignedData: detached signatures made with cryptography, verified with asn1crypto.

The cryptography package builds CMS signatures but does not verify them, so :func:`verify_cms` does
it from the ASN.1: it finds the signer's certificate, checks the signed attributes (content type and
message digest against the content), verifies the signature value with the certificate's key
(RSA PKCS#1 v1.5, RSA-PSS, ECDSA), matches the certificate against the partner's and validates its
chain to the trusted roots. Each failure has its own error:

* the content does not match the digest → :class:`~b2b_gateway.errors.ContentTamperedError`
* the signature value does not verify → :class:`~b2b_gateway.errors.SignatureInvalidError`
* not the partner's certificate, or no chain to a trusted root → :class:`~b2b_gateway.errors.CertificateUntrustedError`
* expired / not yet valid → :class:`~b2b_gateway.errors.CertificateExpiredError` /
  :class:`~b2b_gateway.errors.CertificateNotYetValidError`
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from asn1crypto import cms
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs7

from b2b_gateway.errors import (
    CertificateUntrustedError,
    ContentTamperedError,
    KeyStoreError,
    SignatureInvalidError,
    UnsupportedAlgorithmError,
)
from b2b_gateway.security.algorithms import ACCEPTED_DIGESTS, digest, hash_for, signature_scheme
from b2b_gateway.security.chain import check_validity, validate_chain
from b2b_gateway.security.keys import fingerprint, subject_text
from b2b_gateway.security.store import CertEntry

__all__ = ["SignatureCheck", "der_of", "sign_cms", "verify_cms"]


def sign_cms(data: bytes, signer: CertEntry, algorithm: str = "rsa-sha256", *, detached: bool = True) -> bytes:
    """A DER CMS SignedData over ``data`` (detached by default), with the signer's chain embedded.

    Args:
        data: the exact bytes to sign (no MIME canonicalization is applied).
        signer: our identity (certificate with private key).
        algorithm: ``rsa-sha256``, ``rsa-pss-sha256``, ``rsa-sha384``, ``rsa-sha512``, ``ecdsa-sha256`` ….
        detached: leave the content out of the structure.

    Raises:
        UnsupportedAlgorithmError: the algorithm is unknown, weaker than SHA-256 or does not fit the key.
        KeyStoreError: the entry has no private key.
    """
    if signer.key is None:
        raise KeyStoreError(f"certificate {signer.name!r} has no private key: it cannot sign")
    hash_alg, pad = signature_scheme(algorithm, signer.key)
    builder = pkcs7.PKCS7SignatureBuilder().set_data(data)
    builder = builder.add_signer(
        signer.certificate,
        signer.key,
        hash_alg,  # type: ignore[arg-type]  # SHA-256/384/512 only (signature_scheme guarantees it)
        rsa_padding=pad if isinstance(pad, padding.PSS | padding.PKCS1v15) else None,
    )
    for extra in signer.chain:
        builder = builder.add_certificate(extra)
    options = [pkcs7.PKCS7Options.Binary]
    if detached:
        options.append(pkcs7.PKCS7Options.DetachedSignature)
    return builder.sign(serialization.Encoding.DER, options)


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    """A verified signature: who signed, with what, over which content."""

    signer: x509.Certificate
    digest_algorithm: str
    content: bytes
    signing_time: dt.datetime | None
    path: tuple[x509.Certificate, ...]

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.signer)


def der_of(data: bytes) -> bytes:
    """DER bytes from DER, PEM (``PKCS7``/``CMS``) or bare base64 input.

    Raises:
        SignatureInvalidError: none of those.
    """
    stripped = data.strip()
    if stripped[:1] == b"\x30":
        return data
    if stripped.startswith(b"-----BEGIN"):
        lines = [ln for ln in stripped.splitlines() if not ln.startswith(b"-----")]
        stripped = b"".join(lines)
    try:
        return base64.b64decode(b"".join(stripped.split()), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureInvalidError("the signature is not a CMS structure (DER, PEM or base64)") from None


def _signed_data(signature: bytes) -> cms.SignedData:
    try:
        info = cms.ContentInfo.load(der_of(signature))
        if info["content_type"].native != "signed_data":
            raise SignatureInvalidError(f"expected CMS signed-data, found {info['content_type'].native}")
        signed = info["content"]
        signed.native  # noqa: B018  # parse everything now, so broken DER fails here
    except (ValueError, TypeError, KeyError) as exc:
        raise SignatureInvalidError(f"the signature is not valid CMS: {exc}") from None
    assert isinstance(signed, cms.SignedData)
    return signed


def _embedded_certs(signed: cms.SignedData) -> list[x509.Certificate]:
    out: list[x509.Certificate] = []
    for choice in signed["certificates"] or []:
        if choice.name == "certificate":
            out.append(x509.load_der_x509_certificate(choice.chosen.dump()))
    return out


def _find_signer(sid: cms.SignerIdentifier, candidates: Sequence[x509.Certificate]) -> x509.Certificate:
    for cert in candidates:
        if sid.name == "issuer_and_serial_number":
            ias = sid.chosen
            if ias["serial_number"].native == cert.serial_number and ias["issuer"].dump() == cert.issuer.public_bytes():
                return cert
        else:
            try:
                ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
            except x509.ExtensionNotFound:
                continue
            if ski == sid.chosen.native:
                return cert
    raise CertificateUntrustedError(
        "the signer's certificate is neither in the signature nor among the partner's certificates",
        hint="add the partner's certificate to certs/ and to the profile's security.certificates",
    )


def _verify_value(cert: x509.Certificate, info: cms.SignerInfo, signed_bytes: bytes, digest_name: str) -> None:
    algo = info["signature_algorithm"]
    kind = algo.signature_algo
    value = info["signature"].native
    public = cert.public_key()
    try:
        if kind == "rsassa_pss":
            params = algo["parameters"]
            pss_hash = hash_for(params["hash_algorithm"]["algorithm"].native)
            mgf_hash = hash_for(params["mask_gen_algorithm"]["parameters"]["algorithm"].native)
            pad = padding.PSS(mgf=padding.MGF1(mgf_hash), salt_length=params["salt_length"].native)
            if not isinstance(public, rsa.RSAPublicKey):
                raise SignatureInvalidError("RSA-PSS signature but the certificate's key is not RSA")
            public.verify(value, signed_bytes, pad, pss_hash)
        elif kind == "rsassa_pkcs1v15":
            if not isinstance(public, rsa.RSAPublicKey):
                raise SignatureInvalidError("RSA signature but the certificate's key is not RSA")
            public.verify(value, signed_bytes, padding.PKCS1v15(), hash_for(digest_name))
        elif kind == "ecdsa":
            if not isinstance(public, ec.EllipticCurvePublicKey):
                raise SignatureInvalidError("ECDSA signature but the certificate's key is not EC")
            public.verify(value, signed_bytes, ec.ECDSA(hash_for(digest_name)))
        else:
            raise UnsupportedAlgorithmError(f"signature algorithm {kind} is not accepted")
    except InvalidSignature:
        raise SignatureInvalidError(
            f"the signature value does not verify with the key of {subject_text(cert)}",
            details={"fingerprint": fingerprint(cert)},
        ) from None


def _check_attributes(info: cms.SignerInfo, content: bytes, econtent_type: str, digest_name: str) -> dt.datetime | None:
    attrs = {a["type"].native: a["values"] for a in info["signed_attrs"]}
    if "message_digest" not in attrs or "content_type" not in attrs:
        raise SignatureInvalidError("the signed attributes lack the message digest or the content type")
    if attrs["content_type"][0].native != econtent_type:
        raise SignatureInvalidError("the signed content-type attribute does not match the content")
    expected = attrs["message_digest"][0].native
    if not hmac.compare_digest(expected, digest(content, digest_name)):
        raise ContentTamperedError(
            "the content does not match the signed message digest: it was changed after signing",
            details={"digest_algorithm": digest_name},
        )
    signing_time = attrs.get("signing_time")
    value = signing_time[0].native if signing_time else None
    return value if isinstance(value, dt.datetime) else None


def verify_cms(
    signature: bytes,
    content: bytes | None = None,
    *,
    certificates: Sequence[x509.Certificate] = (),
    trusted_roots: Sequence[x509.Certificate] = (),
    intermediates: Sequence[x509.Certificate] = (),
    at: dt.datetime | None = None,
    accepted_digests: frozenset[str] = ACCEPTED_DIGESTS,
) -> SignatureCheck:
    """Verify a CMS SignedData (detached over ``content``, or with the content inside).

    Trust: the signer's certificate must be one of ``certificates`` (pinned partner certificates) when
    any are given, and must chain to one of ``trusted_roots`` when any are given; one of the two is
    required. Every certificate involved must be valid at ``at`` (default now).

    Returns:
        The verified signer, digest algorithm and content.

    Raises:
        SecurityError: one of the leaves listed in the module docstring.
    """
    if not certificates and not trusted_roots:
        raise CertificateUntrustedError(
            "no partner certificate and no trusted root to verify against",
            hint="name the partner's certificates or trusted roots in its profile (or --cert/--trust)",
        )
    signed = _signed_data(signature)
    econtent = signed["encap_content_info"]
    data = content if content is not None else econtent["content"].native
    if data is None:
        raise SignatureInvalidError("detached signature but no content to verify it against")
    embedded = _embedded_certs(signed)
    if not signed["signer_infos"]:
        raise SignatureInvalidError("the signature holds no signer")
    info = signed["signer_infos"][0]
    digest_name = info["digest_algorithm"]["algorithm"].native
    hash_for(digest_name, accepted_digests)  # refuse MD5 and friends before anything else
    signer = _find_signer(info["sid"], [*embedded, *certificates])
    signing_time = None
    if info["signed_attrs"].native is not None and len(info["signed_attrs"]):
        signing_time = _check_attributes(info, data, econtent["content_type"].native, digest_name)
        signed_bytes = b"\x31" + info["signed_attrs"].dump()[1:]
    else:
        signed_bytes = data
    _verify_value(signer, info, signed_bytes, digest_name)
    pinned = {fingerprint(c) for c in certificates}
    if pinned and fingerprint(signer) not in pinned:
        raise CertificateUntrustedError(
            f"signed with certificate {subject_text(signer)}, which is not one of the partner's certificates",
            details={"fingerprint": fingerprint(signer)},
            hint="if the partner rolled its certificate over, add the new one to its profile",
        )
    if trusted_roots:
        path = validate_chain(signer, trusted_roots, [*embedded, *intermediates], at=at)
    else:
        check_validity(signer, at)
        path = [signer]
    return SignatureCheck(signer, hashes_name(digest_name), data, signing_time, tuple(path))


def hashes_name(name: str) -> str:
    """The digest name as the gateway spells it (``sha256``)."""
    return hash_for(name).name.replace("-", "")
