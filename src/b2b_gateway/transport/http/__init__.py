"""HTTP: the inbound document endpoint (a router for the shared app) and the partner HTTP sender (httpx)."""

from b2b_gateway.transport.http.inbound import InboundRequest, TokenSet, inbound_router
from b2b_gateway.transport.http.sender import HttpSender

__all__ = ["HttpSender", "InboundRequest", "TokenSet", "inbound_router"]
