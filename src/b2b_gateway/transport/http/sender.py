"""Delivering to a partner's HTTP(S) endpoint with httpx.

``2xx`` is delivered. ``408``, ``425``, ``429``, ``5xx``, timeouts and connection errors are transient
(retried with backoff). Any other status is a refusal (dead-lettered at once with the answer as the
reason). Headers carry the idempotency key, so a partner can drop a repeat.
"""

from __future__ import annotations

import os
import ssl
from pathlib import Path

import httpx

from b2b_gateway.errors import DeliveryRefusedError, EndpointUnavailableError, SettingsError
from b2b_gateway.transport.base import OutboundRequest

__all__ = ["HttpSender"]

_TRANSIENT = {408, 425, 429}


class HttpSender:
    """POSTs payloads; one pooled client per TLS setup (CA bundle and client certificate from ``certs_dir``)."""

    def __init__(self, *, certs_dir: Path | None = None, user_agent: str = "b2b-gateway") -> None:
        self.certs_dir = certs_dir or Path("certs")
        self.user_agent = user_agent
        self._clients: dict[tuple[str | None, str | None], httpx.AsyncClient] = {}

    def _client(self, ca: str | None, cert: str | None) -> httpx.AsyncClient:
        key = (ca, cert)
        client = self._clients.get(key)
        if client is None:
            verify: ssl.SSLContext | bool = True
            if ca or cert:
                try:
                    ctx = ssl.create_default_context(cafile=str(self.certs_dir / ca) if ca else None)
                    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
                    if cert:
                        ctx.load_cert_chain(str(self.certs_dir / cert))
                except (OSError, ssl.SSLError) as exc:
                    raise SettingsError(f"cannot set up TLS for an HTTP channel: {exc}") from None
                verify = ctx
            client = httpx.AsyncClient(verify=verify, headers={"User-Agent": self.user_agent})
            self._clients[key] = client
        return client

    async def send(self, request: OutboundRequest) -> str:
        endpoint = request.endpoint
        channel = endpoint.channel
        headers = {"Content-Type": request.content_type, **request.standard_headers()}
        headers["Idempotency-Key"] = request.idempotency_key
        timeout = 30.0
        if channel is not None:
            headers.update(channel.headers)
            timeout = channel.timeout_s
            if channel.auth_token_env:
                token = os.environ.get(channel.auth_token_env)
                if token:
                    headers["Authorization"] = f"Bearer {token}"
        client = self._client(channel.ca_cert if channel else None, channel.client_cert if channel else None)
        try:
            response = await client.post(endpoint.address, content=request.payload, headers=headers, timeout=timeout)
        except httpx.HTTPError as exc:
            raise EndpointUnavailableError(f"{endpoint.address}: {type(exc).__name__}: {exc}") from None
        status = response.status_code
        if 200 <= status < 300:
            return f"HTTP {status}"
        text = response.text[:300].strip()
        if status >= 500 or status in _TRANSIENT:
            raise EndpointUnavailableError(f"{endpoint.address} answered HTTP {status}: {text}")
        raise DeliveryRefusedError(f"{endpoint.address} refused the document: HTTP {status}: {text}")

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients = {}
