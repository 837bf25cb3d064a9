"""b2b-gateway: an EDI and message-integration gateway between companies.

The public API is small: the pipeline and its message record, the canonical documents, the error tree
and the settings. Everything else is reachable through its subpackage.
"""

from __future__ import annotations

from b2b_gateway._version import __version__
from b2b_gateway.canonical import DespatchAdvice, Document, Invoice, Order, OrderResponse, StatusDocument
from b2b_gateway.errors import GatewayError
from b2b_gateway.pipeline import Message, Pipeline, PipelineContext, State
from b2b_gateway.settings import Settings, load_settings

__all__ = [
    "DespatchAdvice",
    "Document",
    "GatewayError",
    "Invoice",
    "Message",
    "Order",
    "OrderResponse",
    "Pipeline",
    "PipelineContext",
    "Settings",
    "State",
    "StatusDocument",
    "__version__",
    "load_settings",
]
