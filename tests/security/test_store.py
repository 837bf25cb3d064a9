"""The key and certificate store: every container format, keys encrypted at rest, rollover, health checks."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from b2b_gateway.errors import KeyStoreError
from b2b_gateway.observability.logging import configure_logging
from b2b_gateway.runtime.security import report_certificates
from b2b_gateway.security.check import check_store, expiry_timestamps
from b2b_gateway.security.files import load_store, save_entry
from b2b_gateway.security.keys import fingerprint, key_matches, load_private_key, read_container
from b2b_gateway.security.store import CertEntry, CertStore
from b2b_gateway.settings import LoggingSettings, Settings
from tests.security.conftest import Openssl, Pki, key_pem, make_leaf, pem

PASS = b"correct horse battery staple"


def test_reads_pem_chain_and_key(pki: Pki) -> None:
    assert pki.partner.key is not None
    loaded = read_container(pem(pki.partner.certificates) + key_pem(pki.partner.key))
    assert [fingerprint(c) for c in loaded.certificates] == [fingerprint(c) for c in pki.partner.certificates]
    assert loaded.key is not None and key_matches(loaded.certificates[0], loaded.key)


def test_reads_der_pkcs12_and_pkcs7_made_by_openssl(
    pki: Pki, openssl: Openssl, files: Callable[[str, bytes], Path]
) -> None:
    assert pki.partner.key is not None
    files("c.pem", pem(pki.partner.certificates))
    files("k.pem", key_pem(pki.partner.key))
    der = openssl("x509", "-in", "c.pem", "-outform", "DER").stdout
    assert fingerprint(read_container(der).certificates[0]) == pki.partner.fingerprint
    p12 = openssl("pkcs12", "-export", "-in", "c.pem", "-inkey", "k.pem", "-passout", "pass:p12pw").stdout
    loaded = read_container(p12, b"p12pw")
    assert loaded.key is not None and key_matches(loaded.certificates[0], loaded.key)
    assert len(loaded.certificates) == 2
    with pytest.raises(KeyStoreError):
        read_container(p12, b"wrong")
    for form in ("DER", "PEM"):
        p7 = openssl("crl2pkcs7", "-nocrl", "-certfile", "c.pem", "-outform", form).stdout
        assert {fingerprint(c) for c in read_container(p7).certificates} == {
            fingerprint(c) for c in pki.partner.certificates
        }
    with pytest.raises(KeyStoreError, match="not a PEM, DER"):
        read_container(b"garbage, not a certificate")


def test_keys_are_encrypted_at_rest_and_need_the_passphrase(pki: Pki, tmp_path: Path) -> None:
    written = save_entry(tmp_path, "gw", list(pki.gateway.certificates), pki.gateway.key, PASS)
    key_file = tmp_path / "gw.key.pem"
    assert key_file in written and key_file.stat().st_mode & 0o077 == 0
    text = key_file.read_bytes()
    assert b"ENCRYPTED PRIVATE KEY" in text and PASS not in text
    assert load_store(tmp_path, PASS).get("gw").key is not None
    with pytest.raises(KeyStoreError, match="wrong passphrase"):
        load_store(tmp_path, b"not the passphrase")
    with pytest.raises(KeyStoreError, match="no passphrase"):
        load_store(tmp_path, None)
    with pytest.raises(KeyStoreError, match="without a passphrase"):
        save_entry(tmp_path, "other", list(pki.gateway.certificates), pki.gateway.key, None)
    assert load_private_key(text, PASS).key_size == 2048  # type: ignore[union-attr]


def test_mismatched_key_is_refused(pki: Pki, tmp_path: Path) -> None:
    save_entry(tmp_path, "gw", list(pki.gateway.certificates), pki.gateway.key, PASS)
    (tmp_path / "gw.crt.pem").write_bytes(pem(pki.partner.certificates))
    with pytest.raises(KeyStoreError, match="does not match"):
        load_store(tmp_path, PASS)


def test_rollover_several_valid_keys_and_a_choice_of_signer(pki: Pki) -> None:
    now = dt.datetime.now(dt.UTC)
    old = make_leaf("gw-2025", pki.intermediate, not_before=now - dt.timedelta(days=300), days=400)
    new = make_leaf("gw-2026", pki.intermediate, not_before=now - dt.timedelta(days=1), days=400)
    store = CertStore([old, new, CertEntry("partner", pki.partner.certificates)])
    assert store.signing_identity().name == "gw-2026"  # newest valid by default
    assert store.signing_identity("gw-2025").name == "gw-2025"  # a profile may pin the old one
    assert [e.name for e in store.identities()] == ["gw-2026", "gw-2025"]
    with pytest.raises(KeyStoreError, match="no certificate named"):
        store.get("gw-2030")
    only_cert = CertEntry("cert-only", pki.partner.certificates)
    with pytest.raises(KeyStoreError, match="no private key"):
        CertStore([only_cert]).signing_identity("cert-only")
    with pytest.raises(KeyStoreError, match="no valid private key"):
        CertStore([pki.expired]).signing_identity()


def test_check_reports_each_problem(pki: Pki) -> None:
    now = dt.datetime.now(dt.UTC)
    soon = make_leaf("soon", pki.intermediate, chain=(pki.intermediate.certificate,), not_before=now, days=10)
    orphan = CertEntry("orphan", (pki.foreign.certificate,))
    plain_key = CertEntry("plain", pki.partner.certificates, pki.partner.key, key_encrypted=False)
    store = CertStore([pki.root, pki.intermediate, pki.gateway, pki.expired, pki.future, soon, orphan, plain_key])
    found = {f.name: f for f in check_store(store, warning_days=30)}
    assert found["gateway"].status == "ok" and found["gateway"].severity == "ok"
    assert found["expired"].status == "expired" and found["expired"].severity == "error"
    assert found["future"].status == "not-yet-valid" and found["future"].severity == "error"
    assert found["soon"].status == "expiring" and found["soon"].severity == "warning"
    assert found["orphan"].status == "broken-chain" and "Foreign Root CA" in found["orphan"].detail
    assert found["plain"].status == "unencrypted-key"
    assert {f.name: f.status for f in check_store(store, warning_days=5)}["soon"] == "ok"
    stamps = expiry_timestamps(store)
    assert stamps["soon"] == pytest.approx((now + dt.timedelta(days=10)).timestamp(), abs=120)
    assert set(stamps) == {e.name for e in store}


def test_the_running_gateway_warns_about_certificates(pki: Pki) -> None:
    out = io.StringIO()
    configure_logging(LoggingSettings(format="json"), stream=out)
    store = CertStore([pki.root, pki.intermediate, pki.gateway, pki.expired])
    findings = report_certificates(store, Settings(security={"cert_warning_days": 30}))  # type: ignore[arg-type]
    assert {f.name: f.severity for f in findings}["expired"] == "error"
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(e["event"], e["certificate"], e["level"]) for e in events] == [("cert.expired", "expired", "warning")]
