"""``status``: is the gateway healthy, what is flowing and what is stuck, at a glance (or as JSON)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from b2b_gateway.api.ops import Overview
from b2b_gateway.api.wiring import operations_for
from b2b_gateway.cli.app import settings_of
from b2b_gateway.cli.output import print_errors, print_json
from b2b_gateway.errors import GatewayError
from b2b_gateway.runtime.context import load_repository
from b2b_gateway.settings import Settings
from b2b_gateway.store.repository import MessageRepository

__all__ = ["render_status", "status"]


async def _collect(settings: Settings, hours: int) -> tuple[dict[str, str], Overview]:
    repo = await MessageRepository.open(settings)
    try:
        ops = operations_for(settings, repo, partners=load_repository(settings).directory)
        return await ops.readiness(), await ops.overview(hours=hours)
    finally:
        await repo.close()


def _table(title: str, *columns: str) -> Table:
    table = Table(*columns, title=title, title_justify="left", title_style="bold")
    return table


def render_status(console: Console, checks: dict[str, str], o: Overview, hours: int) -> None:
    """Print the status as rich tables."""
    ready = all(v == "ok" for v in checks.values())
    console.print(
        f"[bold {'green' if ready else 'red'}]{'ready' if ready else 'NOT READY'}[/] at {o.at:%Y-%m-%d %H:%M} UTC"
    )
    table = _table("dependencies", "check", "status")
    for name, value in checks.items():
        table.add_row(name, "[green]ok[/]" if value == "ok" else f"[red]{value}[/]")
    console.print(table)
    received = sum(b.received for b in o.throughput)
    failed = sum(b.failed for b in o.throughput)
    delivered = sum(b.delivered for b in o.throughput)
    table = _table(
        f"last {hours} h", "received", "delivered", "rejected/failed", "dead letters", "outbox", "overdue acks"
    )
    table.add_row(
        str(received), str(delivered), str(failed), str(o.dead_letters), str(o.outbox_pending), str(len(o.overdue))
    )
    console.print(table)
    table = _table("messages by state", "state", "count")
    for state, count in sorted(o.states.items()):
        table.add_row(state, str(count))
    console.print(table)
    if o.queues:
        table = _table("queues", "queue", "messages", "consumers")
        for q in o.queues:
            table.add_row(q.name + (" (dead letters)" if q.dead_letter else ""), str(q.messages), str(q.consumers))
        console.print(table)
    if o.overdue:
        table = _table("awaiting acknowledgment past the deadline", "document", "partner", "sent", "deadline")
        for a in o.overdue:
            deadline = f"{a.deadline:%Y-%m-%d %H:%M}" if a.deadline else "-"
            table.add_row(
                f"{a.document_type} {a.business_key or a.message_id}",
                a.partner or "-",
                f"{a.sent_at:%Y-%m-%d %H:%M}",
                deadline,
            )
        console.print(table)
    if o.expiring:
        table = _table("certificates expiring soon", "certificate", "partner", "expires", "days")
        for c in o.expiring:
            table.add_row(c.name, c.partner or "ours", f"{c.not_after:%Y-%m-%d}", f"{c.days_left(o.at):.0f}")
        console.print(table)


def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout")] = False,
    hours: Annotated[int, typer.Option("--hours", min=1, max=24 * 31, help="Period of the traffic figures")] = 24,
) -> None:
    """Readiness (store, broker, keys), traffic, states, queues, dead letters, overdue acks, expiring certificates.

    Exit 0 when every dependency is usable, 1 when one is not.
    """
    settings = settings_of(ctx)
    try:
        checks, overview = asyncio.run(_collect(settings, hours))
    except GatewayError as exc:
        print_errors([exc])
        raise typer.Exit(1) from None
    ready = all(v == "ok" for v in checks.values())
    if as_json:
        data: dict[str, Any] = {"ready": ready, "checks": checks, **overview.to_dict()}
        print_json(data)
    else:
        render_status(Console(), checks, overview, hours)
    raise typer.Exit(0 if ready else 1)
