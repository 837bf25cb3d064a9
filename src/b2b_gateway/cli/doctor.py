"""``doctor``: what works and what is off in this installation, with what to do about it.

Each check is a function of the settings returning :class:`Finding` values. Other parts of the gateway
add theirs with :func:`register_check`; ``doctor`` runs them in registration order and exits 1 when any
finding is a failure (warnings say what is off but the gateway runs).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Literal

import typer

from b2b_gateway.cli.app import settings_of
from b2b_gateway.cli.output import print_json
from b2b_gateway.formats.xml.cen import saxon_available
from b2b_gateway.formats.xml.official import installed_status, load_manifest
from b2b_gateway.settings import Settings

__all__ = ["CHECKS", "Finding", "doctor", "register_check"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One result: ``ok``, ``warn`` (something is off, the gateway runs) or ``fail``."""

    check: str
    status: Literal["ok", "warn", "fail"]
    detail: str
    hint: str | None = None


Check = Callable[[Settings], list[Finding]]
CHECKS: list[Check] = []


def register_check(check: Check) -> Check:
    """Add a check to ``doctor`` (usable as a decorator)."""
    CHECKS.append(check)
    return check


@register_check
def python_version(settings: Settings) -> list[Finding]:
    v = sys.version_info
    return [Finding("python", "ok", f"Python {v.major}.{v.minor}.{v.micro}")]


@register_check
def official_schemas(settings: Settings) -> list[Finding]:
    """Installed official schemas and rules (checksums verified) and the XSLT 2 processor."""
    target = settings.paths.installed_schemas
    manifest = load_manifest()
    hint = f"b2b-gateway schemas install --from <archive or directory>  (installs into {target})"
    effect = {
        "ubl-2.1": "UBL XSD validation",
        "cii-d16b": "CII XSD validation",
        "en16931": "EN 16931 (CEN) rule validation",
    }
    out: list[Finding] = []
    for group, status in installed_status(target, verify=True).items():
        name = f"schemas {group}"
        if status.state == "installed":
            out.append(
                Finding(name, "ok", f"{manifest.titles[group]}: {status.files} files verified; {effect[group]} is on")
            )
        elif status.state == "missing":
            out.append(Finding(name, "warn", f"not installed: {effect[group]} is off", hint))
        else:
            out.append(Finding(name, "fail", f"{status.state}: {status.problems[0]}; {effect[group]} is off", hint))
    if saxon_available():
        out.append(Finding("xslt2", "ok", "saxonche is installed: the EN 16931 rules can run"))
    else:
        out.append(
            Finding(
                "xslt2",
                "warn",
                "saxonche (XSLT 2) is not installed: EN 16931 (CEN) rule validation is off at run time; "
                "the gateway's own business rules still run",
                "pip install 'b2b-gateway[rules]'",
            )
        )
    return out


def doctor(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON report on stdout")] = False,
) -> None:
    """Check the installation: official schemas and rules, optional components. Exit 1 on a failure."""
    settings = settings_of(ctx)
    findings = [f for check in CHECKS for f in check(settings)]
    if as_json:
        print_json([{"check": f.check, "status": f.status, "detail": f.detail, "hint": f.hint} for f in findings])
    else:
        for f in findings:
            typer.echo(f"{f.status:>4}  {f.check}: {f.detail}")
            if f.hint and f.status != "ok":
                typer.echo(f"      hint: {f.hint}")
    raise typer.Exit(1 if any(f.status == "fail" for f in findings) else 0)
