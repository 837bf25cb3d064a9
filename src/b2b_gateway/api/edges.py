"""The gateway's partner-facing and data edges on its HTTP app: AS2 and the conversation API.

``b2b-gateway run`` calls :func:`attach_edges` before the gateway starts (the AS2 router lives here,
above the runtime, which cannot import it)::

    gateway = Gateway(settings, app_factory=create_app)
    attach_edges(gateway)        # POST /as2, POST /as2/mdn, /api/v1/orders/{number}/timeline …
    await gateway.serve(stop)
"""

from __future__ import annotations

from b2b_gateway.api.as2 import as2_router
from b2b_gateway.api.conversations import conversations_router
from b2b_gateway.runtime.gateway import Gateway
from b2b_gateway.settings import read_secret
from b2b_gateway.transport.http.inbound import TokenSet

__all__ = ["attach_edges"]


def attach_edges(gateway: Gateway) -> None:
    """Add the AS2 endpoint and the conversation API to ``gateway``'s HTTP app (before it starts)."""
    as2 = gateway.as2
    gateway.routers.append(as2_router(as2.receiver, as2.on_payload, remember=as2.remember, on_mdn=as2.on_mdn))
    security = gateway.settings.security
    token = read_secret(security.api_token, security.api_token_file)
    tokens = TokenSet({token: None} if token else {})
    gateway.routers.append(conversations_router(lambda: gateway.conversations, tokens))
