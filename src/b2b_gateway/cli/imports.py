"""``messages import PATH``: bring a directory, zip or tar of documents into the gateway, with a progress bar.

Each file is published to the inbound exchange as a pickup-directory file would be (see
:mod:`b2b_gateway.runtime.importer`); importing the same files again skips them. Unsafe, oversized or
unreadable members are refused one by one with the reason; the rest goes on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from b2b_gateway.cli.app import settings_of
from b2b_gateway.cli.bulk import progress_bar
from b2b_gateway.cli.output import err_console, print_errors, print_json, run_command
from b2b_gateway.runtime.importer import ImportReport, import_limits, import_source
from b2b_gateway.runtime.operations import open_operations
from b2b_gateway.transport.archive import open_source

__all__ = ["import_documents"]


def import_documents(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="A directory (read recursively), a .zip or a .tar(.gz) of documents")],
    partner: Annotated[str | None, typer.Option("--partner", "-p", help="The partner the documents come from")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be imported; publish nothing")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="The report as JSON on stdout (and no progress bar)")] = False,
) -> None:
    """Import documents: each file enters the gateway as a pickup-directory file (already imported: skipped).

    Exits 1 when a file was refused (unsafe path, link, device, over a size limit, unreadable).
    """
    settings = settings_of(ctx)

    async def main() -> ImportReport:
        with open_source(path, import_limits(settings)) as source:
            async with open_operations(settings, transport=not dry_run) as ops:
                with progress_bar("importing", len(source.members), quiet=as_json) as bar:
                    return await import_source(
                        ops,
                        source,
                        partner=partner,
                        dry_run=dry_run,
                        advance=lambda n: bar.advance(bar.task_ids[0], n),
                    )

    report = run_command(main())
    if as_json:
        print_json({**report.to_dict(), "dry_run": dry_run})
    else:
        print_errors(report.errors)
        verb = "would be imported" if dry_run else "imported"
        err_console.print(
            f"{len(report.imported)} file(s) {verb}, {len(report.skipped)} skipped (already imported), "
            f"{len(report.refused)} refused"
        )
    if report.refused:
        raise typer.Exit(1)
