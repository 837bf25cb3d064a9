"""The operations surface on a running :class:`~b2b_gateway.runtime.gateway.Gateway` (``b2b-gateway run``).

:func:`attach_operations` hooks into the gateway before it starts:

* the pipeline reports every audit event to the metrics (and to OpenTelemetry when enabled);
* when the gateway starts its HTTP server, the app gets the health, metrics, API and dashboard
  routers over the gateway's own store, transport (queue depths) and pipeline (replays);
* the alert checks run every ``alerts.interval_s`` while the gateway runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import APIRouter, FastAPI

from b2b_gateway._version import __version__
from b2b_gateway.api.ops import Operations
from b2b_gateway.api.ports import QueueDepth
from b2b_gateway.api.queues import is_dead_letter_queue
from b2b_gateway.api.server import authenticator_from, build_app
from b2b_gateway.api.wiring import operations_for
from b2b_gateway.errors import BrokerUnavailableError
from b2b_gateway.observability.metrics import MULTIPROCESS_ENV, GatewayMetrics
from b2b_gateway.observability.tracing import build_tracing
from b2b_gateway.pipeline.runner import Pipeline
from b2b_gateway.pipeline.stages import INBOUND, OUTBOUND
from b2b_gateway.runtime.context import build_context
from b2b_gateway.runtime.dedupe import with_dedupe
from b2b_gateway.runtime.gateway import Gateway
from b2b_gateway.transport.base import Transport

__all__ = ["OpsHandle", "TransportQueues", "attach_operations"]


class TransportQueues:
    """Queue depths from the gateway's own transport (RabbitMQ or the embedded queue)."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    def _transport(self) -> Transport:
        if self.gateway.transport is None:
            raise BrokerUnavailableError("the gateway's transport is not started")
        return self.gateway.transport

    async def depths(self) -> list[QueueDepth]:
        return [
            QueueDepth(d.queue, d.ready + (d.unacked or 0), d.consumers or 0, dead_letter=is_dead_letter_queue(d.queue))
            for d in await self._transport().depths()
            if ".retry." not in d.queue
        ]

    async def ping(self) -> None:
        """Raise unless the gateway's transport is connected (the gateway's own health check)."""
        health = await self.gateway.health()
        if not health.get("transport"):
            raise BrokerUnavailableError("the gateway's queue transport is not connected")


@dataclass
class OpsHandle:
    """What :func:`attach_operations` wired: the metrics, and the operations once the HTTP app is built."""

    metrics: GatewayMetrics
    ops: Operations | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def close(self) -> None:
        """Wait for the alert loop (it ends when the ``stop`` event is set)."""
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.tasks.clear()


def attach_operations(gateway: Gateway, stop: asyncio.Event) -> OpsHandle:
    """Wire metrics, tracing, the API, the dashboard and the alerts into ``gateway`` (before it starts).

    The alert checks run until ``stop`` is set; await :meth:`OpsHandle.close` after the gateway stopped.
    """
    settings = gateway.settings
    # the supervisor of ``run --workers N`` gives its processes one directory for their counters (read by
    # prometheus_client when it is imported, so it can only come from the environment)
    shared = os.environ.get(MULTIPROCESS_ENV)
    handle = OpsHandle(
        GatewayMetrics(
            __version__,
            partners=lambda: {p.id for p in gateway.partners},
            shared_dir=Path(shared) if shared else None,
        )
    )
    ctx = gateway.context or build_context(settings, partners=gateway.partners, repository=gateway.repository)
    ctx.observers.append(handle.metrics.observe)
    gateway.relay_observers.append(handle.metrics.observe_delivery)
    tracing = build_tracing(settings.tracing)
    if tracing is not None:
        ctx.observers.append(tracing.observe)
    gateway.context = ctx
    auth = authenticator_from(settings)

    def pipelines(verify: bool) -> Pipeline:
        assert gateway.repo is not None
        base = ctx if verify else dataclasses.replace(ctx, verifier=None)
        inbound = gateway.inbound_stages or with_dedupe(INBOUND, gateway.repo)  # the gateway's own, once started
        return Pipeline(base, inbound=inbound, outbound=gateway.outbound_stages or OUTBOUND)

    def app_factory(routers: Sequence[APIRouter]) -> FastAPI:
        assert gateway.repo is not None, "the gateway builds its app after opening the store"
        handle.ops = ops = operations_for(
            settings,
            gateway.repo,
            partners=gateway.partners,
            pipelines=pipelines,
            metrics=handle.metrics,
            queues=TransportQueues(gateway),
        )
        handle.tasks.append(asyncio.get_running_loop().create_task(ops.run_alerts(stop)))
        return build_app(ops, auth, extra=routers)

    gateway.app_factory = app_factory
    return handle
