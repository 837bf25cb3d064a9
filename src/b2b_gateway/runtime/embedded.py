"""The embedded gateway: no broker, no server needed. Documents dropped into the inbox come out as
canonical JSON in the ERP directory; rejected ones go to the error directory with a report.

It is the :class:`~b2b_gateway.runtime.gateway.Gateway` on its embedded defaults: the store is SQLite
under the data directory, the queue is the store's durable queue, the ERP is a directory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from b2b_gateway.pipeline import Message, PipelineContext
from b2b_gateway.runtime.gateway import Gateway
from b2b_gateway.settings import Settings

__all__ = ["EmbeddedGateway"]


class EmbeddedGateway(Gateway):
    """The gateway with the embedded queue whatever ``amqp.url`` says, and without the HTTP server."""

    def __init__(self, settings: Settings, ctx: PipelineContext | None = None) -> None:
        super().__init__(
            settings.without_http(),
            embedded=True,
            context=ctx,
        )

    async def run_once(self, *, load: bool = True) -> list[Message]:
        """Process what is in the inbox now (recovering files a crash left half-processed)."""
        return await super().run_once(load=load)

    async def serve(self, stop: asyncio.Event, *, started: Callable[[], None] | None = None) -> None:
        await super().serve(stop, started=started)
