"""``run``: start the gateway (one process, or a supervisor and ``--workers`` processes)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Annotated, Literal

import typer

from b2b_gateway.cli.app import settings_of
from b2b_gateway.cli.output import print_errors
from b2b_gateway.errors import GatewayError, Location, SettingsError
from b2b_gateway.settings import Settings

__all__ = ["run"]

Role = Literal["primary", "worker"]


def run(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="Process what is waiting, then exit")] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=0,
            help="Gateway processes, one per core at most (0: one per CPU core; RabbitMQ only). "
            "Default: process.workers (1)",
            show_default=False,
        ),
    ] = None,
    role: Annotated[Role | None, typer.Option("--role", hidden=True)] = None,
    ready_file: Annotated[Path | None, typer.Option("--ready-file", hidden=True)] = None,
    parent: Annotated[int | None, typer.Option("--parent", hidden=True)] = None,
    name: Annotated[str | None, typer.Option("--name", hidden=True)] = None,
) -> None:
    """Start the gateway. With nothing configured: files dropped into ./var/in/ come out as canonical
    JSON in ./var/erp/. With B2B_AMQP__URL set, it works on RabbitMQ; --workers N runs N processes."""
    settings = settings_of(ctx)
    if role is None:
        count = settings.process.workers if workers is None else workers
        count = count or os.cpu_count() or 1
        if count > 1:
            _check_workers(settings, count, once)
            raise typer.Exit(_supervise(settings, count, ctx.meta.get("config_file")))
    _serve(settings, once=once, role=role, name=name or role, ready_file=ready_file, parent=parent)


def _check_workers(settings: Settings, count: int, once: bool) -> None:
    problem = None
    if once:
        problem = "--once runs one process: leave out --workers"
    elif not settings.amqp.url:
        problem = f"{count} processes need RabbitMQ: the embedded queue is one process's"
    if problem:
        print_errors(
            [
                SettingsError(
                    problem,
                    location=Location(field="process.workers"),
                    hint="set amqp.url (B2B_AMQP__URL), or run one process (--workers 1)",
                )
            ]
        )
        raise typer.Exit(2)


def _supervise(settings: Settings, count: int, config: Path | None) -> int:
    from b2b_gateway.runtime.supervisor import Slot, Supervisor

    def command(slot: Slot, ready: Path) -> list[str]:
        head = [sys.executable, "-m", "b2b_gateway", *(["--config", str(config)] if config else [])]
        tail = ["--name", slot.name, "--ready-file", str(ready), "--parent", str(os.getpid())]
        return [*head, "run", "--role", slot.role, *tail]

    supervisor = Supervisor(
        command, count, stop_timeout_s=settings.process.stop_timeout_s, restart_max_s=settings.process.restart_max_s
    )
    typer.echo(f"b2b-gateway running {count} processes on RabbitMQ (Ctrl-C stops)", err=True)

    async def main() -> int:
        stop = _stop_on_signals()
        return await supervisor.run(stop)

    return asyncio.run(main())


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


def _serve(
    settings: Settings,
    *,
    once: bool,
    role: Role | None,
    name: str | None,
    ready_file: Path | None,
    parent: int | None,
) -> None:
    """One gateway process: alone (``role`` ``None``), or the primary or a worker of a supervisor."""
    import structlog

    from b2b_gateway.api.app import create_app
    from b2b_gateway.api.edges import attach_edges
    from b2b_gateway.api.gateway_ops import attach_operations
    from b2b_gateway.runtime.gateway import Gateway
    from b2b_gateway.runtime.supervisor import watch_parent

    if role == "worker":  # consumers and the outbox relay; the primary serves HTTP and does the housekeeping
        settings = settings.without_http()
    if name is not None:
        structlog.contextvars.bind_contextvars(process=name)
    try:
        gateway = Gateway(settings, app_factory=create_app)
    except GatewayError as exc:  # a certificate store that cannot be read
        print_errors([exc])
        raise typer.Exit(1) from None
    gateway.housekeeping = role != "worker"
    attach_edges(gateway)
    if role is None:
        where = "RabbitMQ" if settings.amqp.url else "the embedded queue"
        typer.echo(
            f"b2b-gateway running on {where}: drop documents into {settings.inbox}/, canonical JSON appears in "
            f"{settings.erp_outbox}/ (Ctrl-C stops)",
            err=True,
        )

    async def main() -> None:
        if once:
            await gateway.run_once(load=False)
            return
        stop = _stop_on_signals()
        watching = asyncio.create_task(watch_parent(parent, stop)) if parent is not None else None
        ops = attach_operations(gateway, stop)  # metrics, API, dashboard, alerts
        try:
            await gateway.serve(stop, started=ready_file.touch if ready_file is not None else None)
        finally:
            stop.set()
            await ops.close()
            if watching is not None:
                await watching

    try:
        asyncio.run(main())
    except GatewayError as exc:
        print_errors([exc])
        raise typer.Exit(1) from None
