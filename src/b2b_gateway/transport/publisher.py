"""Delivering to an exchange: the ERP exchange (routing key ``<document_type>.<partner_id>``) or any other.

The message id of the published message is the output's idempotency key, repeated in the
``idempotency-key`` header: a consumer that sees a key twice drops the second copy.
"""

from __future__ import annotations

from dataclasses import dataclass

from b2b_gateway.transport.base import Envelope, OutboundRequest, Transport

__all__ = ["QueueSender", "erp_routing_key"]


def erp_routing_key(document_type: str | None, partner_id: str | None) -> str:
    """``<document_type>.<partner_id>``, with ``unknown`` for what is not known (dots become dashes)."""
    kind = (document_type or "unknown").replace(".", "-")
    partner = (partner_id or "unknown").replace(".", "-")
    return f"{kind}.{partner}"


@dataclass(slots=True)
class QueueSender:
    """Publishes outputs with a confirm. The endpoint address is ``exchange`` or ``exchange/routing-key``;
    without a routing key the ERP convention applies."""

    transport: Transport

    async def send(self, request: OutboundRequest) -> str:
        exchange, _, key = request.endpoint.address.partition("/")
        routing_key = key or erp_routing_key(request.document_type, request.partner_id)
        envelope = Envelope(
            body=request.payload,
            message_id=request.idempotency_key,
            routing_key=routing_key,
            headers=request.standard_headers(),
            content_type=request.content_type,
            correlation_id=request.correlation_id or None,
            type=request.document_type,
        )
        await self.transport.publish(exchange, envelope)
        return f"{exchange or '(default)'} {routing_key}"
