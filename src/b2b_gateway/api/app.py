"""The ASGI application factory. Each feature contributes a router; ``create_app`` mounts them all."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse

from b2b_gateway._version import __version__
from b2b_gateway.errors import GatewayError

__all__ = ["create_app"]


def create_app(routers: Iterable[APIRouter] = (), *, title: str = "b2b-gateway") -> FastAPI:
    """Build the HTTP app with the liveness probe and the given feature routers."""
    app = FastAPI(title=title, version=__version__, docs_url="/api/docs", openapi_url="/api/openapi.json")

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> Response:
        """The process lives (no dependency is checked here; /readyz does that)."""
        return Response(content="ok\n", media_type="text/plain")

    @app.exception_handler(GatewayError)
    async def gateway_error(_request: Request, exc: Exception) -> Response:
        """A gateway error raised by a route answers with its HTTP status and its JSON description."""
        assert isinstance(exc, GatewayError)
        headers = {"WWW-Authenticate": "Bearer"} if exc.ack.http == 401 else None
        return JSONResponse({"errors": [exc.to_dict()]}, status_code=exc.ack.http, headers=headers)

    for router in routers:
        app.include_router(router)
    return app
