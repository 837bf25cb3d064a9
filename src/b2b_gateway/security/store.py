"""The key and certificate store: the gateway's own keys and its partners' certificates, by name.

An entry is a name (what partner profiles and settings refer to) with one or more certificates (the
first is the entry's own certificate, the others its chain, or all of them trust anchors for a CA
bundle) and, for the gateway's own identities, a private key. Several entries may be valid at once:
that is how keys roll over. Which of our keys signs is chosen by name (the partner profile's
``security.signing_key``, else the ``security.signing_key`` setting), else the newest valid one.

The store is a value; :func:`b2b_gateway.security.files.load_store` builds it from ``certs/``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from cryptography import x509

from b2b_gateway.errors import KeyStoreError
from b2b_gateway.security.keys import PrivateKey, fingerprint, subject_text

__all__ = ["CertEntry", "CertStore"]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class CertEntry:
    """One named entry: a certificate, its chain, and our private key when the identity is ours."""

    name: str
    certificates: tuple[x509.Certificate, ...]
    key: PrivateKey | None = None
    key_encrypted: bool = True

    def __post_init__(self) -> None:
        if not self.certificates:
            raise KeyStoreError(f"certificate entry {self.name!r} holds no certificate")

    @property
    def certificate(self) -> x509.Certificate:
        """The entry's own certificate (the first one)."""
        return self.certificates[0]

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        """The certificates after the first: intermediates (and perhaps the root)."""
        return self.certificates[1:]

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.certificate)

    @property
    def not_before(self) -> dt.datetime:
        return self.certificate.not_valid_before_utc

    @property
    def not_after(self) -> dt.datetime:
        return self.certificate.not_valid_after_utc

    def valid_at(self, at: dt.datetime | None = None) -> bool:
        moment = at or _now()
        return self.not_before <= moment <= self.not_after

    def summary(self) -> dict[str, object]:
        """A JSON-ready description (what ``certs list --json`` prints). Never includes key material."""
        cert = self.certificate
        return {
            "name": self.name,
            "subject": subject_text(cert),
            "issuer": cert.issuer.rfc4514_string(),
            "serial": format(cert.serial_number, "X"),
            "fingerprint_sha256": self.fingerprint,
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "chain": len(self.chain),
            "private_key": self.key is not None,
            "key_encrypted": self.key_encrypted if self.key is not None else None,
            "key_type": type(cert.public_key()).__name__.removeprefix("_").replace("PublicKey", ""),
        }


class CertStore:
    """An immutable set of named certificate entries."""

    def __init__(self, entries: Iterable[CertEntry] = ()) -> None:
        self._entries = {e.name: e for e in entries}

    def __iter__(self) -> Iterator[CertEntry]:
        return iter(sorted(self._entries.values(), key=lambda e: e.name))

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def with_entry(self, entry: CertEntry) -> CertStore:
        """A new store with ``entry`` added (or replacing the entry of the same name)."""
        return CertStore([*(e for e in self._entries.values() if e.name != entry.name), entry])

    def get(self, name: str) -> CertEntry:
        """The entry called ``name``.

        Raises:
            KeyStoreError: no such entry.
        """
        entry = self._entries.get(name)
        if entry is None:
            known = ", ".join(sorted(self._entries)) or "none"
            raise KeyStoreError(f"no certificate named {name!r} in the store (known: {known})")
        return entry

    def certificates(self, names: Iterable[str]) -> list[x509.Certificate]:
        """The own certificates of the entries called ``names`` (a partner's certificates)."""
        return [self.get(n).certificate for n in names]

    def anchors(self, names: Iterable[str]) -> list[x509.Certificate]:
        """Every certificate of the entries called ``names`` (trusted roots: a bundle may hold several)."""
        return [c for n in names for c in self.get(n).certificates]

    def all_certificates(self) -> list[x509.Certificate]:
        """Every certificate in the store (intermediates for chain building)."""
        return [c for e in self._entries.values() for c in e.certificates]

    def identities(self) -> list[CertEntry]:
        """Our own identities: the entries with a private key, newest first."""
        own = [e for e in self._entries.values() if e.key is not None]
        return sorted(own, key=lambda e: e.not_before, reverse=True)

    def signing_identity(self, name: str | None = None, *, at: dt.datetime | None = None) -> CertEntry:
        """The identity that signs: the one called ``name``, else the newest one valid now.

        Raises:
            KeyStoreError: the named entry is missing or has no key, or no key is valid now.
        """
        if name:
            entry = self.get(name)
            if entry.key is None:
                raise KeyStoreError(f"certificate {name!r} has no private key: it cannot sign")
            return entry
        for entry in self.identities():
            if entry.valid_at(at):
                return entry
        raise KeyStoreError(
            "no valid private key in the certificate store to sign with",
            hint="create one with 'b2b-gateway certs generate NAME' or import one with 'certs import'",
        )

    def find(self, fingerprint_hex: str) -> CertEntry | None:
        """The entry whose own certificate has this SHA-256 fingerprint."""
        return next((e for e in self._entries.values() if e.fingerprint == fingerprint_hex.upper()), None)
