"""The message record that flows through the pipeline, and its audit trail."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from b2b_gateway.canonical.documents import Document
from b2b_gateway.errors import GatewayError
from b2b_gateway.mapping.canonical_json import dump_canonical

__all__ = ["AuditEvent", "Direction", "Message", "Output", "State", "derive_id", "new_id", "utcnow"]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_id() -> str:
    """A UUIDv7 (time-ordered, so ids sort by arrival) as 32 hex digits."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (
        (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | (rand >> 68 & 0xFFF) << 64 | 0b10 << 62 | (rand & ((1 << 62) - 1))
    )
    return uuid.UUID(int=value).hex


def derive_id(seed: str, *, like: str | None = None) -> str:
    """A stable id for ``seed`` (same seed, same id), so a message processed again after a crash keeps its ids.

    With ``like`` (an id from :func:`new_id`), the derived id shares its 48-bit timestamp and sorts beside it.
    """
    digest = int.from_bytes(hashlib.sha256(seed.encode("utf-8")).digest()[:16], "big")
    value = (digest & ~(0xF << 76) & ~(0b11 << 62)) | 0x8 << 76 | 0b10 << 62  # UUIDv8 (custom), RFC 4122 variant
    if like is not None and len(like) == 32:
        value = int(like[:12], 16) << 80 | (value & ((1 << 80) - 1))
    return uuid.UUID(int=value).hex


class Direction(StrEnum):
    INBOUND = "inbound"
    """From a partner into the gateway (and on to the ERP)."""
    OUTBOUND = "outbound"
    """From the ERP through the gateway to a partner."""


class State(StrEnum):
    """Where a message is. The last six are final outcomes other than delivery."""

    RECEIVED = "received"
    IDENTIFIED = "identified"
    VERIFIED = "verified"
    DECODED = "decoded"
    SPLIT = "split"
    VALIDATED = "validated"
    MAPPED = "mapped"
    CHECKED = "checked"
    RENDERED = "rendered"
    SIGNED = "signed"
    STORED = "stored"
    ROUTED = "routed"
    DELIVERED = "delivered"
    REJECTED = "rejected"
    QUARANTINED = "quarantined"
    PARKED = "parked"
    FAILED = "failed"
    DUPLICATE = "duplicate"
    CANCELLED = "cancelled"


FINAL_STATES = frozenset(
    {State.DELIVERED, State.REJECTED, State.QUARANTINED, State.FAILED, State.DUPLICATE, State.CANCELLED}
)

Outcome = Literal["ok", "error", "warning", "info"]


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One step in a message's life: append-only."""

    stage: str
    outcome: Outcome
    detail: str = ""
    at: dt.datetime = field(default_factory=utcnow)
    actor: str = "gateway"
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "outcome": self.outcome,
            "detail": self.detail,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "data": self.data,
        }


@dataclass(slots=True)
class Output:
    """A payload the gateway sends somewhere: a rendered document for a destination, or an acknowledgment."""

    destination: str
    payload: bytes
    format: str
    content_type: str = "application/octet-stream"
    kind: Literal["document", "acknowledgment"] = "document"
    headers: dict[str, str] = field(default_factory=dict)
    id: str = field(default_factory=new_id)


