"""``messages replay-matching``: replay every message a filter selects, thousands at a time, with a progress bar.

Each replay goes through :meth:`b2b_gateway.runtime.operations.Operations.replay` (the input published
again as a new message, linked by ``replay_of``, recorded in the audit trail with the actor), exactly
as ``messages replay ID…`` does for named messages.
"""

from __future__ import annotations

import datetime as dt
import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from b2b_gateway.cli.app import settings_of
from b2b_gateway.cli.output import err_console, print_json, run_command
from b2b_gateway.runtime.operations import open_operations
from b2b_gateway.store.queries import MessageFilter

__all__ = ["progress_bar", "replay_matching"]

_PAGE = 500


@contextmanager
def progress_bar(description: str, total: int, *, quiet: bool = False) -> Iterator[Progress]:
    """A progress bar on stderr for a long operation (``quiet``: none, e.g. with ``--json``)."""
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        disable=quiet,
    )
    with progress:
        progress.add_task(description, total=total)
        yield progress


def _date(value: str | None, name: str) -> dt.datetime | None:
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"not an ISO date or time: {value!r}", param_hint=name) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def replay_matching(
    ctx: typer.Context,
    state: Annotated[list[str] | None, typer.Option("--state", "-s", help="State(s), e.g. rejected, parked")] = None,
    partner: Annotated[str | None, typer.Option("--partner", "-p", help="Partner id")] = None,
    document_type: Annotated[str | None, typer.Option("--document-type", "-t", help="e.g. invoice")] = None,
    business_key: Annotated[
        str | None, typer.Option("--business-key", "-k", help="Order/invoice number, * wildcard")
    ] = None,
    since: Annotated[str | None, typer.Option("--since", help="Received at or after (ISO date/time, UTC)")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Received before (ISO date/time, UTC)")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many")] = 10_000,
    actor: Annotated[str | None, typer.Option("--actor", help="Recorded in the audit trail (default: you)")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout (and no progress bar)")] = False,
) -> None:
    """Replay every input message matching the filters (roots only: an interchange replays whole)."""
    flt = MessageFilter(
        state=state or None,
        partner=partner,
        document_type=document_type,
        business_key=business_key,
        since=_date(since, "--since"),
        until=_date(until, "--until"),
        roots_only=True,
        limit=_PAGE,
    )
    who = actor or getpass.getuser()

    async def main() -> list[dict[str, str]]:
        async with open_operations(settings_of(ctx)) as ops:
            ids: list[str] = []
            while len(ids) < limit:
                flt.offset = len(ids)
                page = [r.id for r in await ops.repo.list_messages(flt)]
                ids += page[: limit - len(ids)]
                if len(page) < _PAGE:
                    break
            if not ids:
                return []
            if not yes and not as_json:
                typer.confirm(f"replay {len(ids)} message(s)?", abort=True, err=True)
            done: list[dict[str, str]] = []
            with progress_bar("replaying", len(ids), quiet=as_json) as bar:
                for mid in ids:
                    done.append({"replayed": mid, "as": await ops.replay(mid, actor=who)})
                    bar.advance(bar.task_ids[0])
            return done

    done = run_command(main())
    if as_json:
        print_json(done)
    else:
        err_console.print(f"{len(done)} message(s) replayed" if done else "no message matches")
