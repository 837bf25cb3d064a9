"""HTTPS for the gateway's HTTP server (uvicorn) and its outbound HTTP client, TLS 1.2+ and mutual TLS."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from b2b_gateway.security.tls import client_context, http_server_context
from b2b_gateway.settings import HttpSettings, SecuritySettings

__all__ = ["https_client", "uvicorn_config"]


def uvicorn_config(app: Any, http: HttpSettings, security: SecuritySettings, **options: Any) -> uvicorn.Config:
    """A uvicorn config for ``app`` on ``http.host:http.port``, serving HTTPS when ``http.tls_cert`` is set.

    The TLS context is the gateway's own (:func:`~b2b_gateway.security.tls.server_context`): TLS 1.2 or
    newer, and client certificates required when ``http.tls_client_ca`` is set.
    """
    context = http_server_context(http, security)
    factory: Callable[[uvicorn.Config, Callable[[], ssl.SSLContext]], ssl.SSLContext] | None = None
    if context is not None:

        def factory(_config: uvicorn.Config, _default: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
            return context

    options.setdefault("log_config", None)
    return uvicorn.Config(app, host=http.host, port=http.port, ssl_context_factory=factory, **options)


def https_client(
    *,
    ca: Path | None = None,
    cert: Path | None = None,
    key: Path | None = None,
    passphrase: bytes | None = None,
    timeout: float = 30.0,
) -> httpx.AsyncClient:
    """An HTTP client that speaks TLS 1.2+ only, checks the server against ``ca`` and presents ``cert`` (mTLS)."""
    context = client_context(ca=ca, cert=cert, key=key, passphrase=passphrase)
    return httpx.AsyncClient(verify=context, timeout=timeout)