@dataclass(slots=True, eq=False, repr=False, weakref_slot=True)
class Message:
    """A document on its way through the gateway, with everything that happened to it.

    Its ``repr`` is short on purpose: on Python 3.11 ``asyncio.run`` formats the repr of its main task's
    result (a ``Message`` returned by ``Pipeline.run``) when it restores the SIGINT handler, and the
    dataclass repr of an interchange's message (every child, every segment of the interchange in each
    child's unit) grows with the square of the number of messages.
    """

    raw: bytes
    direction: Direction = Direction.INBOUND
    channel: str = "api"
    id: str = field(default_factory=new_id)
    correlation_id: str = ""
    parent_id: str | None = None
    partner_id: str | None = None
    format: str | None = None
    document_type: str | None = None
    business_key: str | None = None
    interchange_ref: str | None = None
    message_ref: str | None = None
    test: bool = False
    received_at: dt.datetime = field(default_factory=utcnow)
    metadata: dict[str, str] = field(default_factory=dict)
    state: State = State.RECEIVED
    canonical: Document | None = None
    errors: list[GatewayError] = field(default_factory=list)
    warnings: list[GatewayError] = field(default_factory=list)
    events: list[AuditEvent] = field(default_factory=list)
    signature: bytes | None = None
    outputs: list[Output] = field(default_factory=list)
    children: list[Message] = field(default_factory=list)
    unit: Any = None
    sha256: str = ""
    path: str | None = None
    """A big input read as a stream from this file (``limits.stream_threshold_bytes``); ``raw`` is then empty."""
    file_size: int = -1
    """The size of :attr:`path` (read once); see :attr:`size`."""
    child_count: int = 0
    """Messages split from this one (a streamed input keeps their count and outcomes, not the children)."""
    outcomes: dict[str, int] = field(default_factory=dict)
    """A streamed input's children by final state."""
    _dumped: tuple[Document, bytes] | None = field(default=None, init=False)
    """The canonical document and its JSON (see :meth:`canonical_json`)."""

    def __post_init__(self) -> None:
        if not self.correlation_id:
            self.correlation_id = self.id
        if self.path is not None and self.file_size < 0:
            self.file_size = Path(self.path).stat().st_size
        if not self.sha256:
            if self.path is None:
                self.sha256 = hashlib.sha256(self.raw).hexdigest()
            else:
                digest = hashlib.sha256()
                for chunk in self.chunks():
                    digest.update(chunk)
                self.sha256 = digest.hexdigest()

    def canonical_json(self) -> bytes:
        """The canonical document's JSON, made once per document: what is signed is what is stored.

        Raises:
            ValueError: the message has no canonical document.
        """
        if self.canonical is None:
            raise ValueError("the message has no canonical document")
        dumped = self._dumped
        if dumped is None or dumped[0] is not self.canonical:
            dumped = self._dumped = (self.canonical, dump_canonical(self.canonical))
        return dumped[1]

    @property
    def size(self) -> int:
        """The input's size in bytes: the file's for a streamed input, else ``raw``'s (as it is now)."""
        return self.file_size if self.path is not None else len(self.raw)

    def chunks(self, size: int = 1 << 20) -> Iterator[bytes]:
        """The input in chunks of ``size`` bytes (read from :attr:`path`, or slices of ``raw``)."""
        if self.path is None:
            yield from (self.raw[i : i + size] for i in range(0, len(self.raw), size))
            return
        with Path(self.path).open("rb") as fh:
            while chunk := fh.read(size):
                yield chunk

    def head(self, size: int = 65536) -> bytes:
        """The first ``size`` bytes of the input (enough to detect the format and read the envelope)."""
        if self.path is None:
            return self.raw[:size]
        with Path(self.path).open("rb") as fh:
            return fh.read(size)

    def __repr__(self) -> str:
        return (
            f"Message(id={self.id!r}, state={self.state.value!r}, document_type={self.document_type!r}, "
            f"size={self.size}, children={self.child_count})"
        )

    def record(
        self, stage: str, outcome: Outcome, detail: str = "", *, actor: str = "gateway", **data: Any
    ) -> AuditEvent:
        """Append an audit event and return it."""
        event = AuditEvent(stage=stage, outcome=outcome, detail=detail, actor=actor, data=data)
        self.events.append(event)
        return event

    def child(self, raw: bytes, *, keep: bool = True, **kwargs: Any) -> Message:
        """A message split from this one (an EDIFACT message from its interchange), with the lineage set.

        The child's id derives from the parent's id and its position, so splitting again gives the same ids.
        A streamed input does not ``keep`` its children (in :attr:`children`); it counts them.
        """
        kid = Message(
            raw=raw,
            id=derive_id(f"{self.id}/{self.child_count}", like=self.id),
            direction=self.direction,
            channel=self.channel,
            correlation_id=self.correlation_id,
            parent_id=self.id,
            partner_id=self.partner_id,
            format=self.format,
            interchange_ref=self.interchange_ref,
            test=self.test,
            metadata=dict(self.metadata),
            **kwargs,
        )
        self.child_count += 1
        if keep:
            self.children.append(kid)
        return kid

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary (what the CLI and API list)."""
        return {
            "id": self.id,
            "correlation_id": self.correlation_id,
            "parent_id": self.parent_id,
            "direction": self.direction.value,
            "channel": self.channel,
            "partner": self.partner_id,
            "format": self.format,
            "document_type": self.document_type,
            "business_key": self.business_key,
            "state": self.state.value,
            "sha256": self.sha256,
            "size": self.size,
            "received_at": self.received_at.isoformat(),
            "errors": [e.to_dict() for e in self.errors],
            "warnings": [w.to_dict() for w in self.warnings],
            "children": [c.id for c in self.children],
            **({"streamed": {"children": self.child_count, "outcomes": dict(self.outcomes)}} if self.path else {}),
        }
