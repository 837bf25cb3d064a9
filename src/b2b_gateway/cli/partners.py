"""``partners list``, ``partners check`` and ``partners init``: onboarding trading partners with files."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from b2b_gateway.cli.app import settings_of
from b2b_gateway.cli.output import err_console, print_errors, print_json
from b2b_gateway.errors import GatewayError, Location, PartnerConfigError
from b2b_gateway.partners.repository import PartnerRepository
from b2b_gateway.runtime.context import load_repository
from b2b_gateway.runtime.scaffold import DOCUMENTS, FORMATS, scaffold_partner

__all__ = ["app", "check", "init", "list_partners"]

app = typer.Typer(help="Trading partners: profiles, mappings, certificates.", no_args_is_help=True)


def _summary(repo: PartnerRepository) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for directory in repo.partner_dirs():
        bundle = repo.bundles.get(directory.name)
        problems = repo.problems.get(directory.name, [])
        errors = [e for e in problems if e.severity == "error"]
        if bundle is None:
            rows.append({"id": directory.name, "status": "invalid", "errors": len(errors)})
            continue
        p = bundle.profile
        rows.append(
            {
                "id": p.id,
                "name": p.name,
                "mode": p.mode,
                "status": "ok" if not problems else "warnings",
                "identifiers": [
                    f"{i.kind}:{i.value}" + (f":{i.qualifier}" if i.qualifier else "") for i in p.identifiers
                ],
                "documents": [
                    f"{d.direction} {d.document} ({d.format}{' ' + d.version if d.version else ''})"
                    for d in p.documents
                ],
                "channels": [f"{c.name}:{c.kind}" for c in p.channels],
            }
        )
    return rows


@app.command("list")
def list_partners(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON array on stdout")] = False,
) -> None:
    """List the partners under the mappings directory."""
    repo = load_repository(settings_of(ctx), quiet=True)
    rows = _summary(repo)
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"partners in {repo.root}")
    for column in ("id", "name", "mode", "status", "identifiers", "documents"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row["id"]),
            str(row.get("name") or ""),
            str(row.get("mode") or ""),
            str(row["status"]),
            "\n".join(row.get("identifiers", [])),  # type: ignore[arg-type]
            "\n".join(row.get("documents", [])),  # type: ignore[arg-type]
        )
    Console(soft_wrap=False, width=160).print(table)


def _problems(repo: PartnerRepository, partner: str | None, company_id: str) -> list[GatewayError]:
    out: list[GatewayError] = []
    keys = [partner] if partner else list(repo.problems)
    for key in keys:
        for err in repo.problems.get(key, []):
            if err.severity == "warning" and "certificate" in err.message:
                err.severity = "error"  # a missing certificate blocks going live
            out.append(err)
    catalog = repo.catalog()
    for pid, bundle in repo.bundles.items():
        if partner and pid != partner:
            continue
        for ex in bundle.profile.documents:
            if (
                ex.format in ("edifact", "json", "xml")
                and catalog.mapping_for(pid, ex.document, ex.direction, ex.format) is None
            ):
                out.append(
                    PartnerConfigError(
                        f"partner {pid}: no mapping for {ex.direction} {ex.document} in {ex.format}",
                        location=Location(file=str(bundle.directory / "partner.yaml")),
                        hint="name a mapping file in the exchange, or add a standard mapping under mappings/_standard/",
                    )
                )
    if partner is None and repo.company is not None and repo.company.id != company_id:
        out.append(
            PartnerConfigError(
                f"mappings/_self.yaml describes {repo.company.id!r} but company_id is {company_id!r}",
                location=Location(file=str(repo.root / "_self.yaml")),
                severity="warning",
                hint=f"set company_id = {repo.company.id!r} (B2B_COMPANY_ID) or fix the file",
            )
        )
    return out


@app.command("check")
def check(
    ctx: typer.Context,
    partner: Annotated[
        str | None, typer.Argument(help="Only this partner (default: all, and the shared files)")
    ] = None,
) -> None:
    """Validate profiles, mapping files, code tables, JSON Schemas and referenced certificates. Exit 1 on an error."""
    settings = settings_of(ctx)
    repo = load_repository(settings, quiet=True)
    if partner is not None and not (repo.root / partner).is_dir():
        err_console.print(f"[red]no partner directory {repo.root / partner}[/]")
        raise typer.Exit(2)
    problems = _problems(repo, partner, settings.company_id)
    print_errors(problems)
    errors = [e for e in problems if e.severity == "error"]
    checked = [partner] if partner else [d.name for d in repo.partner_dirs()]
    bad = {e.location.file for e in errors}
    err_console.print(
        f"checked {len(checked)} partner(s), {len(repo.standards)} standard mapping(s): "
        + ("all valid" if not errors else f"{len(errors)} error(s) in {len(bad)} file(s)")
    )
    raise typer.Exit(1 if errors else 0)


@app.command("init")
def init(
    ctx: typer.Context,
    partner: Annotated[str, typer.Argument(help="The new partner's id (letters, digits, . _ -)")],
    fmt: Annotated[str, typer.Option("--format", "-f", help=f"Its document format: {', '.join(FORMATS)}")],
    document: Annotated[str, typer.Option("--document", "-d", help=f"What it exchanges: {', '.join(DOCUMENTS)}")],
    version: Annotated[str | None, typer.Option("--version", help="EDIFACT directory (D96A) or UBL version")] = None,
    direction: Annotated[str, typer.Option("--direction", help="inbound (it sends) or outbound (it receives)")] = "",
) -> None:
    """Scaffold mappings/ID/: a profile, a mapping file and a golden sample that `mappings test` passes."""
    settings = settings_of(ctx)
    try:
        created = scaffold_partner(
            settings.paths.mappings_dir, partner, fmt, document, version=version, direction=direction or None
        )
    except GatewayError as exc:
        print_errors([exc])
        raise typer.Exit(2) from None
    for path in created:
        typer.echo(f"created {path}")
    typer.echo(
        f"next: edit the files, then `b2b-gateway partners check {partner}` and `b2b-gateway mappings test {partner}`"
    )
