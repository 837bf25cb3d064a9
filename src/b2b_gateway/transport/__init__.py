"""Transports: the only code that touches sockets and channel directories. One module per transport,
each with the same shape, and an in-memory twin for tests.

Queue transports (:class:`~b2b_gateway.transport.base.Transport`): ``amqp`` (RabbitMQ), ``embedded``
(a durable queue in the store, the default with no broker) and ``memory`` (the twin). Senders
(:class:`~b2b_gateway.transport.base.Sender`) deliver one output to an endpoint: ``http``,
``directory`` and ``queue`` (an exchange); AS2 registers its own.
"""

from b2b_gateway.transport.base import (
    Delivery,
    Endpoint,
    Envelope,
    Handler,
    Headers,
    OutboundRequest,
    QueueDepth,
    Sender,
    Transport,
)
from b2b_gateway.transport.topology import Topology

__all__ = [
    "Delivery",
    "Endpoint",
    "Envelope",
    "Handler",
    "Headers",
    "OutboundRequest",
    "QueueDepth",
    "Sender",
    "Topology",
    "Transport",
]
