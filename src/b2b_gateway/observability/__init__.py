"""Logging, metrics and tracing: cross-cutting, imported by every layer, importing none of them."""
