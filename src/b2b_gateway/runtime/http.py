"""The gateway's HTTP server: the shared FastAPI app served by uvicorn inside the gateway's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI

from b2b_gateway.errors import SettingsError
from b2b_gateway.observability.logging import get_logger
from b2b_gateway.settings import HttpSettings, Settings, read_secret
from b2b_gateway.transport.http.inbound import TokenSet

__all__ = ["HttpServer", "inbound_tokens"]

log = get_logger("b2b_gateway.http")


def inbound_tokens(settings: Settings) -> TokenSet:
    """Bearer tokens for the inbound endpoint: ``http.inbound_token``, the lines of ``http.inbound_tokens_file``
    (``TOKEN [PARTNER]``), else the API token. No token configured: nobody may post."""
    tokens: dict[str, str | None] = {}
    single = read_secret(settings.http.inbound_token, None)
    if single:
        tokens[single] = None
    path = settings.http.inbound_tokens_file
    if path is not None:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise SettingsError(f"cannot read http.inbound_tokens_file: {exc.strerror}") from None
        for line in lines:
            parts = line.split()
            if parts and not parts[0].startswith("#"):
                tokens[parts[0]] = parts[1] if len(parts) > 1 else None
    if not tokens:
        api = read_secret(settings.security.api_token, settings.security.api_token_file)
        if api:
            tokens[api] = None
    return TokenSet(tokens)


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the gateway decides when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class HttpServer:
    """Serves ``app`` on ``settings.host:settings.port`` (port 0: any free port, see :attr:`port`)."""

    def __init__(self, app: FastAPI, settings: HttpSettings) -> None:
        self.app = app
        self.settings = settings
        self.port: int | None = None
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self.settings.tls_cert else "http"
        return f"{scheme}://{self.settings.host}:{self.port}"

    async def start(self) -> None:
        s = self.settings
        family = socket.AF_INET6 if ":" in s.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((s.host, s.port))
        except OSError as exc:
            sock.close()
            raise SettingsError(
                f"cannot listen on {s.host}:{s.port}: {exc.strerror}",
                hint="set http.port (B2B_HTTP__PORT) to a free port, or http.enabled=false",
            ) from None
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_config=None,
            access_log=False,
            lifespan="off",
            ssl_certfile=str(s.tls_cert) if s.tls_cert else None,
            ssl_keyfile=str(s.tls_key) if s.tls_key else None,
            ssl_ca_certs=str(s.tls_client_ca) if s.tls_client_ca else None,
            ssl_cert_reqs=ssl.CERT_REQUIRED if s.tls_client_ca else ssl.CERT_NONE,
        )
        self._server = _Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started and not self._task.done():  # noqa: ASYNC110 - uvicorn offers no event
            await asyncio.sleep(0.01)
        if self._task.done():
            self._task.result()
        log.info("http.listening", url=self.url)

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await self._task
        self._server = None
        self._task = None
