"""``run``: start the gateway."""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated

import typer

from b2b_gateway.cli.app import settings_of
from b2b_gateway.cli.output import print_errors
from b2b_gateway.errors import GatewayError

__all__ = ["run"]


def run(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="Process what is waiting, then exit")] = False,
) -> None:
    """Start the gateway. With nothing configured: files dropped into ./var/in/ come out as canonical
    JSON in ./var/erp/. With B2B_AMQP__URL set, it works on RabbitMQ."""
    from b2b_gateway.api.app import create_app
    from b2b_gateway.api.edges import attach_edges
    from b2b_gateway.api.gateway_ops import attach_operations
    from b2b_gateway.runtime.gateway import Gateway

    settings = settings_of(ctx)
    try:
        gateway = Gateway(settings, app_factory=create_app)
    except GatewayError as exc:  # a certificate store that cannot be read
        print_errors([exc])
        raise typer.Exit(1) from None
    attach_edges(gateway)
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
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        ops = attach_operations(gateway, stop)  # metrics, API, dashboard, alerts
        try:
            await gateway.serve(stop)
        finally:
            stop.set()
            await ops.close()

    try:
        asyncio.run(main())
    except GatewayError as exc:
        print_errors([exc])
        raise typer.Exit(1) from None
