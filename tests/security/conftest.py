"""A real test PKI (root CA, intermediate, leaves; expired, future and foreign ones) and an openssl runner."""

from __future__ import annotations

import datetime as dt
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from b2b_gateway.security.keys import PrivateKey, generate_private_key, issue_certificate
from b2b_gateway.security.store import CertEntry, CertStore

EDIFACT_ORDERS = (
    "UNA:+.? '"
    "UNB+UNOC:3+EURODIS:14+MOCKEDI:ZZ+260101:1200+{ref}'"
    "UNH+1+ORDERS:D:96A:UN'"
    "BGM+220+{po}+9'"
    "DTM+137:20260101:102'"
    "NAD+BY+EURODIS::9'"
    "NAD+SU+MOCKEDI::9'"
    "CUX+2:EUR:9'"
    "LIN+1++WIDGET-001:SA'"
    "QTY+21:10'"
    "PRI+AAA:12.50'"
    "UNS+S'"
    "UNT+11+1'"
    "UNZ+1+{ref}'"
)


def orders(ref: str = "1001", po: str = "PO-SEC-1") -> bytes:
    """An EDIFACT ORDERS from EURODIS to MOCKEDI that mock-edi accepts."""
    return EDIFACT_ORDERS.format(ref=ref, po=po).encode("ascii")


def pem(certs: Sequence[x509.Certificate]) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@dataclass
class Pki:
    """Certificates and keys for the tests, all made fresh with real cryptography."""

    root: CertEntry
    intermediate: CertEntry
    gateway: CertEntry
    partner: CertEntry
    partner_ec: CertEntry
    partner_next: CertEntry
    expired: CertEntry
    future: CertEntry
    foreign_root: CertEntry
    foreign: CertEntry

    def store(self, *extra: CertEntry) -> CertStore:
        return CertStore([self.root, self.intermediate, self.gateway, *extra])


def make_leaf(
    name: str, ca: CertEntry, *, chain: tuple[x509.Certificate, ...] = (), kind: str = "rsa", **kw: object
) -> CertEntry:
    """A leaf certificate issued by ``ca`` (RSA 2048 or EC P-256), with ``chain`` after it."""
    assert ca.key is not None
    key = generate_private_key("ec" if kind == "ec" else "rsa", 256 if kind == "ec" else 2048)
    cert = issue_certificate(name, key, issuer=(ca.certificate, ca.key), **kw)  # type: ignore[arg-type]
    return CertEntry(name, (cert, *chain), key)


def _ca(name: str, issuer: CertEntry | None = None) -> CertEntry:
    key = generate_private_key("rsa", 2048)
    signer = (issuer.certificate, issuer.key) if issuer and issuer.key else None
    cert = issue_certificate(name, key, issuer=signer, ca=True, days=3650)
    return CertEntry(name, (cert,), key)


@pytest.fixture(scope="session")
def pki() -> Pki:
    root = _ca("Test Root CA")
    inter = _ca("Test Intermediate CA", root)
    foreign_root = _ca("Foreign Root CA")
    now = dt.datetime.now(dt.UTC)

    def leaf(name: str, ca: CertEntry, kind: str = "rsa", **kw: object) -> CertEntry:
        return make_leaf(name, ca, chain=(inter.certificate,) if ca is inter else (), kind=kind, **kw)

    return Pki(
        root=root,
        intermediate=inter,
        gateway=leaf("gateway", inter, dns_names=("localhost", "127.0.0.1")),
        partner=leaf("partner", inter, dns_names=("localhost", "127.0.0.1")),
        partner_ec=leaf("partner-ec", inter, "ec"),
        partner_next=leaf("partner-next", inter),
        expired=leaf("expired", inter, not_before=now - dt.timedelta(days=400), days=30),
        future=leaf("future", inter, not_before=now + dt.timedelta(days=30), days=365),
        foreign_root=foreign_root,
        foreign=leaf("foreign", foreign_root),
    )


Openssl = Callable[..., subprocess.CompletedProcess[bytes]]


@pytest.fixture
def openssl(tmp_path: Path) -> Openssl:
    """Run the real ``openssl`` in a scratch directory; fails the test on a non-zero exit unless check=False."""

    def run(*args: str, input: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        proc = subprocess.run(
            ["openssl", *args], input=input, capture_output=True, cwd=tmp_path, timeout=60, check=False
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"openssl {' '.join(args)} failed: {proc.stderr.decode(errors='replace')}")
        return proc

    return run


@pytest.fixture
def files(tmp_path: Path, pki: Pki) -> Callable[[str, bytes], Path]:
    """Write bytes to a scratch file and return its path."""

    def write(name: str, data: bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(data)
        return path

    return write
