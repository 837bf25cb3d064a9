"""AS2 over HTTP(S): the sender the outbox relay registers for channel kind ``as2``, and async MDNs.

The sender interface every channel sender meets (:class:`ChannelSender`)::

    class ChannelSender(Protocol):
        kind: str                                            # the Channel.kind it serves ("as2")
        async def send(self, output: Output, partner: PartnerProfile, channel: Channel) -> DeliveryResult

``send`` raises a :class:`~b2b_gateway.errors.TransientError` (``EndpointUnavailableError``) when the
partner cannot be reached or answers 5xx: the relay retries with backoff. Everything else comes back
as a :class:`DeliveryResult`: ``delivered`` (a positive MDN, or no MDN asked), ``sent`` (an async MDN
is awaited), ``refused`` (a negative MDN or a 4xx: final, with the error). A security problem with the
MDN itself (bad signature, MIC mismatch) raises its :class:`~b2b_gateway.errors.SecurityError`.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

import httpx

from b2b_gateway.as2.mdn import Mdn, MdnReceipt, read_mdn
from b2b_gateway.as2.mime import Headers
from b2b_gateway.as2.outbound import OutboundMessage, build_message, check_mdn
from b2b_gateway.as2.party import As2Party, as2_party
from b2b_gateway.errors import (
    DeliveryError,
    EndpointUnavailableError,
    GatewayError,
    PartnerConfigError,
    UnmatchedAcknowledgmentError,
)
from b2b_gateway.observability.logging import get_logger
from b2b_gateway.partners.profile import Channel, PartnerProfile
from b2b_gateway.pipeline.message import Output
from b2b_gateway.security.store import CertStore
from b2b_gateway.security.tls import channel_context
from b2b_gateway.settings import SecuritySettings

__all__ = ["As2Sender", "ChannelSender", "DeliveryResult", "content_type_for", "post_mdn"]

log = get_logger("b2b_gateway.as2")

_CONTENT_TYPES = {
    "edifact": "application/edifact",
    "x12": "application/edi-x12",
    "ubl": "application/xml",
    "cii": "application/xml",
    "json": "application/json",
    "ubl-json": "application/json",
    "canonical-json": "application/json",
}


def content_type_for(output: Output) -> str:
    """The MIME type an output travels as (its own unless it is the generic default)."""
    if output.content_type and output.content_type != "application/octet-stream":
        return output.content_type
    return _CONTENT_TYPES.get(output.format, "application/octet-stream")


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """What became of one output on one channel."""

    output_id: str
    kind: str
    status: Literal["delivered", "sent", "refused"]
    message_id: str | None = None
    detail: str = ""
    mdn: MdnReceipt | None = None
    error: GatewayError | None = None


class ChannelSender(Protocol):
    """A transport that delivers an output to a partner over one kind of channel."""

    kind: str

    async def send(self, output: Output, partner: PartnerProfile, channel: Channel) -> DeliveryResult: ...


ClientFactory = Callable[[ssl.SSLContext | None, float], httpx.AsyncClient]


def _client(context: ssl.SSLContext | None, timeout: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(verify=context if context is not None else True, timeout=timeout)


@dataclass(slots=True)
class As2Sender:
    """Sends outputs over AS2 (sign, encrypt, compress as the partner's profile says) and reads the MDN.

    Args:
        store: our keys and the partners' certificates.
        our_as2_id: our AS2 name where a channel sets none.
        security: the key passphrase (for client certificates) and the default signing key.
        certs_dir: where TLS client certificates and CA files named by channels live.
        client_factory: builds the HTTP client (tests inject their own).
        on_async_mdn: called with each asynchronous MDN matched to a message we sent.
    """

    store: CertStore
    our_as2_id: str
    security: SecuritySettings = field(default_factory=SecuritySettings)
    certs_dir: Path = Path("certs")
    client_factory: ClientFactory = _client
    on_async_mdn: Callable[[OutboundMessage, MdnReceipt], Awaitable[None]] | None = None
    kind: str = "as2"
    pending: dict[str, tuple[OutboundMessage, As2Party]] = field(default_factory=dict)

    def party(self, partner: PartnerProfile, channel: Channel) -> As2Party:
        return as2_party(
            partner,
            self.store,
            our_as2_id=self.our_as2_id,
            channel=channel,
            default_signing_key=self.security.signing_key,
        )

    def _headers(self, message: OutboundMessage, channel: Channel) -> dict[str, str]:
        headers = {**channel.headers, **message.headers}
        if channel.auth_token_env:
            token = os.environ.get(channel.auth_token_env)
            if not token:
                raise PartnerConfigError(f"the environment variable {channel.auth_token_env} holds no token")
            headers["Authorization"] = f"Bearer {token}"
        return headers

    async def send(self, output: Output, partner: PartnerProfile, channel: Channel) -> DeliveryResult:
        """POST ``output`` to the partner's AS2 URL and read the synchronous MDN.

        Raises:
            EndpointUnavailableError: the partner cannot be reached or answers 5xx (retry later).
            SecurityError: the MDN's signature or MIC does not check out.
            PartnerConfigError: no URL, a missing certificate or key.
        """
        party = self.party(partner, channel)
        if not party.url:
            raise PartnerConfigError(f"partner {partner.id}: the as2 channel {channel.name!r} has no url")
        message = build_message(
            output.payload,
            party,
            content_type=content_type_for(output),
            filename=output.headers.get("filename"),
            subject=output.headers.get("subject"),
        )
        context = channel_context(channel, self.certs_dir, self.security)
        if message.mdn == "async":
            # Registered before the POST: a fast partner may post the MDN before our request returns.
            self.pending[message.message_id] = (message, party)
        try:
            async with self.client_factory(context, channel.timeout_s) as client:
                response = await client.post(party.url, content=message.body, headers=self._headers(message, channel))
        except httpx.TransportError as exc:
            self.pending.pop(message.message_id, None)
            raise EndpointUnavailableError(
                f"AS2 endpoint {party.url} unreachable: {type(exc).__name__}: {exc}"
            ) from None
        log.info(
            "as2.sent",
            partner=partner.id,
            message_id=message.message_id,
            status=response.status_code,
            signed=message.signed,
            encrypted=message.encrypted,
            compressed=message.compressed,
        )
        if response.status_code >= 500:
            self.pending.pop(message.message_id, None)
            raise EndpointUnavailableError(f"AS2 endpoint {party.url} answered HTTP {response.status_code}")
        result = self._result(output, message, party, response)
        if result.status != "sent":
            self.pending.pop(message.message_id, None)
        return result

    def _result(
        self, output: Output, message: OutboundMessage, party: As2Party, response: httpx.Response
    ) -> DeliveryResult:
        has_mdn = "multipart" in response.headers.get("content-type", "")
        if message.mdn == "sync" and has_mdn:
            receipt = check_mdn(message, Headers(response.headers.items()), response.content, party)
            error = receipt.error()
            log.info("as2.mdn", message_id=message.message_id, disposition=receipt.disposition, signed=receipt.signed)
            status: Literal["delivered", "sent", "refused"] = "delivered" if error is None else "refused"
            return DeliveryResult(output.id, self.kind, status, message.message_id, receipt.disposition, receipt, error)
        if response.status_code >= 400:
            error = DeliveryError(
                f"AS2 endpoint {party.url} answered HTTP {response.status_code}: {response.text[:200]}"
            )
            return DeliveryResult(output.id, self.kind, "refused", message.message_id, error.message, None, error)
        if message.mdn == "sync":
            error = UnmatchedAcknowledgmentError("a synchronous MDN was asked for, but the partner returned none")
            return DeliveryResult(output.id, self.kind, "refused", message.message_id, error.message, None, error)
        if message.mdn == "async":
            return DeliveryResult(output.id, self.kind, "sent", message.message_id, "awaiting the asynchronous MDN")
        return DeliveryResult(output.id, self.kind, "delivered", message.message_id, f"HTTP {response.status_code}")

    async def receive_mdn(self, headers: Headers, body: bytes) -> MdnReceipt:
        """An asynchronous MDN posted back to us: match it to what we sent and check it.

        Raises:
            UnmatchedAcknowledgmentError: it answers no message we are waiting on.
            SecurityError: its signature or MIC does not check out.
        """
        sender = headers.get("AS2-From").strip().strip('"')
        for message, party in list(self.pending.values()):
            if party.as2_id != sender:
                continue
            receipt = read_mdn(headers, body, party)
            waiting = self.pending.get(receipt.original_message_id)
            if waiting is None:
                break
            message, party = waiting
            checked = check_mdn(message, headers, body, party)
            del self.pending[message.message_id]
            log.info("as2.mdn", message_id=message.message_id, disposition=checked.disposition, mode="async")
            if self.on_async_mdn is not None:
                await self.on_async_mdn(message, checked)
            return checked
        raise UnmatchedAcknowledgmentError(f"an asynchronous MDN from {sender!r} answers no message we sent")


async def post_mdn(mdn: Mdn, *, context: ssl.SSLContext | None = None, timeout_s: float = 30.0) -> int:
    """POST an asynchronous MDN to the URL the sender gave (Receipt-Delivery-Option).

    Returns:
        The HTTP status the sender answered.

    Raises:
        EndpointUnavailableError: the URL cannot be reached.
    """
    if not mdn.async_url:
        raise DeliveryError("the MDN has no return URL")
    try:
        async with _client(context, timeout_s) as client:
            response = await client.post(mdn.async_url, content=mdn.body, headers=mdn.headers)
    except httpx.TransportError as exc:
        raise EndpointUnavailableError(f"cannot post the MDN to {mdn.async_url}: {type(exc).__name__}") from None
    log.info("as2.mdn_posted", message_id=mdn.message_id, url=mdn.async_url, status=response.status_code)
    return response.status_code
