"""Keys and certificates as values: read any common container, generate, fingerprint, encrypt at rest.

Everything here works on bytes and objects; reading and writing files is :mod:`b2b_gateway.security.files`.
Readable containers: PEM (certificates and keys, several in one file), DER certificates, PKCS#12 and
PKCS#7 (``.p7b``/``.p7c``, PEM or DER) bundles.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from typing import Literal

from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from b2b_gateway.errors import KeyStoreError

__all__ = [
    "KeyType",
    "Loaded",
    "PrivateKey",
    "encrypt_private_key",
    "fingerprint",
    "generate_private_key",
    "issue_certificate",
    "key_matches",
    "load_private_key",
    "read_container",
    "subject_text",
]

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
KeyType = Literal["rsa", "ec"]


@dataclass(frozen=True, slots=True)
class Loaded:
    """What a container held: its certificates (in file order) and at most one private key."""

    certificates: tuple[x509.Certificate, ...]
    key: PrivateKey | None = None


def fingerprint(cert: x509.Certificate) -> str:
    """The SHA-256 fingerprint as upper-case hex (what ``openssl x509 -fingerprint -sha256`` shows, without colons)."""
    return cert.fingerprint(hashes.SHA256()).hex().upper()


def subject_text(cert: x509.Certificate) -> str:
    """The subject as an RFC 4514 string."""
    return cert.subject.rfc4514_string()


def _as_private_key(key: object) -> PrivateKey:
    if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        return key
    raise KeyStoreError(f"unsupported private key type {type(key).__name__}: use RSA or ECDSA keys")


def load_private_key(data: bytes, passphrase: bytes | None) -> PrivateKey:
    """A PEM or DER private key, decrypted with ``passphrase`` when it is encrypted.

    Raises:
        KeyStoreError: wrong or missing passphrase, or not a key.
    """
    loader = serialization.load_pem_private_key if b"-----BEGIN" in data else serialization.load_der_private_key
    try:
        return _as_private_key(loader(data, password=passphrase))
    except TypeError:
        try:  # an unencrypted key given a passphrase: accept it (it is re-encrypted on save)
            return _as_private_key(loader(data, password=None))
        except (TypeError, ValueError):
            raise KeyStoreError(
                "the private key is encrypted and no passphrase is configured",
                hint="set B2B_SECURITY__KEY_PASSPHRASE or B2B_SECURITY__KEY_PASSPHRASE_FILE",
            ) from None
    except ValueError:
        raise KeyStoreError("cannot read the private key: wrong passphrase or not a key") from None


def encrypt_private_key(key: PrivateKey, passphrase: bytes) -> bytes:
    """PKCS#8 PEM encrypted with ``passphrase`` (the best encryption the library offers)."""
    if not passphrase:
        raise KeyStoreError(
            "refusing to store a private key without a passphrase",
            hint="set B2B_SECURITY__KEY_PASSPHRASE or B2B_SECURITY__KEY_PASSPHRASE_FILE",
        )
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase),
    )


def _pem_blocks(data: bytes) -> list[tuple[str, bytes]]:
    blocks: list[tuple[str, bytes]] = []
    rest = data
    while (start := rest.find(b"-----BEGIN ")) >= 0:
        label_end = rest.find(b"-----", start + 11)
        label = rest[start + 11 : label_end].decode("ascii", "replace")
        end_marker = f"-----END {label}-----".encode()
        end = rest.find(end_marker, label_end)
        if end < 0:
            raise KeyStoreError(f"broken PEM: no END line for {label}")
        blocks.append((label, rest[start : end + len(end_marker)] + b"\n"))
        rest = rest[end + len(end_marker) :]
    return blocks


def _pkcs7_certificates(der: bytes) -> list[x509.Certificate]:
    """The certificates of a PKCS#7 bundle (read with asn1crypto: openssl writes BER set orderings)."""
    try:
        info = cms.ContentInfo.load(der)
        if info["content_type"].native != "signed_data":
            raise ValueError("not a PKCS#7 signed-data bundle")
        choices = info["content"]["certificates"] or []
        return [x509.load_der_x509_certificate(c.chosen.dump()) for c in choices if c.name == "certificate"]
    except (TypeError, KeyError) as exc:
        raise ValueError(str(exc)) from None


