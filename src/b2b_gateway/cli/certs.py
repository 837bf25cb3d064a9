"""``certs generate|import|list|check``: the key and certificate store in ``certs/``.

Private keys are written encrypted with the key passphrase from the environment
(``B2B_SECURITY__KEY_PASSPHRASE``) or a file (``B2B_SECURITY__KEY_PASSPHRASE_FILE``); never in clear.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from cryptography import x509

from b2b_gateway.cli.app import settings_of
from b2b_gateway.cli.output import print_errors, print_json
from b2b_gateway.errors import GatewayError, KeyStoreError
from b2b_gateway.security.check import check_store
from b2b_gateway.security.files import load_store, read_file, save_entry
from b2b_gateway.security.keys import PrivateKey, generate_private_key, issue_certificate, key_matches, read_container
from b2b_gateway.security.store import CertStore
from b2b_gateway.settings import Settings

__all__ = ["app"]

app = typer.Typer(help="Keys and certificates in certs/: generate, import, list, check.", no_args_is_help=True)

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
NameArg = Annotated[str, typer.Argument(help="Entry name (what partner profiles refer to)", show_default=False)]


@contextmanager
def _exit_on_error(code: int = 1) -> Iterator[None]:
    """Print a GatewayError raised in the block and exit with ``code``."""
    try:
        yield
    except GatewayError as exc:
        print_errors([exc])
        raise typer.Exit(code) from None


def _store(settings: Settings) -> CertStore:
    try:
        return load_store(settings.paths.certs_dir, settings.security.passphrase())
    except GatewayError as exc:
        print_errors([exc])
        raise typer.Exit(2) from None


def _save(settings: Settings, name: str, certs: list[x509.Certificate], key: PrivateKey | None) -> None:
    """Write the entry (the key encrypted with our passphrase) and print the files written."""
    with _exit_on_error():
        written = save_entry(settings.paths.certs_dir, name, certs, key, settings.security.passphrase())
    for path in written:
        typer.echo(str(path))


def _check_name(name: str) -> None:
    if not _NAME.match(name) or name.endswith((".crt", ".key")):
        raise typer.BadParameter(f"{name!r}: use letters, digits, '.', '-' and '_'", param_hint="NAME")


@app.command("generate")
def generate(
    ctx: typer.Context,
    name: NameArg,
    common_name: Annotated[str | None, typer.Option("--cn", help="Subject CN (default: the name)")] = None,
    key_type: Annotated[str, typer.Option("--key-type", help="rsa or ec")] = "rsa",
    bits: Annotated[int, typer.Option("--bits", help="RSA bits (2048+), or 256/384 for EC")] = 3072,
    days: Annotated[int, typer.Option("--days", help="Validity in days")] = 730,
    ca: Annotated[bool, typer.Option("--ca", help="A CA certificate (for test chains and mutual TLS)")] = False,
    issuer: Annotated[
        str | None, typer.Option("--issuer", help="Sign with this CA entry instead of self-signing")
    ] = None,
    dns: Annotated[list[str] | None, typer.Option("--dns", help="Subject alternative name (repeatable)")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing entry")] = False,
) -> None:
    """Generate a key and certificate (self-signed, or issued by a CA entry) as entry NAME."""
    _check_name(name)
    if key_type not in ("rsa", "ec"):
        raise typer.BadParameter("use rsa or ec", param_hint="--key-type")
    settings = settings_of(ctx)
    store = _store(settings)
    with _exit_on_error():
        if name in store and not force:
            raise KeyStoreError(f"entry {name!r} exists", hint="choose another name (rollover) or --force")
    with _exit_on_error():
        signer = None
        chain: list[x509.Certificate] = []
        if issuer:
            entry = store.get(issuer)
            if entry.key is None:
                raise KeyStoreError(f"issuer {issuer!r} has no private key")
            signer = (entry.certificate, entry.key)
            chain = list(entry.certificates)
        key = generate_private_key("ec" if key_type == "ec" else "rsa", bits)
        cert = issue_certificate(common_name or name, key, issuer=signer, days=days, ca=ca, dns_names=tuple(dns or ()))
    _save(settings, name, [cert, *chain], key)


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="PEM, DER, PKCS#12 (.p12/.pfx) or PKCS#7 (.p7b) file")],
    name: Annotated[str | None, typer.Option("--name", help="Entry name (default: the file name)")] = None,
    password_env: Annotated[
        str | None, typer.Option("--password-env", help="Environment variable with the PKCS#12/key password")
    ] = None,
    password_file: Annotated[Path | None, typer.Option("--password-file", help="File with that password")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing entry")] = False,
) -> None:
    """Import certificates (and a private key) into certs/, re-encrypting the key with our passphrase."""
    settings = settings_of(ctx)
    entry_name = name or file.name.split(".")[0]
    _check_name(entry_name)
    password: bytes | None = None
    if password_env:
        password = os.environ.get(password_env, "").encode() or None
    elif password_file:
        password = read_file(password_file).splitlines()[0].strip() if password_file.exists() else None
    store = _store(settings)
    with _exit_on_error():
        if entry_name in store and not force:
            raise KeyStoreError(f"entry {entry_name!r} exists", hint="use --name for a rollover entry, or --force")
        loaded = read_container(read_file(file), password)
        certs = list(loaded.certificates)
        if not certs:
            raise KeyStoreError(f"{file} holds no certificate")
        if loaded.key is not None:
            own = next((c for c in certs if key_matches(c, loaded.key)), None)
            if own is None:
                raise KeyStoreError(f"the private key in {file} matches none of its certificates")
            certs = [own, *(c for c in certs if c is not own)]
    _save(settings, entry_name, certs, loaded.key)


@app.command("list")
def list_(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON array on stdout")] = False,
) -> None:
    """List the entries: subject, validity, fingerprint, whether we hold the key."""
    store = _store(settings_of(ctx))
    rows = [e.summary() for e in store]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        key = "key" if row["private_key"] else "   "
        typer.echo(f"{row['name']:<24} {key} until {str(row['not_after'])[:10]}  {row['subject']}")


@app.command("check")
def check(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON report on stdout")] = False,
    warning_days: Annotated[
        int | None, typer.Option("--warning-days", help="Soon-to-expire window (default: security.cert_warning_days)")
    ] = None,
) -> None:
    """Report expired, not-yet-valid and soon-to-expire certificates and broken chains.

    Exit 0 when nothing is wrong (warnings allowed), 1 when a certificate is expired, not yet valid or
    its chain is broken.
    """
    settings = settings_of(ctx)
    findings = check_store(_store(settings), warning_days=warning_days or settings.security.cert_warning_days)
    bad = any(f.severity == "error" for f in findings)
    if as_json:
        print_json({"ok": not bad, "certificates": [f.to_dict() for f in findings]})
    else:
        for f in findings:
            typer.echo(f"{f.severity:<7} {f.name:<24} {f.status:<14} {f.detail}")
    raise typer.Exit(1 if bad else 0)
