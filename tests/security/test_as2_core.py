"""The sans-IO AS2 core: round trips, MDNs and every refusal with the disposition it sends back."""

from __future__ import annotations

import dataclasses

import pytest

from b2b_gateway.as2 import (
    As2Party,
    As2Receiver,
    Headers,
    Inbound,
    SeenMessages,
    build_message,
    check_mdn,
    disposition_for,
    error_for,
    read_mdn,
)
from b2b_gateway.as2.outbound import OutboundMessage
from b2b_gateway.errors import (
    CertificateExpiredError,
    CertificateNotYetValidError,
    CertificateUntrustedError,
    ContentTamperedError,
    DecompressionError,
    DecryptionError,
    DuplicateDocumentError,
    EncryptionRequiredError,
    GatewayError,
    MimeFormatError,
    SecurityError,
    SignatureRequiredError,
    UnknownPartnerError,
    UnknownRecipientError,
    UnmatchedAcknowledgmentError,
)
from tests.security.conftest import Pki, orders

PAYLOAD = orders()


def sender(pki: Pki, **changes: object) -> As2Party:
    """The partner's side: it sends to the gateway."""
    party = As2Party(
        partner_id="GATEWAY",
        as2_id="GATEWAY",
        our_as2_id="PARTNER",
        sign=True,
        encrypt=True,
        certificates=(pki.gateway.certificate,),
        trusted_roots=(pki.root.certificate,),
        intermediates=(pki.intermediate.certificate,),
        signing=pki.partner,
        decryption=(pki.partner,),
    )
    return dataclasses.replace(party, **changes)  # type: ignore[arg-type]


def receiving(pki: Pki, **changes: object) -> As2Party:
    """The gateway's view of the partner."""
    party = As2Party(
        partner_id="PARTNER",
        as2_id="PARTNER",
        our_as2_id="GATEWAY",
        require_signature=True,
        require_encryption=True,
        certificates=(pki.partner.certificate, pki.partner_ec.certificate),
        trusted_roots=(pki.root.certificate,),
        intermediates=(pki.intermediate.certificate,),
        signing=pki.gateway,
        decryption=(pki.gateway,),
    )
    return dataclasses.replace(party, **changes)  # type: ignore[arg-type]


def receiver(party: As2Party, seen: SeenMessages | None = None) -> As2Receiver:
    return As2Receiver(
        lambda as2_from, _to: party if as2_from == party.as2_id else None,
        is_duplicate=seen.is_duplicate if seen else lambda _p, _m: False,
    )


def exchange(pki: Pki, send: As2Party, recv: As2Party, **kw: object) -> tuple[OutboundMessage, Inbound, As2Receiver]:
    message = build_message(PAYLOAD, send, filename="orders.edi", **kw)  # type: ignore[arg-type]
    rx = receiver(recv)
    return message, rx.receive(message.headers, message.body), rx


@pytest.mark.parametrize(
    ("sign", "encrypt", "compress", "algorithm", "mic"),
    [
        (True, True, False, "aes256-cbc", "sha256"),
        (True, True, True, "aes128-gcm", "sha256"),
        (True, False, False, "aes256-cbc", "sha1"),
        (True, False, True, "aes256-cbc", "sha384"),
        (False, True, False, "aes192-cbc", "sha512"),
        (False, True, True, "aes256-gcm", "sha256"),
        (False, False, True, "aes256-cbc", "sha256"),
        (False, False, False, "aes256-cbc", "sha256"),
    ],
)
def test_round_trip_with_signed_mdn(
    pki: Pki, sign: bool, encrypt: bool, compress: bool, algorithm: str, mic: str
) -> None:
    send = sender(
        pki, sign=sign, encrypt=encrypt, compress=compress, encryption_algorithm=algorithm, mic_algorithm=mic,
        signed_mdn=True,
    )  # fmt: skip
    recv = receiving(pki, require_signature=sign, require_encryption=encrypt)
    message, inbound, rx = exchange(pki, send, recv)
    assert inbound.ok, inbound.error
    assert inbound.payload == PAYLOAD and inbound.filename == "orders.edi"
    assert (inbound.signed, inbound.encrypted, inbound.compressed) == (sign, encrypt, compress)
    assert inbound.metadata()["security.signed"] == str(sign).lower()
    if encrypt:
        assert inbound.algorithms["encryption"] == algorithm
    mdn = rx.mdn(inbound)
    assert mdn is not None and mdn.signed and mdn.disposition == "processed"
    receipt = check_mdn(message, Headers(mdn.headers), mdn.body, send)
    assert receipt.ok and receipt.signed and receipt.mic == message.mic and receipt.mic.algorithm == mic


