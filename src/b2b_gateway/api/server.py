"""Putting the operations surface together: routers, authentication from settings, and a uvicorn server.

``ops_routers`` gives the routers the runtime passes to :func:`~b2b_gateway.api.app.create_app`
together with the inbound HTTP and AS2 routers; :class:`HttpServer` runs an app on a host and port
(port 0 picks a free one) inside the gateway's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterable

import uvicorn
from fastapi import APIRouter, FastAPI

from b2b_gateway.api.app import create_app
from b2b_gateway.api.auth import Authenticator
from b2b_gateway.api.dashboard import dashboard_router
from b2b_gateway.api.health import health_router
from b2b_gateway.api.ops import Operations
from b2b_gateway.api.routes import api_router
from b2b_gateway.api.users import UserStore
from b2b_gateway.settings import Settings, read_secret

__all__ = ["HttpServer", "authenticator_from", "build_app", "ops_routers"]


def authenticator_from(settings: Settings) -> Authenticator:
    """The authenticator the settings describe: users file, bootstrapped admin, API token, session secret."""
    sec = settings.security
    users = UserStore(settings.users_file, admin_password=read_secret(sec.admin_password, sec.admin_password_file))
    https = bool(settings.http.tls_cert) or (settings.http.public_url or "").startswith("https:")
    return Authenticator(
        users,
        session_secret=read_secret(sec.session_secret, sec.session_secret_file),
        api_token=read_secret(sec.api_token, sec.api_token_file),
        max_age_s=sec.session_max_age_s,
        secure_cookies=https,
    )


def ops_routers(ops: Operations, auth: Authenticator) -> list[APIRouter]:
    """The health, metrics, REST API and dashboard routers."""
    return [health_router(ops), api_router(ops, auth), dashboard_router(ops, auth)]


def build_app(ops: Operations, auth: Authenticator, extra: Iterable[APIRouter] = ()) -> FastAPI:
    """The gateway's HTTP app with the operations routers (and any ``extra`` ones, e.g. inbound HTTP, AS2)."""
    return create_app([*ops_routers(ops, auth), *extra])


class HttpServer:
    """A uvicorn server for ``app`` on ``host:port``, started and stopped inside a running event loop.

    Example:
        >>> async def main(app):  # doctest: +SKIP
        ...     async with HttpServer(app, "127.0.0.1", 0) as server:
        ...         print(server.url)
    """

    def __init__(self, app: FastAPI, host: str = "127.0.0.1", port: int = 0, *, log_level: str = "warning") -> None:
        self.app = app
        self.host = host
        self._sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.port: int = self._sock.getsockname()[1]
        config = uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve(sockets=[self._sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._sock.close()

    async def __aenter__(self) -> HttpServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