def _read_pem(data: bytes, password: bytes | None) -> Loaded:
    certs: list[x509.Certificate] = []
    key: PrivateKey | None = None
    for label, block in _pem_blocks(data):
        try:
            if label in ("CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"):
                certs.append(x509.load_pem_x509_certificate(block))
            elif label in ("PKCS7", "CMS"):
                body = b"".join(line for line in block.splitlines() if not line.startswith(b"-----"))
                certs.extend(_pkcs7_certificates(base64.b64decode(body)))
            elif label.endswith("PRIVATE KEY"):
                if key is not None:
                    raise KeyStoreError("more than one private key in one file")
                key = load_private_key(block, password)
        except ValueError as exc:
            raise KeyStoreError(f"broken PEM block {label}: {exc}") from None
    if not certs and key is None:
        raise KeyStoreError("no certificate or key found in the PEM data")
    return Loaded(tuple(certs), key)


def read_container(data: bytes, password: bytes | None = None) -> Loaded:
    """Read certificates (and a private key) from PEM, DER, PKCS#12 or PKCS#7 bytes.

    Args:
        data: the file contents.
        password: the PKCS#12 password, or the passphrase of an encrypted PEM key.

    Raises:
        KeyStoreError: nothing readable, or a wrong password.
    """
    if b"-----BEGIN" in data:
        return _read_pem(data, password)
    try:
        return Loaded((x509.load_der_x509_certificate(data),))
    except ValueError:
        pass
    try:
        return Loaded(tuple(_pkcs7_certificates(data)))
    except ValueError:
        pass
    try:
        p12 = pkcs12.load_pkcs12(data, password)
    except ValueError as exc:
        raise KeyStoreError(f"not a PEM, DER, PKCS#7 or PKCS#12 file (or a wrong password): {exc}") from None
    certs = ([p12.cert.certificate] if p12.cert else []) + [c.certificate for c in p12.additional_certs]
    return Loaded(tuple(certs), _as_private_key(p12.key) if p12.key is not None else None)


def key_matches(cert: x509.Certificate, key: PrivateKey) -> bool:
    """Whether ``key`` is the private half of ``cert``'s public key."""
    public = cert.public_key()
    if isinstance(public, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        return bool(public.public_numbers() == key.public_key().public_numbers())
    return False


def generate_private_key(kind: KeyType = "rsa", size: int = 3072) -> PrivateKey:
    """A new RSA key of ``size`` bits, or an ECDSA key on P-256 (``size`` 256) or P-384 (``size`` 384)."""
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=max(size, 2048))
    curve: ec.EllipticCurve = ec.SECP384R1() if size == 384 else ec.SECP256R1()
    return ec.generate_private_key(curve)


def _general_name(value: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(value))
    except ValueError:
        return x509.DNSName(value)


def issue_certificate(
    common_name: str,
    key: PrivateKey,
    *,
    issuer: tuple[x509.Certificate, PrivateKey] | None = None,
    days: int = 365,
    ca: bool = False,
    not_before: dt.datetime | None = None,
    dns_names: tuple[str, ...] = (),
    organization: str | None = None,
) -> x509.Certificate:
    """A certificate for ``key``: self-signed, or signed by ``issuer`` (certificate, key).

    Args:
        common_name: the subject CN (the AS2 name or host name, by convention).
        key: the subject's private key (its public half goes into the certificate).
        issuer: the CA that signs; ``None`` for a self-signed certificate.
        days: validity from ``not_before``.
        ca: a CA certificate (basic constraints CA:TRUE, key usage certificate and CRL signing).
        not_before: start of validity (default: now, minus one minute for clock skew).
        dns_names: subject alternative names, DNS names or IP addresses (TLS server certificates).
        organization: the subject O.
    """
    start = not_before or (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attrs.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    subject = x509.Name(attrs)
    issuer_cert, issuer_key = issuer if issuer else (None, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_cert.subject if issuer_cert else subject)
        .public_key(key.public_key())
        .serial_number(int.from_bytes(os.urandom(16), "big") >> 1)
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer_cert is not None:
        ski = issuer_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
    usage = dict.fromkeys(
        ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment", "key_agreement"),
        False,
    )
    usage.update(encipher_only=False, decipher_only=False, crl_sign=ca, key_cert_sign=ca)
    if not ca:
        usage.update(digital_signature=True, key_encipherment=isinstance(key, rsa.RSAPrivateKey))
        builder = builder.add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.EMAIL_PROTECTION]
            ),
            critical=False,
        )
    builder = builder.add_extension(x509.KeyUsage(**usage), critical=True)
    if dns_names:
        names = [_general_name(n) for n in dns_names]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())