def disposition_of(pki: Pki, rx: As2Receiver, inbound: Inbound, send: As2Party) -> str:
    """What the partner reads in our MDN."""
    mdn = rx.mdn(inbound)
    assert mdn is not None
    view = dataclasses.replace(send, signed_mdn=False, certificates=(pki.gateway.certificate,))
    receipt = read_mdn(Headers(mdn.headers), mdn.body, view)
    assert receipt.ok == (inbound.error is None or inbound.duplicate)
    if not receipt.ok:
        assert type(receipt.error()) is type(error_for(receipt.modifier or ""))
    return receipt.disposition.split("; ", 1)[1]


REFUSALS = [
    # name, sender changes, receiver changes, error, disposition
    ("unsigned-but-required", {"sign": False}, {}, SignatureRequiredError, "error: insufficient-message-security"),
    ("clear-but-required", {"encrypt": False}, {}, EncryptionRequiredError, "error: insufficient-message-security"),
    ("wrong-certificate", {"signing": "partner_next"}, {}, CertificateUntrustedError, "error: authentication-failed"),
    ("untrusted-root", {"signing": "foreign"}, {"certificates": ()}, CertificateUntrustedError,
     "error: authentication-failed"),
    ("expired", {"signing": "expired"}, {"certificates": ()}, CertificateExpiredError, "error: authentication-failed"),
    ("not-yet-valid", {"signing": "future"}, {"certificates": ()}, CertificateNotYetValidError,
     "error: authentication-failed"),
    ("not-for-our-key", {"certificates": ("partner",)}, {}, DecryptionError, "error: decryption-failed"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "send_changes", "recv_changes", "error", "disposition"), REFUSALS, ids=[r[0] for r in REFUSALS]
)
def test_refusals_and_their_mdn(
    pki: Pki,
    name: str,
    send_changes: dict[str, object],
    recv_changes: dict[str, object],
    error: type[GatewayError],
    disposition: str,
) -> None:
    entries = {"partner_next": pki.partner_next, "foreign": pki.foreign, "expired": pki.expired, "future": pki.future}
    changes = dict(send_changes)
    if "signing" in changes:
        changes["signing"] = entries[str(changes["signing"])]
    if "certificates" in changes:
        changes["certificates"] = (pki.partner.certificate,)
    send = sender(pki, **changes)
    _message, inbound, rx = exchange(pki, send, receiving(pki, **recv_changes))
    assert isinstance(inbound.error, error) and not inbound.ok and inbound.payload is None
    assert disposition_of(pki, rx, inbound, send) == f"processed/{disposition}"
    assert inbound.error.ack.mdn == disposition


def test_tampered_content_fails_the_integrity_check(pki: Pki) -> None:
    send = sender(pki, encrypt=False)
    message = build_message(PAYLOAD, send)
    body = message.body.replace(b"PO-SEC-1", b"PO-SEC-9")
    rx = receiver(receiving(pki, require_encryption=False))
    inbound = rx.receive(message.headers, body)
    assert isinstance(inbound.error, ContentTamperedError)
    assert disposition_of(pki, rx, inbound, send) == "processed/error: integrity-check-failed"


