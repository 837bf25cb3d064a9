"""Wiring: builds a running gateway from settings (pipeline context, store, transports, relay, HTTP)."""

from b2b_gateway.runtime.context import build_context
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
