"""What the operations surface (API, dashboard, ``status``, metrics, alerts) reads and asks of the gateway.

The API and the dashboard depend on these narrow protocols only. The runtime wires the real store,
broker and certificate store behind them; unit tests pass in-memory twins.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from b2b_gateway.pipeline.message import Direction, Message, State

__all__ = [
    "Action",
    "AwaitingAck",
    "CertificateInfo",
    "CertificateSource",
    "MessagePage",
    "MessageQuery",
    "MessageRecord",
    "MessageRow",
    "OpsStore",
    "QueueDepth",
    "QueueMonitor",
    "ThroughputBucket",
]


class Action(StrEnum):
    """What an operator may do to a message."""

    RETRY = "retry"
    """Deliver the stored outputs again (after a delivery failure or from the dead-letter queue)."""
    REPLAY = "replay"
    """Run the original raw payload through the pipeline again, as a new child message."""
    CANCEL = "cancel"
    """Stop trying: the message becomes ``cancelled`` and leaves the retry and dead-letter queues."""
    RELEASE = "release"
    """Take a quarantined message out of quarantine and process it past the security check."""


@dataclass(frozen=True, slots=True)
class MessageQuery:
    """Filters for the message list. ``text`` matches the business key (order or invoice number) or an id."""

    state: State | None = None
    partner: str | None = None
    document_type: str | None = None
    direction: Direction | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    text: str | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True, slots=True)
class MessageRow:
    """One line of a message list (no payloads)."""

    id: str
    direction: str
    state: str
    received_at: dt.datetime
    partner_id: str | None = None
    document_type: str | None = None
    business_key: str | None = None
    format: str | None = None
    channel: str = ""
    parent_id: str | None = None
    correlation_id: str = ""
    size: int = 0
    error_count: int = 0
    last_error: str | None = None
    replay_of: str | None = None
    milestone: str | None = None
    """In a conversation: what the document marks (ordered, acknowledged, confirmed, shipped, invoiced …)."""

    @classmethod
    def of(cls, m: Message) -> MessageRow:
        """The row of an in-memory pipeline message."""
        return cls(
            id=m.id,
            direction=m.direction.value,
            state=m.state.value,
            received_at=m.received_at,
            partner_id=m.partner_id,
            document_type=m.document_type,
            business_key=m.business_key,
            format=m.format,
            channel=m.channel,
            parent_id=m.parent_id,
            correlation_id=m.correlation_id,
            size=len(m.raw),
            error_count=len(m.errors),
            last_error=m.errors[0].message if m.errors else None,
        )

    def to_dict(self) -> dict[str, Any]:
        data = {k: getattr(self, k) for k in self.__slots__}
        data["received_at"] = self.received_at.isoformat()
        data["partner"] = data.pop("partner_id")
        return data


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """One stored message with all there is to know: the pipeline record, its outputs and its signature.

    ``outputs`` are dicts with at least ``id``, ``destination``, ``format``, ``kind`` and ``size``, and,
    when the outbox knows them, ``state``, ``attempts``, ``last_error`` and ``delivered_at``.
    """

    message: Message
    outputs: list[dict[str, Any]] = field(default_factory=list)
    signature: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class MessagePage:
    """One page of messages, newest first, with the total number matching the query."""

    items: list[MessageRow]
    total: int


@dataclass(frozen=True, slots=True)
class QueueDepth:
    """How many messages wait in a queue (the broker's or the embedded one)."""

    name: str
    messages: int
    consumers: int = 0
    dead_letter: bool = False


@dataclass(frozen=True, slots=True)
class ThroughputBucket:
    """Messages received in one time bucket, by outcome."""

    start: dt.datetime
    received: int = 0
    delivered: int = 0
    failed: int = 0


@dataclass(frozen=True, slots=True)
class AwaitingAck:
    """A document the gateway sent that the partner has not acknowledged yet."""

    message_id: str
    partner: str | None
    document_type: str | None
    business_key: str | None
    sent_at: dt.datetime
    deadline: dt.datetime | None

    def overdue(self, now: dt.datetime) -> bool:
        return self.deadline is not None and now > self.deadline


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    """A certificate the gateway holds: ours or a partner's."""

    name: str
    subject: str
    issuer: str
    not_before: dt.datetime
    not_after: dt.datetime
    fingerprint_sha256: str
    partner: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def days_left(self, now: dt.datetime) -> float:
        return (self.not_after - now).total_seconds() / 86400


class OpsStore(Protocol):
    """Reads and actions on the message store."""

    async def list_messages(self, query: MessageQuery) -> MessagePage:
        """Messages matching ``query``, newest first."""
        ...

    async def get_message(self, message_id: str) -> MessageRecord | None:
        """One message with its raw payload, canonical document, errors, audit trail, outputs and signature."""
        ...

    async def lineage(self, message_id: str) -> list[MessageRow]:
        """The message's family: its root (interchange) first, then every descendant, depth first."""
        ...

    async def act(self, action: Action, message_id: str, *, actor: str, reason: str = "") -> MessageRow:
        """Carry out ``action``, recording it in the audit trail with ``actor``; return the message after it.

        A replay returns the new message (whose ``replay_of`` is the original).

        Raises:
            NotFoundError: no such message.
            ActionNotAllowedError: the action does not apply in the message's state.
        """
        ...

    async def throughput(self, since: dt.datetime, bucket: dt.timedelta) -> list[ThroughputBucket]:
        """Received, delivered and failed counts per bucket since ``since`` (oldest first)."""
        ...

    async def state_counts(self) -> dict[str, int]:
        """How many messages are in each state."""
        ...

    async def awaiting_ack(self) -> list[AwaitingAck]:
        """Outbound documents that expect an acknowledgment the partner has not sent yet."""
        ...

    async def timeline(self, key: str, kind: str = "order") -> dict[str, Any]:
        """The conversation about order (``kind`` ``invoice``: invoice) number ``key`` as the API serves it:
        ``entries`` (each document with its milestone, state and acknowledgments) and the ``milestones``
        reached (see :func:`b2b_gateway.runtime.conversations.timeline_view`)."""
        ...

    async def conversation(self, key: str) -> list[MessageRow]:
        """Every document about order (or invoice) number ``key``, sent or received, oldest first, each with
        its ``milestone`` (the store ties an order response, a despatch advice, an invoice and the
        acknowledgments to the order they are about, whatever their own numbers)."""
        ...

    async def outbox_pending(self) -> int:
        """Outputs written to the outbox and not yet delivered."""
        ...

    async def outbox_counts(self) -> dict[str, int]:
        """Outbox entries per state (``pending``, ``delivered``, ``dead``)."""
        ...

    async def dead_letters(self) -> int:
        """Messages (or outputs) given up on and parked in the dead-letter queue."""
        ...

    async def ping(self) -> None:
        """Raise a :class:`~b2b_gateway.errors.StoreUnavailableError` unless the store answers."""
        ...


class QueueMonitor(Protocol):
    """The broker (or the embedded queue) as operations see it."""

    async def depths(self) -> list[QueueDepth]: ...

    async def ping(self) -> None:
        """Raise a :class:`~b2b_gateway.errors.BrokerUnavailableError` unless the broker answers."""
        ...


class CertificateSource(Protocol):
    """The certificates the gateway holds."""

    def certificates(self) -> list[CertificateInfo]: ...
