"""``run``: start the gateway."""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated

import typer

from b2b_gateway.cli.app import settings_of
from b2b_gateway.runtime.embedded import EmbeddedGateway

__all__ = ["run"]


def run(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="Process what is waiting, then exit")] = False,
) -> None:
    """Start the gateway. With nothing configured: files dropped into ./var/in/ come out as canonical
    JSON in ./var/erp/."""
    settings = settings_of(ctx)
    gateway = EmbeddedGateway(settings)
    typer.echo(
        f"b2b-gateway running: drop documents into {settings.inbox}/, canonical JSON appears in "
        f"{settings.erp_outbox}/ (Ctrl-C stops)",
        err=True,
    )

    async def main() -> None:
        if once:
            await gateway.run_once()
            return
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await gateway.serve(stop)

    asyncio.run(main())
