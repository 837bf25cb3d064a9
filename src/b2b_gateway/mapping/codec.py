"""The interface every document format implements to take part in the pipeline."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from b2b_gateway.canonical.documents import Document
from b2b_gateway.errors import GatewayError
from b2b_gateway.partners.profile import PartnerProfile
from b2b_gateway.settings import LimitSettings

__all__ = ["CodecOptions", "DocumentCodec", "EnvelopeInfo", "StreamingCodec", "Unit", "UnitStream"]


@dataclass(frozen=True, slots=True)
class CodecOptions:
    """What a codec needs to know besides the bytes: the partner (if known) and the input limits."""

    partner: PartnerProfile | None = None
    limits: LimitSettings = field(default_factory=LimitSettings)
    references: dict[str, str] = field(default_factory=dict)
    """Control references allocated for an outbound render (e.g. ``interchange``, ``message``), from the
    store's per-partner counters that survive restarts; see ``DocumentCodec.counters``."""


@dataclass(frozen=True, slots=True)
class EnvelopeInfo:
    """What the envelope says about who sends what to whom (read before full decoding, to identify)."""

    sender: str | None = None
    sender_qualifier: str | None = None
    recipient: str | None = None
    recipient_qualifier: str | None = None
    interchange_ref: str | None = None
    document_type: str | None = None
    test: bool = False
    ack_requested: bool = False


@dataclass(slots=True)
class Unit:
    """One business document inside an input (an EDIFACT message, an XML or JSON document).

    ``raw`` is the unit's own bytes when the input holds several units (an interchange) and ``None``
    when the unit is the whole input.
    """

    document_type: str
    ref: str | None
    native: Any
    raw: bytes | None = None
    warnings: list[GatewayError] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class DocumentCodec(Protocol):
    """A document syntax joined with its mapping to and from the canonical model."""

    name: str
    """Stable format name: ``canonical-json``, ``edifact``, ``ubl``, ``cii``, ``ubl-json``, ``json``."""

    counters: tuple[str, ...]
    """Names of the control-number counters an outbound render needs (``("interchange", "message")`` for
    EDIFACT, ``()`` for most formats). The pipeline allocates them before ``from_canonical``."""

    def sniff(self, data: bytes) -> bool:
        """Whether ``data`` looks like this format (cheap; the first bytes suffice)."""
        ...

    def envelope(self, data: bytes, options: CodecOptions) -> EnvelopeInfo:
        """Sender, recipient and references, without decoding the whole input."""
        ...

    def split(self, data: bytes, options: CodecOptions) -> list[Unit]:
        """Decode and check the syntax; one unit per business document. Raises DocumentRejected."""
        ...

    def validate(self, unit: Unit, options: CodecOptions) -> list[GatewayError]:
        """Check the unit's structure (message definition, XSD, JSON Schema); every error and warning."""
        ...

    def to_canonical(self, unit: Unit, options: CodecOptions) -> Document:
        """Map the unit to canonical. Raises DocumentRejected with every mapping or field error."""
        ...

    def from_canonical(self, document: Document, options: CodecOptions) -> bytes:
        """Render a canonical document in this format for the partner in ``options``."""
        ...


class UnitStream(Protocol):
    """The units of a big input, one at a time (see :class:`StreamingCodec`)."""

    messages: int
    """Units read so far."""

    def __iter__(self) -> Iterator[Unit]: ...

    def findings(self) -> list[GatewayError]:
        """After the iteration: the input's own findings (envelope, trailers, control counts), warnings included."""
        ...

    def settle(self, unit: Unit, errors: list[GatewayError]) -> None:
        """Keep what the acknowledgment needs of a processed unit (its reference, its findings), not the unit."""
        ...


@runtime_checkable
class StreamingCodec(Protocol):
    """A codec that reads a big input as a stream of units (EDIFACT interchanges)."""

    def stream_split(self, chunks: Iterable[bytes], options: CodecOptions) -> UnitStream:
        """The units of the input in ``chunks``, read one at a time; never the whole input."""
        ...
