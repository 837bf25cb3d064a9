"""``/readyz`` (store, broker and keys usable; 503 otherwise) and ``/metrics`` (Prometheus).

``/healthz`` (the process lives) comes with :func:`b2b_gateway.api.app.create_app`. These need no
authentication: probes and scrapers call them, and they reveal no payloads or secrets.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from b2b_gateway.api.ops import Operations
from b2b_gateway.observability.metrics import CONTENT_TYPE

__all__ = ["health_router"]


def health_router(ops: Operations) -> APIRouter:
    """The readiness probe and the metrics endpoint over ``ops``."""
    router = APIRouter(tags=["health"])

    @router.get("/readyz", summary="Ready when the store, the broker and the keys are usable")
    async def readyz() -> Response:
        checks = await ops.readiness()
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    @router.get("/metrics", summary="Prometheus metrics")
    async def metrics() -> Response:
        return Response(await ops.refresh_metrics(), media_type=CONTENT_TYPE)

    return router
