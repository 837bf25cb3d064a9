"""MDNs (RFC 4130 §7, RFC 3798): what the receiver asks for, the receipt built, the receipt read back.

Dispositions come straight from the exception tree: an error's ``ack.mdn`` is the disposition
modifier (``processed/error: decryption-failed``), and :func:`error_for` maps a modifier back to the
most general error class that carries it.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import os
import re
from dataclasses import dataclass, field
from typing import Literal

from b2b_gateway import errors
from b2b_gateway.as2.mime import Entity, Headers, boundary, join_multipart, split_multipart
from b2b_gateway.as2.party import As2Party
from b2b_gateway.as2.smime import sign, unwrap
from b2b_gateway.errors import GatewayError, MimeFormatError, SignatureRequiredError
from b2b_gateway.security.algorithms import ACCEPTED_DIGESTS, digest, normalize_digest

__all__ = [
    "AS2_VERSION",
    "Mdn",
    "MdnReceipt",
    "MdnRequest",
    "Mic",
    "build_mdn",
    "disposition_for",
    "error_for",
    "new_message_id",
    "read_mdn",
]

AS2_VERSION = "1.2"
_MODE = "automatic-action/MDN-sent-automatically"


def new_message_id(domain: str) -> str:
    """A fresh RFC 5322 Message-ID, ``<hex@domain>``."""
    safe = re.sub(r"[^A-Za-z0-9.-]", "_", domain) or "b2b-gateway"
    return f"<{os.urandom(16).hex()}@{safe}>"


@dataclass(frozen=True, slots=True)
class Mic:
    """A Message Integrity Check: base64 digest and the algorithm (``sha256``)."""

    value: str
    algorithm: str

    @classmethod
    def of(cls, data: bytes, algorithm: str) -> Mic:
        return cls(base64.b64encode(digest(data, algorithm)).decode("ascii"), normalize_digest(algorithm))

    def header(self) -> str:
        name = self.algorithm if self.algorithm == "sha1" else f"sha-{self.algorithm[3:]}"
        return f"{self.value}, {name}"

    @classmethod
    def parse(cls, text: str) -> Mic | None:
        value, _, alg = text.partition(",")
        return cls(value.strip(), normalize_digest(alg or "sha1")) if value.strip() else None


@dataclass(frozen=True, slots=True)
class MdnRequest:
    """What the sender asked for in Disposition-Notification-To/-Options and Receipt-Delivery-Option."""

    to: str
    signed: Literal["required", "optional"] | None = None
    micalgs: tuple[str, ...] = ()
    async_url: str | None = None

    @classmethod
    def from_headers(cls, headers: Headers) -> MdnRequest | None:
        to = headers.get("Disposition-Notification-To").strip()
        if not to:
            return None
        options = headers.get("Disposition-Notification-Options")
        signed: Literal["required", "optional"] | None = None
        proto = re.search(r"signed-receipt-protocol\s*=\s*(required|optional)\s*,\s*pkcs7-signature", options, re.I)
        if proto:
            signed = "required" if proto.group(1).lower() == "required" else "optional"
        micalgs: tuple[str, ...] = ()
        found = re.search(r"signed-receipt-micalg\s*=\s*(?:required|optional)\s*,\s*([^;]+)", options, re.I)
        if found:
            micalgs = tuple(normalize_digest(a) for a in found.group(1).split(",") if a.strip())
        url = headers.get("Receipt-Delivery-Option").strip() or None
        return cls(to=to, signed=signed, micalgs=micalgs, async_url=url)

    def mic_algorithm(self, fallback: str = "sha256") -> str:
        """The first requested MIC algorithm the gateway computes, else ``fallback``."""
        return next((a for a in self.micalgs if a in ACCEPTED_DIGESTS), normalize_digest(fallback))


def disposition_for(error: GatewayError | None) -> str:
    """The disposition type and modifier for an outcome: ``processed`` or ``processed/error: …``."""
    if error is None or error.ack.mdn is None:
        return "processed"
    return f"processed/{error.ack.mdn}"


_TREE = errors.__name__ + "."  # the tree's own classes (the package's modules), not subclasses elsewhere


def _classes() -> list[type[GatewayError]]:
    out: list[type[GatewayError]] = []
    level: list[type[GatewayError]] = [GatewayError]
    while level:
        out.extend(level)
        level = [sub for cls in level for sub in cls.__subclasses__() if sub.__module__.startswith(_TREE)]
    return out


def error_for(modifier: str, text: str = "") -> GatewayError:
    """The error a partner's negative disposition modifier stands for (the most general class with it)."""
    wanted = modifier.strip().lower()
    cls = next((c for c in _classes() if c.ack.mdn and c.ack.mdn.lower() == wanted), GatewayError)
    return cls(f"the partner's MDN says {modifier}" + (f": {text}" if text else ""))


@dataclass(frozen=True, slots=True)
class Mdn:
    """An MDN we send: HTTP headers (with its Content-Type) and body."""

    message_id: str
    disposition: str
    headers: dict[str, str]
    body: bytes
    async_url: str | None = None
    signed: bool = False


