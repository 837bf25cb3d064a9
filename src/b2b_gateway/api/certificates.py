"""Certificates and keys as operations see them: read from the certificates directory.

:class:`PemDirectory` lists every X.509 certificate (PEM or DER) under ``paths.certs_dir`` with its
validity, and checks that every private key there loads with the configured passphrase (``/readyz``).
The partner a certificate belongs to comes from the partner profiles' ``security.certificates``.
"""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from b2b_gateway.api.ports import CertificateInfo
from b2b_gateway.errors import KeyStoreError, Location
from b2b_gateway.partners.directory import PartnerDirectory

__all__ = ["PemDirectory"]

_CERT_SUFFIXES = {".pem", ".crt", ".cer", ".der"}
_KEY_SUFFIXES = {".key"}


class PemDirectory:
    """The certificates and keys in one directory (recursively)."""

    def __init__(
        self, directory: Path, *, partners: PartnerDirectory | None = None, passphrase: bytes | None = None
    ) -> None:
        self.directory = directory
        self._partners = partners or PartnerDirectory()
        self._passphrase = passphrase

    def _owner(self, path: Path) -> str | None:
        names = {path.name, path.stem, str(path.relative_to(self.directory))}
        for profile in self._partners:
            if names & set(profile.security.certificates):
                return profile.id
        return None

    def certificates(self) -> list[CertificateInfo]:
        """Every readable certificate, soonest to expire first (files that are not certificates are skipped)."""
        out: list[CertificateInfo] = []
        if not self.directory.is_dir():
            return out
        for path in sorted(self.directory.rglob("*")):
            if path.suffix.lower() not in _CERT_SUFFIXES or not path.is_file():
                continue
            data = path.read_bytes()
            if b"PRIVATE KEY" in data:
                continue
            try:
                certs = (
                    x509.load_pem_x509_certificates(data)
                    if b"-----BEGIN" in data
                    else [x509.load_der_x509_certificate(data)]
                )
            except ValueError:
                continue
            for index, cert in enumerate(certs):
                name = str(path.relative_to(self.directory)) + (f"#{index}" if index else "")
                out.append(
                    CertificateInfo(
                        name=name,
                        subject=cert.subject.rfc4514_string(),
                        issuer=cert.issuer.rfc4514_string(),
                        not_before=cert.not_valid_before_utc,
                        not_after=cert.not_valid_after_utc,
                        fingerprint_sha256=cert.fingerprint(hashes.SHA256()).hex(),
                        partner=self._owner(path),
                        details={"serial": format(cert.serial_number, "x")},
                    )
                )
        return sorted(out, key=lambda c: c.not_after)

    def check_keys(self) -> int:
        """Load every private key; return how many there are.

        Raises:
            KeyStoreError: a key does not load (broken file or wrong passphrase).
        """
        count = 0
        if not self.directory.is_dir():
            return count
        for path in sorted(self.directory.rglob("*")):
            if not path.is_file() or (path.suffix.lower() not in _KEY_SUFFIXES and b"PRIVATE KEY" not in _head(path)):
                continue
            try:
                serialization.load_pem_private_key(path.read_bytes(), password=self._passphrase)
            except (ValueError, TypeError) as exc:
                raise KeyStoreError(
                    f"private key does not load: {exc}",
                    location=Location(file=str(path)),
                    hint="check the file and security.key_passphrase",
                ) from None
            count += 1
        return count


def _head(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(256)
