"""Wiring: builds a running gateway from settings (pipeline context, store, transports)."""

from b2b_gateway.runtime.context import build_context

__all__ = ["build_context"]
