"""``messages list|show|retry|replay``: what is in the store, and putting things right."""

from __future__ import annotations

import datetime as dt
import getpass
import re
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from b2b_gateway.cli.app import settings_of
from b2b_gateway.cli.output import print_json, run_command

if TYPE_CHECKING:  # the store and runtime are imported when a command runs: the CLI starts fast
    from b2b_gateway.store.queries import MessageDetail, MessageSummary

__all__ = ["app"]

app = typer.Typer(help="Stored messages: list, show, retry delivery, replay.", no_args_is_help=True)
console = Console(highlight=False)
if not console.is_terminal:
    console = Console(highlight=False, width=200)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]
ActorOpt = Annotated[str | None, typer.Option("--actor", help="Who is doing this (default: your user name)")]
_COLOURS = {"delivered": "green", "routed": "cyan", "rejected": "red", "failed": "red", "quarantined": "magenta"}


def _when(value: str | None, name: str) -> dt.datetime | None:
    """An ISO date/time, or a time ago like ``30m``, ``6h``, ``2d``."""
    if not value:
        return None
    ago = re.fullmatch(r"(\d+)([smhd])", value)
    if ago:
        seconds = int(ago.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[ago.group(2)]
        return dt.datetime.now(dt.UTC) - dt.timedelta(seconds=seconds)
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is neither an ISO date/time nor like 30m, 6h, 2d", param_hint=name
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _actor(actor: str | None) -> str:
    if actor:
        return actor
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _state(state: str) -> str:
    colour = _COLOURS.get(state)
    return f"[{colour}]{state}[/]" if colour else state


def _table(rows: list[MessageSummary]) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("id", "received", "dir", "partner", "type", "business key", "state", "error"):
        table.add_column(column, overflow="fold" if column == "error" else "ellipsis", no_wrap=column != "error")
    for r in rows:
        table.add_row(
            r.id,
            r.received_at.strftime("%Y-%m-%d %H:%M:%S"),
            "in" if r.direction == "inbound" else "out",
            escape(r.partner_id or "-"),
            escape(r.document_type or "-"),
            escape(r.business_key or "-"),
            _state(r.state),
            escape((r.last_error or "")[:80]),
        )
    return table


@app.command("list")
def list_(
    ctx: typer.Context,
    state: Annotated[list[str] | None, typer.Option("--state", "-s", help="State (repeatable)")] = None,
    partner: Annotated[str | None, typer.Option("--partner", "-p")] = None,
    document_type: Annotated[str | None, typer.Option("--type", "-t", help="Document type, e.g. order")] = None,
    direction: Annotated[str | None, typer.Option("--direction", help="inbound or outbound")] = None,
    since: Annotated[str | None, typer.Option("--since", help="ISO date/time or 30m, 6h, 2d")] = None,
    until: Annotated[str | None, typer.Option("--until", help="ISO date/time or 30m, 6h, 2d")] = None,
    key: Annotated[
        str | None, typer.Option("--key", "-k", help="Business key (order/invoice number; * wildcard)")
    ] = None,
    code: Annotated[str | None, typer.Option("--code", help="Messages with this error code")] = None,
    roots: Annotated[bool, typer.Option("--roots", help="Only inputs as received (no split messages)")] = False,
    limit: Annotated[int, typer.Option("--limit", "-n")] = 50,
    offset: Annotated[int, typer.Option("--offset")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """List stored messages, newest first."""
    from b2b_gateway.runtime.operations import open_operations
    from b2b_gateway.store.queries import MessageFilter

    flt = MessageFilter(
        state=state or None,
        partner=partner,
        document_type=document_type,
        direction=direction,
        since=_when(since, "--since"),
        until=_when(until, "--until"),
        business_key=key,
        error_code=code,
        roots_only=roots,
        limit=limit,
        offset=offset,
    )

    async def main() -> list[MessageSummary]:
        async with open_operations(settings_of(ctx), transport=False) as ops:
            return await ops.repo.list_messages(flt)

    rows = run_command(main())
    if as_json:
        print_json([r.to_dict() for r in rows])
        return
    if not rows:
        console.print("no messages match")
        return
    console.print(_table(rows))


def _print_detail(d: MessageDetail) -> None:
    s = d.summary
    console.print(f"[bold]{s.id}[/]  {_state(s.state)}")
    for label, value in (
        ("direction", f"{s.direction} via {s.channel}"),
        ("partner", s.partner_id),
        ("document", f"{s.document_type or '?'} {s.business_key or ''}".strip()),
        ("format", s.format),
        ("received", s.received_at.isoformat()),
        ("lineage", f"root {s.root_id}" + (f", parent {s.parent_id}" if s.parent_id else "")),
        ("children", ", ".join(d.children) or None),
        ("replay of", s.replay_of),
        ("raw", f"{s.size} bytes, sha256 {s.raw_sha256}"),
    ):
        if value:
            console.print(f"  [dim]{label:10}[/] {escape(str(value))}")
    if d.errors:
        console.print("\n[bold]errors[/]")
        for e in d.errors:
            where = ", ".join(f"{k} {v}" for k, v in (e.get("location") or {}).items())
            console.print(f"  [red]{e['severity']}[{escape(e['code'])}][/] {escape(e['message'])}")
            if where:
                console.print(f"    [dim]-->[/] {escape(where)}")
    if d.outputs:
        console.print("\n[bold]outputs[/]")
        table = Table(box=None, pad_edge=False, header_style="bold")
        for column in ("idempotency key", "kind", "destination", "format", "delivery", "attempts", "last error"):
            table.add_column(column)
        for o in d.outputs:
            table.add_row(
                o["id"], o["kind"], escape(o["destination"]), o["format"], _state(o.get("state") or "-"),
                str(o.get("attempts") or 0), escape((o.get("last_error") or "")[:60]),
            )  # fmt: skip
        console.print(table)
    console.print("\n[bold]audit trail[/]")
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("at", "stage", "outcome", "actor", "detail"):
        table.add_column(column, overflow="fold" if column == "detail" else "ellipsis")
    for e in d.events:
        colour = {"error": "red", "warning": "yellow", "ok": "green"}.get(e["outcome"], "dim")
        table.add_row(
            e["at"][11:23], e["stage"], f"[{colour}]{e['outcome']}[/]", escape(e["actor"]), escape(e["detail"])
        )
    console.print(table)


@app.command("show")
def show(
    ctx: typer.Context,
    message_id: Annotated[str, typer.Argument(help="Message id (or a unique prefix of 8+ characters)")],
    raw: Annotated[bool, typer.Option("--raw", help="Print the raw payload as received")] = False,
    lineage: Annotated[bool, typer.Option("--lineage", help="List the message's whole tree")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Show one message: its fields, errors, outputs with their delivery, and the audit trail."""
    from b2b_gateway.runtime.operations import open_operations

    async def main() -> tuple[MessageDetail, bytes | None, list[MessageSummary]]:
        async with open_operations(settings_of(ctx), transport=False) as ops:
            detail = await ops.repo.get(message_id)
            payload = await ops.repo.payload(detail.summary.raw_sha256) if raw else None
            tree = await ops.repo.lineage(detail.summary.id) if lineage else []
            return detail, payload, tree

    detail, payload, tree = run_command(main())
    if payload is not None:
        sys.stdout.buffer.write(payload)
        return
    if as_json:
        data: dict[str, Any] = detail.to_dict()
        if lineage:
            data["lineage"] = [t.to_dict() for t in tree]
        print_json(data)
        return
    _print_detail(detail)
    if lineage:
        console.print("\n[bold]lineage[/]")
        console.print(_table(tree))


@app.command("retry")
def retry(
    ctx: typer.Context,
    message_ids: Annotated[list[str], typer.Argument(help="Message ids")],
    actor: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Deliver the dead-lettered outputs of messages again (fresh attempts, due now)."""
    from b2b_gateway.runtime.operations import open_operations

    async def main() -> int:
        async with open_operations(settings_of(ctx), transport=False) as ops:
            return await ops.retry(message_ids, actor=_actor(actor))

    count = run_command(main())
    if as_json:
        print_json({"retried": count})
    else:
        console.print(f"{count} message(s) with outputs to deliver again" if count else "nothing to retry")


@app.command("replay")
def replay(
    ctx: typer.Context,
    message_ids: Annotated[list[str], typer.Argument(help="Message ids")],
    actor: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Process the inputs of messages again, as new messages linked to the old (after fixing what parked them)."""
    from b2b_gateway.runtime.operations import open_operations

    async def main() -> list[dict[str, str]]:
        async with open_operations(settings_of(ctx)) as ops:
            return [{"replayed": mid, "as": await ops.replay(mid, actor=_actor(actor))} for mid in message_ids]

    done = run_command(main())
    if as_json:
        print_json(done)
        return
    for item in done:
        console.print(f"{item['replayed']} replayed as {item['as']}")


@app.command("cancel")
def cancel(
    ctx: typer.Context,
    message_ids: Annotated[list[str], typer.Argument(help="Message ids")],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the audit trail)")] = "",
    actor: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Cancel messages not delivered yet: their waiting or dead-lettered outputs are not sent."""
    from b2b_gateway.runtime.operations import open_operations

    async def main() -> int:
        async with open_operations(settings_of(ctx), transport=False) as ops:
            return await ops.cancel(message_ids, actor=_actor(actor), reason=reason)

    count = run_command(main())
    if as_json:
        print_json({"cancelled": count})
    else:
        console.print(f"{count} message(s) cancelled")
