"""The gateway's partner-facing edge on its HTTP app: the AS2 endpoint (``POST /as2``, ``POST /as2/mdn``).

``b2b-gateway run`` calls :func:`attach_edges` before the gateway starts (the router lives here, above
the runtime, which cannot import it), beside :func:`b2b_gateway.api.gateway_ops.attach_operations`
(the dashboard and the REST API, conversations included)::

    gateway = Gateway(settings, app_factory=create_app)
    attach_edges(gateway)
    ops = attach_operations(gateway, stop)
    await gateway.serve(stop)
"""

from __future__ import annotations

from b2b_gateway.api.as2 import as2_router
from b2b_gateway.runtime.gateway import Gateway

__all__ = ["attach_edges"]


def attach_edges(gateway: Gateway) -> None:
    """Add the AS2 endpoint (``gateway.as2``: receiver, pipeline hand-off, duplicate register, MDNs)."""
    as2 = gateway.as2
    gateway.routers.append(as2_router(as2.receiver, as2.on_payload, remember=as2.remember, on_mdn=as2.on_mdn))
