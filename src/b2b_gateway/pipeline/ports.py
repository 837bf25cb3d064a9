"""What the pipeline needs from the outside world, as small protocols (injected, never imported).

Transports, the store, security and routing implement these; tests pass in-memory twins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

from b2b_gateway.mapping.codec import CodecOptions
from b2b_gateway.partners.profile import PartnerProfile
from b2b_gateway.pipeline.message import AuditEvent, Message, Output

__all__ = [
    "Acknowledger",
    "ControlNumbers",
    "Deliverer",
    "Destination",
    "EventObserver",
    "MessageStore",
    "Router",
    "Signer",
    "Verifier",
]


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a routed document goes and in which format."""

    name: str
    """Stable destination name, e.g. ``erp``, ``partner:MOCKEDI``, ``dir:archive``."""
    kind: Literal["erp", "partner", "directory", "queue"]
    format: str = "canonical-json"
    partner_id: str | None = None
    address: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class Signer(Protocol):
    """Signs bytes for archiving and sending (detached CMS)."""

    def sign(self, data: bytes, *, partner: PartnerProfile | None) -> bytes: ...


class Verifier(Protocol):
    """Checks the partner's signature (and unwraps protected content) before decoding.

    Raises a :class:`~b2b_gateway.errors.SecurityError` leaf when a check fails.
    """

    def verify(self, message: Message, *, partner: PartnerProfile | None) -> None: ...


class MessageStore(Protocol):
    """Durable home of messages, their audit trails and outputs."""

    async def save(self, message: Message) -> None:
        """Insert or update the message, append its new audit events, write its outputs; commit."""
        ...


class ControlNumbers(Protocol):
    """Per-partner counters for control references (UNB 0020, UNH 0062 …) that survive restarts."""

    async def next(self, key: str) -> int:
        """The next value of counter ``key`` (e.g. ``MOCKEDI:edifact:interchange``), committed."""
        ...


class Router(Protocol):
    """Decides where a validated document goes."""

    def route(self, message: Message) -> list[Destination]: ...


class Deliverer(Protocol):
    """Hands a routed message's outputs to their destinations (directly, or through an outbox relay).

    A deliverer with a true ``saves_message`` attribute saves the message itself (with its outputs, in
    one commit): the ``store`` and ``route`` stages and the acknowledgment step then leave the save to it.
    """

    async def deliver(self, message: Message) -> None: ...


class Acknowledger(Protocol):
    """Builds the acknowledgments (CONTRL, APERAK …) a processed inbound interchange earns."""

    def acknowledge(self, message: Message, options: CodecOptions) -> list[Output]: ...


EventObserver = Callable[[Message, AuditEvent], None]
