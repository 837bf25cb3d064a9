"""Receiving an AS2 message, without I/O: HTTP headers and body in, payload and MDN out.

:meth:`As2Receiver.receive` identifies the partner (an injected lookup), takes off the S/MIME layers
(decrypt, verify, decompress, in whatever order they were put on), applies the partner's policy,
computes the MIC, and checks for a duplicate Message-ID (an injected check). It never raises for a
bad input: the outcome carries the error, and :meth:`As2Receiver.mdn` turns it into the receipt whose
disposition the error's ``ack.mdn`` names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from b2b_gateway.as2.mdn import Mdn, MdnRequest, Mic, build_mdn
from b2b_gateway.as2.mime import Entity, Headers
from b2b_gateway.as2.party import As2Party
from b2b_gateway.as2.smime import unwrap
from b2b_gateway.errors import (
    DuplicateDocumentError,
    EncryptionRequiredError,
    GatewayError,
    MimeFormatError,
    SignatureRequiredError,
    UnknownPartnerError,
    UnknownRecipientError,
)
from b2b_gateway.observability.tracing import TRACEPARENT, TRACESTATE, trace_context

__all__ = ["As2Receiver", "DuplicateCheck", "Inbound", "PartyLookup", "SeenMessages"]

PartyLookup = Callable[[str, str], As2Party | None]
"""``(as2_from, as2_to) -> party``: the partner that sends as ``as2_from`` to us as ``as2_to``, or ``None``."""
DuplicateCheck = Callable[[str, str], bool]
"""``(partner_id, message_id) -> bool``: whether this Message-ID was already received from the partner."""

MAX_LAYERS = 6


def _never(_partner: str, _message_id: str) -> bool:
    return False


class SeenMessages:
    """An in-memory duplicate register: ``is_duplicate`` for the receiver, ``remember`` once accepted.

    The runtime may back the same two calls with the message store instead.
    """

    def __init__(self, limit: int = 100_000) -> None:
        self._seen: dict[tuple[str, str], None] = {}
        self._limit = limit

    def is_duplicate(self, partner_id: str, message_id: str) -> bool:
        return (partner_id, message_id) in self._seen

    def remember(self, partner_id: str, message_id: str) -> None:
        self._seen[(partner_id, message_id)] = None
        while len(self._seen) > self._limit:
            self._seen.pop(next(iter(self._seen)))


@dataclass(slots=True)
class Inbound:
    """What came of one received AS2 message."""

    message_id: str
    as2_from: str
    as2_to: str
    request: MdnRequest | None
    party: As2Party | None = None
    payload: bytes | None = None
    content_type: str = ""
    filename: str | None = None
    signed: bool = False
    encrypted: bool = False
    compressed: bool = False
    signer: str | None = None
    algorithms: dict[str, str] = field(default_factory=dict)
    mic: Mic | None = None
    error: GatewayError | None = None
    trace: dict[str, str] = field(default_factory=dict)
    """The W3C trace context the partner sent (``traceparent``, ``tracestate``), if any."""

    @property
    def ok(self) -> bool:
        """The payload may be handed on (not refused, not a duplicate)."""
        return self.error is None and self.payload is not None

    @property
    def duplicate(self) -> bool:
        return isinstance(self.error, DuplicateDocumentError)

    def metadata(self) -> dict[str, str]:
        """What a pipeline message records about its AS2 arrival (strings only)."""
        data = {
            "as2.message_id": self.message_id,
            "as2.from": self.as2_from,
            "as2.to": self.as2_to,
            "security.signed": str(self.signed).lower(),
            "security.encrypted": str(self.encrypted).lower(),
            "security.compressed": str(self.compressed).lower(),
        }
        if self.signer:
            data["security.signer"] = self.signer
        if self.filename:
            data["filename"] = self.filename
        if self.party is not None:
            data["partner"] = self.party.partner_id
        data.update({f"security.{k}_algorithm": v for k, v in self.algorithms.items()})
        data.update(self.trace)
        return data


class As2Receiver:
    """The sans-IO AS2 receiver.

    Args:
        lookup: finds the partner from AS2-From/AS2-To.
        is_duplicate: tells whether a Message-ID was seen before (the caller remembers accepted ones).
        reporting_ua: the Reporting-UA of our MDNs.
        max_bytes: refuse compressed content that inflates beyond this.
    """

    def __init__(
        self,
        lookup: PartyLookup,
        *,
        is_duplicate: DuplicateCheck = _never,
        reporting_ua: str = "b2b-gateway",
        max_bytes: int | None = None,
    ) -> None:
        self.lookup = lookup
        self.is_duplicate = is_duplicate
        self.reporting_ua = reporting_ua
        self.max_bytes = max_bytes

    def receive(self, headers: Mapping[str, str] | Headers, body: bytes) -> Inbound:
        """Process one AS2 POST. Never raises for the partner's input: see :attr:`Inbound.error`."""
        head = headers if isinstance(headers, Headers) else Headers(headers)
        inbound = Inbound(
            message_id=head.get("Message-ID").strip(),
            as2_from=head.get("AS2-From").strip().strip('"'),
            as2_to=head.get("AS2-To").strip().strip('"'),
            request=MdnRequest.from_headers(head),
            trace=trace_context({k: head.get(k) for k in (TRACEPARENT, TRACESTATE)}),
        )
        try:
            self._process(inbound, head, body)
        except GatewayError as exc:
            inbound.error = exc
            inbound.payload = None if not isinstance(exc, DuplicateDocumentError) else inbound.payload
        except (ValueError, TypeError, KeyError, IndexError) as exc:  # a structure no parser expected
            inbound.error = MimeFormatError(f"the AS2 message cannot be read: {type(exc).__name__}: {exc}")
            inbound.payload = None
        return inbound

    def _identify(self, inbound: Inbound) -> As2Party:
        if not inbound.as2_from or not inbound.as2_to:
            raise MimeFormatError("an AS2 message needs AS2-From and AS2-To headers")
        if not inbound.message_id:
            raise MimeFormatError("the AS2 message has no Message-ID")
        party = self.lookup(inbound.as2_from, inbound.as2_to)
        if party is None:
            raise UnknownPartnerError(
                f"no partner sends as AS2 name {inbound.as2_from!r}",
                hint="add an as2 identifier or channel as2_id to the partner's profile",
            )
        if party.our_as2_id != inbound.as2_to:
            raise UnknownRecipientError(f"AS2-To is {inbound.as2_to!r}; we are {party.our_as2_id!r} to this partner")
        return party

    def _process(self, inbound: Inbound, head: Headers, body: bytes) -> None:
        party = self._identify(inbound)
        inbound.party = party
        names = ("Content-Type", "Content-Transfer-Encoding", "Content-Disposition")
        outer = [(n, head.get(n)) for n in names if head.get(n)]
        entity = Entity(outer or [("Content-Type", "application/octet-stream")], body)
        mic_source: bytes | None = None
        first_decrypted: bytes | None = None
        mic_alg = inbound.request.mic_algorithm(party.mic_algorithm) if inbound.request else party.mic_algorithm
        for _ in range(MAX_LAYERS):
            layer = unwrap(entity, party, max_bytes=self.max_bytes)
            if layer is None:
                break
            if layer.kind == "signed" and not inbound.signed:
                inbound.signed = True
                mic_source = layer.covered
                assert layer.signature is not None
                inbound.signer = layer.signature.fingerprint
                inbound.algorithms["signature"] = layer.algorithm
            elif layer.kind == "encrypted" and not inbound.encrypted:
                inbound.encrypted = True
                first_decrypted = layer.covered
                inbound.algorithms["encryption"] = layer.algorithm
            elif layer.kind == "compressed":
                inbound.compressed = True
            entity = layer.inner
        else:
            raise MimeFormatError(f"more than {MAX_LAYERS} nested S/MIME layers")
        inbound.payload = entity.content()
        inbound.content_type = entity.content_type
        inbound.filename = _filename(entity)
        source = mic_source if mic_source is not None else first_decrypted
        inbound.mic = Mic.of(source if source is not None else inbound.payload, mic_alg)
        if party.require_signature and not inbound.signed:
            raise SignatureRequiredError(f"partner {party.partner_id} must sign its AS2 messages; this one is unsigned")
        if party.require_encryption and not inbound.encrypted:
            raise EncryptionRequiredError(
                f"partner {party.partner_id} must encrypt its AS2 messages; this one is clear"
            )
        if self.is_duplicate(party.partner_id, inbound.message_id):
            raise DuplicateDocumentError(
                f"AS2 message {inbound.message_id} was already received from {party.partner_id}", severity="warning"
            )

    def mdn(self, inbound: Inbound, error: GatewayError | None = None) -> Mdn | None:
        """The receipt for ``inbound`` (``None`` when none was asked for).

        Args:
            inbound: the outcome of :meth:`receive`.
            error: a later failure to take into account (e.g. the hand-off to the pipeline refused it).
        """
        if inbound.request is None:
            return None
        return build_mdn(
            original_message_id=inbound.message_id or "<unknown>",
            as2_from=inbound.party.our_as2_id if inbound.party else inbound.as2_to,
            as2_to=inbound.as2_from,
            error=error or inbound.error,
            mic=inbound.mic,
            request=inbound.request,
            party=inbound.party,
            reporting_ua=self.reporting_ua,
        )


def _filename(entity: Entity) -> str | None:
    disposition = entity.header("Content-Disposition")
    if "filename=" not in disposition:
        return None
    name = disposition.split("filename=", 1)[1].split(";")[0].strip().strip('"')
    return name.replace("/", "_").replace("\\", "_") or None
