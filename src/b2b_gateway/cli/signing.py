"""``sign`` and ``verify``: detached CMS signatures (or JWS) over a file.

The partner's profile (``--partner``) says which key signs, with which algorithm, and which
certificates and roots a signature must match; ``--key``, ``--cert`` and ``--trust`` say the same
without a profile (entry names in ``certs/`` or certificate files).
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Annotated

import typer
import yaml
from cryptography import x509
from pydantic import ValidationError

from b2b_gateway.cli.app import settings_of
from b2b_gateway.cli.output import print_errors
from b2b_gateway.errors import GatewayError, Location, PartnerConfigError
from b2b_gateway.partners.profile import PartnerProfile
from b2b_gateway.security.algorithms import default_signature_algorithm
from b2b_gateway.security.files import load_store, read_file
from b2b_gateway.security.jws import sign_jws, verify_jws
from b2b_gateway.security.keys import read_container, subject_text
from b2b_gateway.security.signature import sign_cms, verify_cms
from b2b_gateway.security.store import CertStore
from b2b_gateway.settings import Settings

__all__ = ["load_profile", "sign", "verify"]

PartnerOpt = Annotated[str | None, typer.Option("--partner", "-p", help="Partner id (its profile's security policy)")]


def load_profile(settings: Settings, partner_id: str) -> PartnerProfile:
    """The profile in ``<mappings_dir>/<partner>/partner.yaml`` (until the partner directory loader lands).

    Raises:
        PartnerConfigError: missing or invalid.
    """
    path = settings.paths.mappings_dir / partner_id / "partner.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return PartnerProfile.model_validate(data)
    except OSError as exc:
        raise PartnerConfigError(
            f"no profile for partner {partner_id!r}: {exc.strerror}", location=Location(file=str(path))
        ) from None
    except (yaml.YAMLError, ValidationError) as exc:
        raise PartnerConfigError(f"invalid profile: {exc}", location=Location(file=str(path))) from None


def _certificates(store: CertStore, values: list[str]) -> list[x509.Certificate]:
    out: list[x509.Certificate] = []
    for value in values:
        path = Path(value)
        if value in store:
            out.extend(store.get(value).certificates)
        elif path.exists():
            out.extend(read_container(read_file(path)).certificates)
        else:
            store.get(value)  # raises the "no certificate named" error
    return out


def sign(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The file to sign")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the signature (FILE.p7s)")],
    partner: PartnerOpt = None,
    key: Annotated[str | None, typer.Option("--key", help="Our key entry (default: the partner's, else ours)")] = None,
    algorithm: Annotated[
        str | None, typer.Option("--algorithm", help="rsa-sha256, rsa-pss-sha256, ecdsa-sha256 …")
    ] = None,
    jws: Annotated[bool, typer.Option("--jws", help="A detached JWS instead of CMS")] = False,
    pem: Annotated[bool, typer.Option("--pem", help="Write PEM instead of DER")] = False,
) -> None:
    """Sign FILE with a detached CMS signature (DER) that `openssl cms -verify` accepts. Exit 0, 1 or 2."""
    settings = settings_of(ctx)
    try:
        profile = load_profile(settings, partner) if partner else None
        store = load_store(settings.paths.certs_dir, settings.security.passphrase())
        policy = profile.security if profile else None
        identity = store.signing_identity(
            key or (policy.signing_key if policy else None) or settings.security.signing_key
        )
        alg = algorithm or (policy.signature_algorithm if policy else default_signature_algorithm(identity.key))
        data = read_file(file)
        if jws or (policy is not None and policy.jws):
            signature = sign_jws(data, identity, alg).encode("ascii")
        else:
            signature = sign_cms(data, identity, alg)
            if pem:
                body = base64.encodebytes(signature).decode()
                signature = f"-----BEGIN CMS-----\n{body}-----END CMS-----\n".encode()
        output.write_bytes(signature)
    except GatewayError as exc:
        print_errors([exc])
        raise typer.Exit(1) from None
    typer.echo(f"{output}: signed by {subject_text(identity.certificate)} ({alg})", err=True)


def verify(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The signed file")],
    signature: Annotated[Path, typer.Option("--signature", "-s", help="The detached signature (.p7s or JWS)")],
    partner: PartnerOpt = None,
    cert: Annotated[list[str] | None, typer.Option("--cert", help="Partner certificate: entry name or file")] = None,
    trust: Annotated[list[str] | None, typer.Option("--trust", help="Trusted root: entry name or file")] = None,
) -> None:
    """Verify a detached signature over FILE. Exit 0 when valid, 1 when not (with the reason)."""
    settings = settings_of(ctx)
    try:
        profile = load_profile(settings, partner) if partner else None
        store = load_store(settings.paths.certs_dir, settings.security.passphrase())
        certs = _certificates(store, [*(profile.security.certificates if profile else []), *(cert or [])])
        roots = _certificates(store, [*(profile.security.trusted_roots if profile else []), *(trust or [])])
        data = read_file(file)
        sig = read_file(signature)
        if sig.count(b".") == 2 and sig.strip()[:1] == b"e":
            signer = verify_jws(data, sig.decode("ascii").strip(), certificates=certs, trusted_roots=roots)
        else:
            signer = verify_cms(
                sig, data, certificates=certs, trusted_roots=roots, intermediates=store.all_certificates()
            ).signer
    except GatewayError as exc:
        print_errors([exc], source=str(file))
        raise typer.Exit(1) from None
    typer.echo(f"{file}: valid signature by {subject_text(signer)}", err=True)
