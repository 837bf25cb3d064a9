"""The gateway's HTTP server: one ASGI app for the API, the dashboard, inbound HTTP and AS2."""

from b2b_gateway.api.app import create_app

__all__ = ["create_app"]
