"""Wiring: builds a running gateway from settings (pipeline context, store, transports, relay, HTTP).

``Gateway`` and the operations are imported on first use, so that importing :mod:`b2b_gateway.runtime.context`
(what ``translate`` and ``validate`` need) does not load the store, the broker client and the web server.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from b2b_gateway.runtime.context import build_context

if TYPE_CHECKING:
    from b2b_gateway.runtime.delivery import EndpointResolver, SenderRegistry
    from b2b_gateway.runtime.gateway import Gateway
    from b2b_gateway.runtime.operations import Operations, open_operations
    from b2b_gateway.runtime.relay import OutboxRelay

__all__ = [
    "EndpointResolver",
    "Gateway",
    "Operations",
    "OutboxRelay",
    "SenderRegistry",
    "build_context",
    "open_operations",
]

_LAZY = {
    "EndpointResolver": "delivery",
    "SenderRegistry": "delivery",
    "Gateway": "gateway",
    "Operations": "operations",
    "open_operations": "operations",
    "OutboxRelay": "relay",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f"b2b_gateway.runtime.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'b2b_gateway.runtime' has no attribute {name!r}")
