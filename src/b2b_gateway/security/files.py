"""The edge of the security package: the only code that reads and writes ``certs/``.

Layout, one entry per name::

    certs/<name>.crt.pem   the certificate, then its chain (PEM)
    certs/<name>.key.pem   our private key, PKCS#8 encrypted with the key passphrase (own identities only)

The passphrase comes from the settings (environment or file), never from the command line or a file
in ``certs/``.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from b2b_gateway.errors import KeyStoreError, Location
from b2b_gateway.security.keys import PrivateKey, encrypt_private_key, key_matches, load_private_key, read_container
from b2b_gateway.security.store import CertEntry, CertStore

__all__ = ["CERT_SUFFIX", "KEY_SUFFIX", "load_entry", "load_store", "read_file", "save_entry"]

CERT_SUFFIX = ".crt.pem"
KEY_SUFFIX = ".key.pem"


def read_file(path: Path) -> bytes:
    """The bytes of ``path``.

    Raises:
        KeyStoreError: the file cannot be read.
    """
    try:
        return path.read_bytes()
    except OSError as exc:
        raise KeyStoreError(f"cannot read {path}: {exc.strerror}", location=Location(file=str(path))) from None


def load_entry(directory: Path, name: str, passphrase: bytes | None) -> CertEntry:
    """The entry called ``name`` in ``directory``, its key decrypted with ``passphrase``.

    Raises:
        KeyStoreError: a missing or unreadable file, a wrong passphrase, or a key that does not match.
    """
    cert_path = directory / f"{name}{CERT_SUFFIX}"
    try:
        loaded = read_container(read_file(cert_path))
    except KeyStoreError as exc:
        raise exc.at(Location(file=str(cert_path))) from None
    key: PrivateKey | None = None
    encrypted = True
    key_path = directory / f"{name}{KEY_SUFFIX}"
    if key_path.exists():
        data = read_file(key_path)
        encrypted = b"ENCRYPTED" in data
        try:
            key = load_private_key(data, passphrase)
        except KeyStoreError as exc:
            raise exc.at(Location(file=str(key_path))) from None
        if loaded.certificates and not key_matches(loaded.certificates[0], key):
            raise KeyStoreError("the private key does not match the certificate", location=Location(file=str(key_path)))
    return CertEntry(name=name, certificates=loaded.certificates, key=key, key_encrypted=encrypted)


def load_store(directory: Path, passphrase: bytes | None) -> CertStore:
    """Every entry in ``directory`` (an absent directory is an empty store).

    Raises:
        KeyStoreError: an entry cannot be read.
    """
    if not directory.is_dir():
        return CertStore()
    names = sorted(p.name[: -len(CERT_SUFFIX)] for p in directory.glob(f"*{CERT_SUFFIX}"))
    return CertStore(load_entry(directory, n, passphrase) for n in names)


def save_entry(
    directory: Path,
    name: str,
    certificates: list[x509.Certificate],
    key: PrivateKey | None,
    passphrase: bytes | None,
) -> list[Path]:
    """Write an entry: the certificates as PEM, the key encrypted with ``passphrase`` (mode 0600).

    Returns:
        The files written.

    Raises:
        KeyStoreError: a key but no passphrase, or the files cannot be written.
    """
    if not certificates:
        raise KeyStoreError(f"nothing to save for {name!r}: no certificate")
    key_pem = encrypt_private_key(key, passphrase or b"") if key is not None else None
    written: list[Path] = []
    try:
        directory.mkdir(parents=True, exist_ok=True)
        cert_path = directory / f"{name}{CERT_SUFFIX}"
        cert_path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates))
        written.append(cert_path)
        if key_pem is not None:
            key_path = directory / f"{name}{KEY_SUFFIX}"
            fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(key_pem)
            written.append(key_path)
    except OSError as exc:
        raise KeyStoreError(f"cannot write to {directory}: {exc.strerror}") from None
    return written
