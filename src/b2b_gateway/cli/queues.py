"""``queues``: queue depths and the outbox, from the broker (or the embedded queue) and the store."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from b2b_gateway.cli.app import settings_of
from b2b_gateway.cli.output import print_json, run_command

__all__ = ["queues"]

console = Console(highlight=False)
if not console.is_terminal:
    console = Console(highlight=False, width=200)


def queues(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")] = False,
) -> None:
    """Show how many messages wait in each queue and in the outbox."""
    from b2b_gateway.runtime.operations import open_operations

    async def main() -> dict[str, Any]:
        async with open_operations(settings_of(ctx)) as ops:
            return await ops.queues()

    report = run_command(main())
    if as_json:
        print_json(report)
        return
    table = Table(title=f"queues ({report['transport']})", box=None, pad_edge=False, header_style="bold")
    for column in ("queue", "ready", "unacked", "consumers"):
        table.add_column(column, justify="left" if column == "queue" else "right")
    for q in report["queues"]:
        unacked = "-" if q["unacked"] is None else str(q["unacked"])
        consumers = "-" if q["consumers"] is None else str(q["consumers"])
        style = "red" if q["queue"].endswith(".dead") and q["ready"] else None
        table.add_row(q["queue"], str(q["ready"]), unacked, consumers, style=style)
    console.print(table)
    box = report["outbox"]
    console.print(
        f"\noutbox: {box['pending']} pending ({box['due']} due now), {box['delivered']} delivered, "
        f"[{'red' if box['dead'] else 'green'}]{box['dead']} dead-lettered[/]"
    )
