"""``schemas install``: put the official UBL 2.1 / CII D16B schemas and the EN 16931 rules in place."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from b2b_gateway.cli.app import settings_of
from b2b_gateway.cli.output import print_errors
from b2b_gateway.errors import GatewayError
from b2b_gateway.formats.xml.official import install_official, load_manifest

__all__ = ["app", "install"]

app = typer.Typer(
    help="The official schemas and rules (UBL 2.1 XSD, CII D16B XSD, EN 16931 XSLT).", no_args_is_help=True
)


@app.command("install")
def install(
    ctx: typer.Context,
    source: Annotated[
        Path | None,
        typer.Option("--from", help="The official release zip, or a directory with ubl-2.1/, cii-d16b/, en16931/"),
    ] = None,
) -> None:
    """Copy the official schemas and rules into the data directory, each file checked against its SHA-256.

    Exit 0 when at least one group was installed, 1 when the source is wrong (nothing changed), 2 on a
    usage error.
    """
    settings = settings_of(ctx)
    manifest = load_manifest()
    if source is None:
        typer.echo("this gateway does not download: fetch the official archives and pass one with --from:", err=True)
        for group, url in manifest.archives.items():
            typer.echo(f"  {group}: {manifest.titles[group]}\n    {url}", err=True)
        raise typer.Exit(2)
    target = settings.paths.installed_schemas
    try:
        report = install_official(source, target)
    except GatewayError as exc:
        print_errors([exc])
        raise typer.Exit(1) from None
    for group, count in report.installed.items():
        typer.echo(f"installed {group}: {count} files verified ({manifest.titles[group]}) into {target / group}")
    for group in report.not_found:
        typer.echo(f"not in the source: {group} ({manifest.titles[group]})", err=True)
