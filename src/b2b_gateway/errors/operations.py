"""Routing, delivery, lookup, operator and transient errors."""

from __future__ import annotations

from b2b_gateway.errors.base import Ack, GatewayError

__all__ = [
    "AcknowledgmentOverdueError",
    "ActionNotAllowedError",
    "BrokerUnavailableError",
    "DeliveryError",
    "DeliveryRefusedError",
    "EndpointUnavailableError",
    "NotFoundError",
    "OperationError",
    "RoutingError",
    "StoreUnavailableError",
    "TransientError",
    "UnroutableError",
]


# --- routing --------------------------------------------------------------------------------------


class RoutingError(GatewayError):
    """The document is valid but the gateway does not know where it goes."""

    code = "ROUTING"
    ack = Ack(contrl=None, mdn=None, http=422)


class UnroutableError(RoutingError):
    """No routing rule matches: the document is parked with the reason, and can be replayed."""

    code = "UNROUTABLE"


# --- delivery and lookups ---------------------------------------------------------------------------


class DeliveryRefusedError(GatewayError):
    """The destination refused the document for good (an HTTP 4xx, say): it is dead-lettered at once."""

    code = "DELIVERY_REFUSED"
    ack = Ack(contrl=None, mdn="error: unexpected-processing-error", http=502)


class AcknowledgmentOverdueError(GatewayError):
    """A document the gateway sent has no acknowledgment from its partner past the profile's
    ``acknowledgments.deadline_minutes``: it is flagged on the message and alerted (it stays delivered)."""

    code = "ACK_OVERDUE"
    ack = Ack(contrl=None, mdn=None, http=504)


class NotFoundError(GatewayError):
    """A message or another record asked for by its id does not exist (or was removed by retention)."""

    code = "NOT_FOUND"
    ack = Ack(contrl=None, mdn=None, http=404)


# --- operations -----------------------------------------------------------------------------------


class OperationError(GatewayError):
    """An operator's request (API, dashboard, command line) cannot be carried out as asked."""

    code = "OPERATION"
    ack = Ack(contrl=None, mdn=None, http=400)


class ActionNotAllowedError(OperationError):
    """The action does not apply to the message in its current state (e.g. releasing one not quarantined)."""

    code = "ACTION_NOT_ALLOWED"
    ack = Ack(contrl=None, mdn=None, http=409)


# --- transient ------------------------------------------------------------------------------------


class TransientError(GatewayError):
    """A condition that passes: the message stays where it is and is tried again."""

    code = "TRANSIENT"
    retryable = True
    ack = Ack(contrl=None, mdn="error: unexpected-processing-error", http=503)


class StoreUnavailableError(TransientError):
    """The store cannot be reached or is locked."""

    code = "STORE_UNAVAILABLE"


class BrokerUnavailableError(TransientError):
    """The message broker cannot be reached or did not confirm a publish."""

    code = "BROKER_UNAVAILABLE"


class DeliveryError(TransientError):
    """Delivering to a destination failed; the outbox relay tries again with backoff."""

    code = "DELIVERY_FAILED"


class EndpointUnavailableError(DeliveryError):
    """The partner endpoint is down, or its circuit breaker is open."""

    code = "ENDPOINT_UNAVAILABLE"
