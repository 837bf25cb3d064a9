"""Sending an AS2 message, without I/O: payload in, HTTP headers and body out; the MDN read back.

Layers go on in the usual order: compress (when the channel asks), sign, encrypt. The MIC we expect
back is computed here: over the signed entity for a signed message, over the entity before
encryption for an encrypted unsigned one, over the payload for a plain one (RFC 4130 §7.3.1).
"""

from __future__ import annotations

import datetime as dt
import email.utils
from dataclasses import dataclass

from b2b_gateway.as2.mdn import AS2_VERSION, MdnReceipt, Mic, new_message_id, read_mdn
from b2b_gateway.as2.mime import Entity, Headers
from b2b_gateway.as2.party import As2Party
from b2b_gateway.as2.smime import compress, encrypt, micalg_name, sign
from b2b_gateway.errors import ContentTamperedError, PartnerConfigError, UnmatchedAcknowledgmentError

__all__ = ["OutboundMessage", "build_message", "check_mdn"]


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """An AS2 message ready to POST: its headers and body, and what its MDN must say."""

    message_id: str
    headers: dict[str, str]
    body: bytes
    mic: Mic
    signed: bool
    encrypted: bool
    compressed: bool
    mdn: str
    """``sync``, ``async`` or ``none``: the MDN asked for."""


def _mdn_headers(party: As2Party) -> dict[str, str]:
    if party.mdn == "none":
        return {}
    protocol = "required" if party.signed_mdn else "optional"
    headers = {
        "Disposition-Notification-To": party.our_as2_id,
        "Disposition-Notification-Options": (
            f"signed-receipt-protocol={protocol}, pkcs7-signature; "
            f"signed-receipt-micalg={protocol}, {micalg_name(party.mic_algorithm)}"
        ),
    }
    if party.mdn == "async":
        if not party.mdn_url:
            raise PartnerConfigError(f"partner {party.partner_id}: an asynchronous MDN needs the channel's mdn_url")
        headers["Receipt-Delivery-Option"] = party.mdn_url
    return headers


def build_message(
    payload: bytes,
    party: As2Party,
    *,
    content_type: str = "application/edifact",
    filename: str | None = None,
    subject: str | None = None,
    message_id: str | None = None,
    now: dt.datetime | None = None,
) -> OutboundMessage:
    """Wrap ``payload`` for ``party`` as its policy says.

    Raises:
        KeyStoreError: signing or encryption is asked but the key or certificate is missing.
        UnsupportedAlgorithmError: an algorithm the gateway does not send with.
        PartnerConfigError: an asynchronous MDN without a return URL.
    """
    headers = [("Content-Type", content_type), ("Content-Transfer-Encoding", "binary")]
    if filename:
        headers.append(("Content-Disposition", f'attachment; filename="{filename}"'))
    entity = Entity(headers, payload)
    if party.compress:
        entity = compress(entity)
    mic = Mic.of(payload, party.mic_algorithm)
    if party.sign:
        mic = Mic.of(entity.to_bytes(), party.mic_algorithm)
        entity = sign(entity, party)
    if party.encrypt:
        if not party.sign:
            mic = Mic.of(entity.to_bytes(), party.mic_algorithm)
        entity = encrypt(entity, party)
    mid = message_id or new_message_id(party.our_as2_id)
    http = {
        "AS2-Version": AS2_VERSION,
        "AS2-From": _quote(party.our_as2_id),
        "AS2-To": _quote(party.as2_id),
        "Message-ID": mid,
        "Subject": subject or f"AS2 message from {party.our_as2_id}",
        "Date": email.utils.format_datetime(now or dt.datetime.now(dt.UTC)),
        "MIME-Version": "1.0",
        **_mdn_headers(party),
        **dict(entity.headers),
    }
    return OutboundMessage(mid, http, entity.body, mic, party.sign, party.encrypt, party.compress, party.mdn)


def _quote(name: str) -> str:
    return f'"{name}"' if " " in name else name


def check_mdn(sent: OutboundMessage, headers: Headers, body: bytes, party: As2Party) -> MdnReceipt:
    """Read the MDN for ``sent`` and check it belongs to it and that the MIC matches.

    Returns:
        The receipt; a negative disposition is reported through :meth:`MdnReceipt.error`, not raised.

    Raises:
        UnmatchedAcknowledgmentError: the MDN answers another message.
        ContentTamperedError: the MDN says processed but its MIC is not the one we computed.
        SecurityError: a signed MDN that does not verify, or an unsigned one when a signature is required.
        MimeFormatError: not an MDN.
    """
    receipt = read_mdn(headers, body, party)
    if receipt.original_message_id and receipt.original_message_id != sent.message_id:
        raise UnmatchedAcknowledgmentError(
            f"the MDN answers {receipt.original_message_id}, not {sent.message_id}",
        )
    if receipt.ok:
        if receipt.mic is None:
            if sent.signed:
                raise ContentTamperedError("the MDN for a signed message carries no Received-Content-MIC")
        elif receipt.mic.value != sent.mic.value or receipt.mic.algorithm != sent.mic.algorithm:
            raise ContentTamperedError(
                f"the partner received content with MIC {receipt.mic.header()}, but we sent {sent.mic.header()}",
                hint="something changed the message in transit, or the partner computes the MIC differently",
            )
    return receipt
