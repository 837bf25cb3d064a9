"""``db upgrade|status|purge``: the store's schema and retention."""

from __future__ import annotations

from typing import Annotated

import typer

from b2b_gateway.cli.app import settings_of
from b2b_gateway.cli.output import print_json, run_command

__all__ = ["app"]

app = typer.Typer(help="The message store: schema migrations and retention.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON")]


@app.command("upgrade")
def upgrade(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Bring the store's schema to this gateway's revision (the gateway also does it at start)."""
    from b2b_gateway.runtime.operations import upgrade_store

    before, after = run_command(upgrade_store(settings_of(ctx)))
    if as_json:
        print_json({"before": before, "after": after})
    elif before == after:
        typer.echo(f"the store is at revision {after}: nothing to do")
    else:
        typer.echo(f"the store went from revision {before or '(empty)'} to {after}")


@app.command("status")
def status(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """The store's revision against this gateway's (exit 1 when it needs an upgrade)."""
    from b2b_gateway.runtime.operations import store_revision

    current, head = run_command(store_revision(settings_of(ctx)))
    if as_json:
        print_json({"current": current, "head": head, "up_to_date": current == head})
    else:
        typer.echo(f"store revision {current or '(empty)'}, gateway revision {head}")
    if current != head:
        raise typer.Exit(1)


@app.command("purge")
def purge(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Apply retention now: delete whole lineage trees older than their partner's retention_days."""
    from b2b_gateway.runtime.gateway import Gateway

    async def main() -> dict[str, int]:
        gateway = Gateway(settings_of(ctx))
        await gateway.start(consume=False, http=False, wait_for_broker=False)
        try:
            return await gateway.purge()
        finally:
            await gateway.stop()

    report = run_command(main())
    if as_json:
        print_json(report)
    else:
        typer.echo(
            f"removed {report['messages']} message(s) in {report['trees']} tree(s), {report['payloads']} payload(s)"
        )
