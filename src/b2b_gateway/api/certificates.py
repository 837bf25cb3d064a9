"""Certificates and keys as operations see them, from the certificates directory (``paths.certs_dir``).

The directory is the security store's (``<name>.crt.pem`` with its chain, ``<name>.key.pem`` for our
own identities; see :mod:`b2b_gateway.security.files`); other certificate files (``.pem``, ``.crt``,
``.cer``, ``.der``) are listed too. A certificate belongs to the partner whose profile names it in
``security.certificates`` or ``security.trusted_roots``. ``/readyz`` loads the store the way the
gateway does, so a key that does not decrypt with the configured passphrase makes it not ready.
"""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from b2b_gateway.api.ports import CertificateInfo
from b2b_gateway.partners.directory import PartnerDirectory
from b2b_gateway.security.files import CERT_SUFFIX, KEY_SUFFIX, load_store

__all__ = ["PemDirectory"]

_CERT_SUFFIXES = {".pem", ".crt", ".cer", ".der"}


def _name(path: Path, root: Path) -> str:
    relative = str(path.relative_to(root))
    return relative.removesuffix(CERT_SUFFIX) if relative.endswith(CERT_SUFFIX) else relative


class PemDirectory:
    """The certificates and keys in one directory (recursively for listing)."""

    def __init__(
        self, directory: Path, *, partners: PartnerDirectory | None = None, passphrase: bytes | None = None
    ) -> None:
        self.directory = directory
        self._partners = partners or PartnerDirectory()
        self._passphrase = passphrase

    def _owner(self, name: str, path: Path) -> str | None:
        names = {name, path.name, path.stem}
        for profile in self._partners:
            if names & {*profile.security.certificates, *profile.security.trusted_roots}:
                return profile.id
        return None

    def _files(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return [
            p
            for p in sorted(self.directory.rglob("*"))
            if p.is_file() and p.suffix.lower() in _CERT_SUFFIXES and not p.name.endswith(KEY_SUFFIX)
        ]

    def certificates(self) -> list[CertificateInfo]:
        """Every readable certificate (an entry's own, not its chain), soonest to expire first."""
        out: list[CertificateInfo] = []
        for path in self._files():
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
            cert, name = certs[0], _name(path, self.directory)
            out.append(
                CertificateInfo(
                    name=name,
                    subject=cert.subject.rfc4514_string(),
                    issuer=cert.issuer.rfc4514_string(),
                    not_before=cert.not_valid_before_utc,
                    not_after=cert.not_valid_after_utc,
                    fingerprint_sha256=cert.fingerprint(hashes.SHA256()).hex(),
                    partner=self._owner(name, path),
                    details={"serial": format(cert.serial_number, "X"), "chain": len(certs) - 1},
                )
            )
        return sorted(out, key=lambda c: c.not_after)

    def check_keys(self) -> int:
        """Load the store as the gateway does (every key decrypted); return how many identities it has.

        Raises:
            KeyStoreError: an entry does not load (broken file, wrong passphrase, key not matching).
        """
        return len(load_store(self.directory, self._passphrase).identities())
