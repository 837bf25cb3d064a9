"""RabbitMQ through aio-pika: the transport a deployment uses (see docs/amqp.md for the contract)."""

from b2b_gateway.transport.amqp.connection import connect, display_url, tls_context
from b2b_gateway.transport.amqp.transport import AmqpDelivery, AmqpTransport

__all__ = ["AmqpDelivery", "AmqpTransport", "connect", "display_url", "tls_context"]
