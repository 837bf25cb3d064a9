"""The ASGI application factory. Each feature contributes a router; ``create_app`` mounts them all."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter, FastAPI, Response

from b2b_gateway._version import __version__

__all__ = ["create_app"]


def create_app(routers: Iterable[APIRouter] = (), *, title: str = "b2b-gateway") -> FastAPI:
    """Build the HTTP app with the liveness probe and the given feature routers."""
    app = FastAPI(title=title, version=__version__, docs_url="/api/docs", openapi_url="/api/openapi.json")

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> Response:
        """The process lives (no dependency is checked here; /readyz does that)."""
        return Response(content="ok\n", media_type="text/plain")

    for router in routers:
        app.include_router(router)
    return app
