"""``certs generate|import|list|check``, ``sign`` and ``verify`` as users run them (subprocesses, real openssl)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from b2b_gateway.security.keys import generate_private_key, issue_certificate
from tests.conftest import CliRunner

ENV = {"B2B_SECURITY__KEY_PASSPHRASE": "cli-passphrase-123"}


def openssl(cwd: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, check=False, timeout=60)


def test_certs_generate_list_check(cli: CliRunner, tmp_path: Path) -> None:
    assert cli("certs", "generate", "root", "--ca", "--days", "3650", env=ENV).returncode == 0
    made = cli("certs", "generate", "gw", "--issuer", "root", "--key-type", "ec", "--bits", "256", env=ENV)
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "certs" / "gw.key.pem").read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY")
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    refused = cli("certs", "generate", "nokey", cwd=fresh)
    assert refused.returncode == 1 and "without a passphrase" in refused.stderr
    assert not (fresh / "certs" / "nokey.key.pem").exists()
    locked = cli("certs", "generate", "another")  # the store holds encrypted keys: no passphrase, no entry
    assert locked.returncode == 2 and "passphrase" in locked.stderr
    listed = json.loads(cli("certs", "list", "--json", env=ENV).stdout)
    assert [(r["name"], r["private_key"], r["chain"]) for r in listed] == [("gw", True, 1), ("root", True, 0)]
    assert all("PRIVATE" not in json.dumps(r) for r in listed)
    checked = cli("certs", "check", "--json", env=ENV)
    assert checked.returncode == 0 and json.loads(checked.stdout)["ok"] is True
    warn = cli("certs", "check", "--warning-days", "1000", env=ENV)
    assert warn.returncode == 0 and "expiring" in warn.stdout
    wrong = cli("certs", "list", env={"B2B_SECURITY__KEY_PASSPHRASE": "wrong"})
    assert wrong.returncode == 2 and "wrong passphrase" in wrong.stderr


def test_certs_import_pkcs12_pem_pkcs7_and_check_finds_problems(cli: CliRunner, tmp_path: Path) -> None:
    key = generate_private_key("rsa", 2048)
    now = dt.datetime.now(dt.UTC)
    cert = issue_certificate("partner", key)
    expired = issue_certificate("old", key, not_before=now - dt.timedelta(days=100), days=10)
    (tmp_path / "p.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "p.key").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    (tmp_path / "old.pem").write_bytes(expired.public_bytes(serialization.Encoding.PEM))
    assert (
        openssl(
            tmp_path, "pkcs12", "-export", "-in", "p.pem", "-inkey", "p.key", "-out", "p.p12", "-passout", "pass:pw12"
        ).returncode
        == 0
    )
    assert (
        openssl(tmp_path, "crl2pkcs7", "-nocrl", "-certfile", "p.pem", "-out", "p.p7b", "-outform", "DER").returncode
        == 0
    )
    imported = cli(
        "certs", "import", "p.p12", "--name", "partner-key", "--password-env", "P12", env={**ENV, "P12": "pw12"}
    )
    assert imported.returncode == 0, imported.stderr
    assert cli("certs", "import", "p.p7b", "--name", "partner-p7", env=ENV).returncode == 0
    assert cli("certs", "import", "old.pem", env=ENV).returncode == 0
    bad_pw = cli("certs", "import", "p.p12", "--name", "x", "--password-env", "P12", env={**ENV, "P12": "nope"})
    assert bad_pw.returncode == 1 and "CONFIG_KEYSTORE" in bad_pw.stderr
    listed = {r["name"]: r for r in json.loads(cli("certs", "list", "--json", env=ENV).stdout)}
    assert listed["partner-key"]["private_key"] and not listed["partner-p7"]["private_key"]
    checked = cli("certs", "check", "--json", env=ENV)
    assert checked.returncode == 1
    found = {c["name"]: c["status"] for c in json.loads(checked.stdout)["certificates"]}
    assert found == {"old": "expired", "partner-key": "ok", "partner-p7": "ok"}


def test_sign_and_verify(cli: CliRunner, tmp_path: Path) -> None:
    cli("certs", "generate", "root", "--ca", env=ENV)
    cli("certs", "generate", "gw", "--issuer", "root", env=ENV)
    cli("certs", "generate", "other", env=ENV)
    doc = tmp_path / "order.edi"
    doc.write_bytes(b"UNA:+.? 'UNB+UNOC:3+EURODIS:14+MOCKEDI:ZZ+260101:1200+1'UNZ+0+1'")
    signed = cli("sign", "order.edi", "-o", "order.p7s", "--key", "gw", env=ENV)
    assert signed.returncode == 0, signed.stderr
    ossl = openssl(
        tmp_path, "cms", "-verify", "-binary", "-inform", "DER", "-in", "order.p7s", "-content", "order.edi",
        "-CAfile", "certs/root.crt.pem", "-purpose", "any", "-out", "/dev/null",
    )  # fmt: skip
    assert ossl.returncode == 0, ossl.stderr
    assert cli("verify", "order.edi", "--signature", "order.p7s", "--trust", "root", env=ENV).returncode == 0
    wrong = cli("verify", "order.edi", "--signature", "order.p7s", "--cert", "other", env=ENV)
    assert wrong.returncode == 1 and "CERT_UNTRUSTED" in wrong.stderr
    nothing = cli("verify", "order.edi", "--signature", "order.p7s", env=ENV)
    assert nothing.returncode == 1 and "no trusted root" in nothing.stderr
    doc.write_bytes(doc.read_bytes() + b"tampered")
    tampered = cli("verify", "order.edi", "--signature", "order.p7s", "--trust", "root", env=ENV)
    assert tampered.returncode == 1 and "CONTENT_TAMPERED" in tampered.stderr


def test_sign_and_verify_with_a_partner_profile(cli: CliRunner, tmp_path: Path) -> None:
    cli("certs", "generate", "root", "--ca", env=ENV)
    cli("certs", "generate", "gw", "--issuer", "root", env=ENV)
    profile = tmp_path / "mappings" / "ACME" / "partner.yaml"
    profile.parent.mkdir(parents=True)
    profile.write_text(
        "id: ACME\nsecurity:\n  signature_algorithm: rsa-pss-sha256\n  signing_key: gw\n"
        "  certificates: [gw]\n  trusted_roots: [root]\n"
    )
    (tmp_path / "doc.json").write_text('{"a": 1}')
    signed = cli("sign", "doc.json", "-o", "doc.p7s", "--partner", "ACME", env=ENV)
    assert signed.returncode == 0 and "rsa-pss-sha256" in signed.stderr
    assert cli("verify", "doc.json", "--signature", "doc.p7s", "--partner", "ACME", env=ENV).returncode == 0
    jws = cli("sign", "doc.json", "-o", "doc.jws", "--partner", "ACME", "--jws", env=ENV)
    assert jws.returncode == 0 and (tmp_path / "doc.jws").read_text().count(".") == 2
    assert cli("verify", "doc.json", "--signature", "doc.jws", "--partner", "ACME", env=ENV).returncode == 0
    missing = cli("verify", "doc.json", "--signature", "doc.p7s", "--partner", "NOPE", env=ENV)
    assert missing.returncode == 1 and "CONFIG_PARTNER" in missing.stderr
