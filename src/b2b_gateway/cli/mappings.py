"""``mappings test``: run every partner's golden samples and show a readable diff on failure."""

from __future__ import annotations

from typing import Annotated

import typer

from b2b_gateway.cli.app import settings_of
from b2b_gateway.cli.output import err_console, print_errors
from b2b_gateway.runtime.context import build_context, load_repository
from b2b_gateway.runtime.golden import run_case, sample_cases

__all__ = ["app", "test"]

app = typer.Typer(help="Mapping files: run the partners' golden samples.", no_args_is_help=True)


@app.command("test")
def test(
    ctx: typer.Context,
    partner: Annotated[str | None, typer.Argument(help="Only this partner (default: every partner)")] = None,
    update: Annotated[bool, typer.Option("--update", help="Rewrite the expected files with what comes out")] = False,
) -> None:
    """Run each partner's samples: input -> expected canonical JSON -> rendered output. Exit 1 on a difference."""
    settings = settings_of(ctx)
    repo = load_repository(settings, quiet=True)
    context = build_context(settings, repository=repo)
    problems = repo.errors
    if partner is not None and partner not in repo.bundles:
        print_errors([e for e in problems if e.location.file and f"/{partner}/" in f"/{e.location.file}"] or problems)
        err_console.print(f"[red]no valid partner {partner!r} under {settings.paths.mappings_dir}[/]")
        raise typer.Exit(1 if problems else 2)
    ids = [partner] if partner else sorted(repo.bundles)
    failed = total = 0
    for pid in ids:
        for case in sample_cases(repo.bundles[pid].directory):
            total += 1
            result = run_case(context, pid, case, update=update)
            if result.ok:
                note = f" (updated {', '.join(result.updated)})" if result.updated else ""
                err_console.print(f"[green]ok[/]   {pid}/{case.name} ({result.direction}){note}")
                continue
            failed += 1
            err_console.print(f"[red]FAIL[/] {pid}/{case.name} ({result.direction})")
            print_errors(result.errors)
            for diff in result.diffs:
                err_console.print(diff, markup=False, highlight=False)
    invalid = sorted({e.location.file or "" for e in problems if e.severity == "error"})
    for name in invalid:
        err_console.print(f"[red]invalid[/] {name}: run `b2b-gateway partners check`")
    err_console.print(f"{total - failed} passed, {failed} failed")
    raise typer.Exit(1 if failed or invalid else 0)