def build_mdn(
    *,
    original_message_id: str,
    as2_from: str,
    as2_to: str,
    error: GatewayError | None,
    mic: Mic | None,
    request: MdnRequest,
    party: As2Party | None,
    reporting_ua: str = "b2b-gateway",
    now: dt.datetime | None = None,
) -> Mdn:
    """The receipt for a message: multipart/report, signed when asked and we can.

    Args:
        original_message_id: the received message's Message-ID.
        as2_from: our AS2 name (the MDN's AS2-From).
        as2_to: the sender's AS2 name.
        error: what went wrong (``None``: processed).
        mic: the MIC of what arrived (``None`` when it could not be computed).
        request: the sender's MDN request.
        party: the partner (``None`` when unknown: the MDN cannot be signed).
        reporting_ua: our Reporting-UA.
        now: the Date header (default now).
    """
    disposition = disposition_for(error)
    text = (
        f"The AS2 message {original_message_id} from {as2_to} was received and processed."
        if error is None or disposition == "processed"
        else f"The AS2 message {original_message_id} from {as2_to} was received but could not be processed: "
        f"[{error.code}] {error.message}"
    )
    fields = [
        f"Reporting-UA: {reporting_ua}",
        f"Original-Recipient: rfc822; {as2_from}",
        f"Final-Recipient: rfc822; {as2_from}",
        f"Original-Message-ID: {original_message_id}",
    ]
    if mic is not None:
        fields.append(f"Received-Content-MIC: {mic.header()}")
    fields.append(f"Disposition: {_MODE}; {disposition}")
    human = Entity(
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Transfer-Encoding", "8bit")],
        text.encode("utf-8") + b"\r\n",
    )
    machine = Entity(
        [("Content-Type", "message/disposition-notification"), ("Content-Transfer-Encoding", "7bit")],
        "\r\n".join(fields).encode("utf-8") + b"\r\n",
    )
    mark = boundary()
    report = Entity(
        [("Content-Type", f'multipart/report; report-type=disposition-notification; boundary="{mark}"')],
        join_multipart([human.to_bytes(), machine.to_bytes()], mark),
    )
    signed = bool(request.signed and party is not None and party.signing is not None)
    outer = sign(report, party) if signed and party is not None else report
    message_id = new_message_id(as2_from)
    headers = {
        "AS2-Version": AS2_VERSION,
        "AS2-From": _quote(as2_from),
        "AS2-To": _quote(as2_to),
        "Message-ID": message_id,
        "Date": email.utils.format_datetime(now or dt.datetime.now(dt.UTC)),
        "MIME-Version": "1.0",
        "Subject": f"Receipt for {original_message_id}",
        **dict(outer.headers),
    }
    return Mdn(message_id, disposition, headers, outer.body, request.async_url, signed)


def _quote(name: str) -> str:
    return f'"{name}"' if " " in name else name


@dataclass(frozen=True, slots=True)
class MdnReceipt:
    """An MDN we received, read and (when signed) verified."""

    original_message_id: str
    disposition: str
    mic: Mic | None
    text: str
    signed: bool
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def disposition_type(self) -> str:
        """``processed`` or ``failed``."""
        return self.disposition.split(";")[-1].strip().split("/")[0].strip().lower()

    @property
    def modifier(self) -> str | None:
        """``error: decryption-failed``, ``warning: duplicate-document`` … or ``None``."""
        tail = self.disposition.split(";")[-1]
        return tail.split("/", 1)[1].strip() if "/" in tail else None

    @property
    def ok(self) -> bool:
        """Processed without an error (a warning such as a duplicate still counts as received)."""
        mod = (self.modifier or "").lower()
        return self.disposition_type == "processed" and not mod.startswith(("error", "failure"))

    def error(self) -> GatewayError | None:
        """The error the partner reported, ``None`` when the message was processed."""
        if self.ok:
            return None
        return error_for(self.modifier or "error: unexpected-processing-error", self.text.strip()[:500])


def _report_fields(report: Entity) -> tuple[dict[str, str], str]:
    mark = report.params.get("boundary")
    if report.media_type != "multipart/report" or not mark:
        raise MimeFormatError(f"an MDN must be multipart/report, not {report.media_type}")
    fields: dict[str, str] = {}
    text = ""
    for raw in split_multipart(report.body, mark):
        part = Entity.parse(raw)
        if part.media_type == "message/disposition-notification":
            for line in part.content().decode("utf-8", "replace").splitlines():
                if ":" in line:
                    name, value = line.split(":", 1)
                    fields[name.strip().lower()] = value.strip()
        elif part.media_type.startswith("text/"):
            text = part.content().decode("utf-8", "replace")
    if "disposition" not in fields:
        raise MimeFormatError("the MDN has no Disposition field")
    return fields, text


def read_mdn(headers: Headers, body: bytes, party: As2Party) -> MdnReceipt:
    """Read an MDN (HTTP headers and body), verifying its signature with the partner's certificates.

    Raises:
        SignatureRequiredError: we asked for a signed MDN and got an unsigned one.
        SecurityError: the MDN's signature does not verify or its certificate is not trusted.
        MimeFormatError: not an MDN.
    """
    entity = Entity([("Content-Type", headers.get("Content-Type"))], body)
    layer = unwrap(entity, party) if entity.media_type == "multipart/signed" else None
    report = layer.inner if layer is not None else entity
    if party.signed_mdn and layer is None:
        raise SignatureRequiredError(f"partner {party.partner_id} sent an unsigned MDN but a signed one is required")
    fields, text = _report_fields(report)
    mic_text = fields.get("received-content-mic", "")
    return MdnReceipt(
        original_message_id=fields.get("original-message-id", ""),
        disposition=fields["disposition"],
        mic=Mic.parse(mic_text) if mic_text else None,
        text=text,
        signed=layer is not None,
        fields=fields,
    )
