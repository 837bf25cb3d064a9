"""How the command line talks to people: errors with what, where and what to do; never a traceback."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Coroutine, Iterable
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from b2b_gateway.errors import DocumentRejected, GatewayError

T = TypeVar("T")

__all__ = ["err_console", "flatten", "print_errors", "print_json"]

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def flatten(errors: Iterable[GatewayError]) -> list[GatewayError]:
    out: list[GatewayError] = []
    for e in errors:
        out.extend(flatten(e.errors) if isinstance(e, DocumentRejected) else [e])
    return out


def print_errors(errors: Iterable[GatewayError], *, as_json: bool = False, source: str | None = None) -> None:
    """Print each error on stderr: ``error[CODE] message``, then where, then what to do."""
    items = flatten(errors)
    if as_json:
        sys.stderr.write(json.dumps([e.to_dict() for e in items], indent=2, default=str) + "\n")
        return
    for e in items:
        colour = "red" if e.severity == "error" else "yellow"
        err_console.print(f"[bold {colour}]{e.severity}[{escape(e.code)}][/] {escape(e.message)}")
        where = str(e.location) if not e.location.is_empty() else None
        if where or source:
            prefix = f"{source}: " if source and not e.location.file else ""
            err_console.print(f"  [dim]-->[/] {escape(prefix + (where or 'whole document'))}")
        if e.hint:
            err_console.print(f"  [dim]hint:[/] {escape(e.hint)}")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def run_command(work: Coroutine[Any, Any, T]) -> T:
    """Run a command's async ``work``; a gateway error is printed (never a traceback) and exits 1 (2: not found)."""
    try:
        return asyncio.run(work)
    except GatewayError as exc:
        print_errors([exc])
        raise typer.Exit(2 if exc.ack.http == 404 else 1) from None