def test_broken_compression_and_broken_mime(pki: Pki) -> None:
    send = sender(pki, sign=False, encrypt=False, compress=True)
    message = build_message(PAYLOAD, send)
    rx = receiver(receiving(pki, require_signature=False, require_encryption=False))
    inbound = rx.receive(message.headers, message.body[:-30])
    assert isinstance(inbound.error, DecompressionError)
    assert disposition_of(pki, rx, inbound, send) == "processed/error: decompression-failed"
    no_id = {k: v for k, v in message.headers.items() if k != "Message-ID"}
    inbound = rx.receive(no_id, message.body)
    assert isinstance(inbound.error, MimeFormatError)
    assert disposition_of(pki, rx, inbound, send) == "processed/error: unexpected-processing-error"
    signed = build_message(PAYLOAD, sender(pki, encrypt=False))
    inbound = rx.receive(signed.headers, signed.body.replace(b"--", b"~~"))
    assert isinstance(inbound.error, MimeFormatError)


def test_unknown_partner_and_wrong_recipient(pki: Pki) -> None:
    send = sender(pki)
    message = build_message(PAYLOAD, send)
    rx = receiver(receiving(pki, as2_id="SOMEONE-ELSE"))
    inbound = rx.receive(message.headers, message.body)
    assert isinstance(inbound.error, UnknownPartnerError)
    assert disposition_of(pki, rx, inbound, send) == "processed/error: unknown-trading-partner"
    rx = receiver(receiving(pki, our_as2_id="NOT-US"))
    inbound = rx.receive(message.headers, message.body)
    assert isinstance(inbound.error, UnknownRecipientError)
    mdn = rx.mdn(inbound)
    assert (mdn is not None and not mdn.signed) or mdn is not None
    assert disposition_of(pki, rx, inbound, send) == "processed/error: unknown-trading-partner"


def test_duplicate_message_id(pki: Pki) -> None:
    send = sender(pki)
    seen = SeenMessages()
    rx = receiver(receiving(pki), seen)
    message = build_message(PAYLOAD, send)
    first = rx.receive(message.headers, message.body)
    assert first.ok
    seen.remember("PARTNER", first.message_id)
    again = rx.receive(message.headers, message.body)
    assert again.duplicate and not again.ok and isinstance(again.error, DuplicateDocumentError)
    assert disposition_of(pki, rx, again, send) == "processed/warning: duplicate-document"
    mdn = rx.mdn(again)
    assert mdn is not None
    receipt = check_mdn(message, Headers(mdn.headers), mdn.body, send)
    assert receipt.ok and receipt.error() is None  # a warning: the partner need not resend


def test_mdn_checks_on_the_sending_side(pki: Pki) -> None:
    send = sender(pki, signed_mdn=True)
    message, inbound, rx = exchange(pki, send, receiving(pki))
    mdn = rx.mdn(inbound)
    assert mdn is not None
    wrong_mic = dataclasses.replace(message, mic=dataclasses.replace(message.mic, value="AAAA"))
    with pytest.raises(ContentTamperedError, match="MIC"):
        check_mdn(wrong_mic, Headers(mdn.headers), mdn.body, send)
    other = dataclasses.replace(message, message_id="<other@PARTNER>")
    with pytest.raises(UnmatchedAcknowledgmentError):
        check_mdn(other, Headers(mdn.headers), mdn.body, send)
    unsigned_rx = receiver(receiving(pki, signing=None))
    unsigned = unsigned_rx.mdn(unsigned_rx.receive(message.headers, message.body))
    assert unsigned is not None and not unsigned.signed
    with pytest.raises(SignatureRequiredError):
        check_mdn(message, Headers(unsigned.headers), unsigned.body, send)
    forged = mdn.body.replace(b"processed", b"processeD")
    with pytest.raises(SecurityError):
        check_mdn(message, Headers(mdn.headers), forged, send)


def test_dispositions_come_from_the_exception_tree() -> None:
    assert disposition_for(None) == "processed"
    assert disposition_for(DecryptionError("x")) == "processed/error: decryption-failed"
    assert disposition_for(GatewayError("x")) == "processed/error: unexpected-processing-error"
    assert type(error_for("error: decryption-failed")) is DecryptionError
    assert type(error_for("Error: Integrity-Check-Failed")) is ContentTamperedError
    assert type(error_for("error: authentication-failed")) is SecurityError
    assert type(error_for("warning: duplicate-document")) is DuplicateDocumentError
    assert type(error_for("failure: something-new")) is GatewayError
