"""Security wired into the pipeline and AS2: the Signer and Verifier ports, AS2 partner lookup.

* :class:`CmsSigner` signs what the gateway stores and sends (detached CMS, or JWS when the partner's
  profile asks for it), with the partner's chosen key and algorithm.
* :class:`CmsVerifier` unwraps CMS-protected input (enveloped, compressed, signed-with-content; the
  :func:`unwrap_stage` does it before ``identify``, see :func:`secure_inbound`),
  checks a detached signature carried in the message metadata (``signature``: base64 CMS, ``jws``:
  a detached JWS), and applies the partner's policy (required signature or encryption), taking into
  account what the transport already checked (``security.signed``/``security.encrypted`` = ``true``).
* :func:`as2_lookup` finds the AS2 partner from AS2-From; :func:`pipeline_handler` feeds accepted AS2
  payloads to the pipeline.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from asn1crypto import cms

from b2b_gateway.as2.inbound import Inbound, PartyLookup
from b2b_gateway.as2.party import As2Party, as2_channel, as2_party
from b2b_gateway.errors import (
    EncryptionRequiredError,
    SecurityError,
    SignatureInvalidError,
    SignatureRequiredError,
)
from b2b_gateway.observability.logging import get_logger
from b2b_gateway.partners.directory import PartnerDirectory
from b2b_gateway.partners.profile import PartnerProfile, SecurityPolicy
from b2b_gateway.pipeline.context import PipelineContext
from b2b_gateway.pipeline.message import Message, State
from b2b_gateway.pipeline.runner import Pipeline
from b2b_gateway.pipeline.stages import INBOUND, Stage
from b2b_gateway.security.algorithms import default_signature_algorithm
from b2b_gateway.security.check import CertFinding, check_store
from b2b_gateway.security.compression import decompress_cms
from b2b_gateway.security.envelope import decrypt_cms
from b2b_gateway.security.jws import sign_jws, verify_jws
from b2b_gateway.security.signature import sign_cms, verify_cms
from b2b_gateway.security.store import CertStore
from b2b_gateway.settings import Settings

__all__ = [
    "CmsSigner",
    "CmsVerifier",
    "as2_lookup",
    "inbound_message",
    "pipeline_handler",
    "report_certificates",
    "secure_inbound",
    "unwrap_stage",
]

log = get_logger("b2b_gateway.security")

_WRAPPED = frozenset({"enveloped_data", "authenticated_enveloped_data", "compressed_data", "signed_data"})


@dataclass(slots=True)
class CmsSigner:
    """The :class:`~b2b_gateway.pipeline.ports.Signer`: detached CMS (or JWS) with our chosen key."""

    store: CertStore
    default_key: str | None = None

    def sign(self, data: bytes, *, partner: PartnerProfile | None) -> bytes:
        """Sign ``data`` for ``partner`` (its signing key and algorithm), or with our defaults.

        Raises:
            KeyStoreError: no key to sign with.
            UnsupportedAlgorithmError: the partner's algorithm does not fit the key.
        """
        policy = partner.security if partner is not None else None
        identity = self.store.signing_identity((policy.signing_key if policy else None) or self.default_key)
        algorithm = (
            policy.signature_algorithm
            if policy is not None and "signature_algorithm" in policy.model_fields_set
            else default_signature_algorithm(identity.key)
        )
        if policy is not None and policy.jws:
            return sign_jws(data, identity, algorithm).encode("ascii")
        return sign_cms(data, identity, algorithm)

    @classmethod
    def from_settings(cls, settings: Settings, store: CertStore) -> CmsSigner:
        return cls(store, settings.security.signing_key)


def _content_info(raw: bytes) -> cms.ContentInfo | None:
    if raw[:1] != b"\x30":
        return None
    try:
        info = cms.ContentInfo.load(raw)
        kind = info["content_type"].native
        info["content"].native  # noqa: B018  # parse fully: a text file starting with "0" is not CMS
    except (ValueError, TypeError, KeyError):
        return None
    return info if kind in _WRAPPED else None


@dataclass(slots=True)
class CmsVerifier:
    """The :class:`~b2b_gateway.pipeline.ports.Verifier`: unwrap, verify, apply the partner's policy."""

    store: CertStore
    max_bytes: int | None = None

    def unwrap(self, message: Message) -> list[str]:
        """Take CMS protection off ``message.raw`` in place: decrypt, decompress, and lift the content out
        of a signed-data (its signature is kept in ``metadata["signature"]`` for :meth:`verify`).

        Returns:
            The layers taken off, outermost first.

        Raises:
            DecryptionError, DecompressionError, UnsupportedAlgorithmError: a layer cannot be taken off.
        """
        layers: list[str] = []
        for _ in range(6):
            info = _content_info(message.raw)
            if info is None:
                break
            kind = info["content_type"].native
            if kind in ("enveloped_data", "authenticated_enveloped_data"):
                decrypted = decrypt_cms(message.raw, self.store.identities())
                message.raw = decrypted.content
                message.metadata["security.encrypted"] = "true"
                layers.append(f"encrypted ({decrypted.algorithm})")
            elif kind == "compressed_data":
                message.raw = decompress_cms(message.raw, max_bytes=self.max_bytes)
                layers.append("compressed")
            else:
                content = info["content"]["encap_content_info"]["content"].native
                if not isinstance(content, bytes):
                    break  # a detached signature on its own: nothing to lift out
                message.metadata["signature"] = base64.b64encode(message.raw).decode("ascii")
                message.raw = content
                layers.append("signed")
        return layers

    def verify(self, message: Message, *, partner: PartnerProfile | None) -> None:
        """Check ``message`` against ``partner``'s policy, unwrapping CMS content in place.

        Raises:
            SecurityError: the leaf for what failed (the runner quarantines the message).
        """
        policy = partner.security if partner is not None else SecurityPolicy()
        meta = message.metadata
        self.unwrap(message)  # content that came in CMS-protected without the unwrap stage
        signed = meta.get("security.signed") == "true"
        encrypted = meta.get("security.encrypted") == "true"
        certs = self.store.certificates(policy.certificates)
        roots = self.store.anchors(policy.trusted_roots)
        if meta.get("signature"):
            try:
                detached = base64.b64decode(meta["signature"], validate=True)
            except (binascii.Error, ValueError):
                raise SignatureInvalidError("the detached signature in the metadata is not base64") from None
            check = verify_cms(
                detached,
                message.raw,
                certificates=certs,
                trusted_roots=roots,
                intermediates=self.store.all_certificates(),
            )
            meta["security.signer"] = check.fingerprint
            signed = True
        if meta.get("jws"):
            verify_jws(message.raw, meta["jws"], certificates=certs, trusted_roots=roots)
            signed = True
        if policy.require_encryption and not encrypted:
            raise EncryptionRequiredError(f"partner {partner.id if partner else '?'} must encrypt; this came in clear")
        if policy.require_signature and not signed:
            raise SignatureRequiredError(f"partner {partner.id if partner else '?'} must sign; this is unsigned")
        meta["security.signed"] = str(signed).lower()
        meta["security.encrypted"] = str(encrypted).lower()


def unwrap_stage(message: Message, ctx: PipelineContext) -> None:
    """A pipeline stage before ``identify``: CMS-protected input (a ``.p7m`` dropped in a directory, a
    signed-data posted over HTTP) is decrypted, decompressed and lifted out of its signature, so the
    format can be recognised; ``verify`` then checks the signature against the partner's policy."""
    if not isinstance(ctx.verifier, CmsVerifier):
        message.record("unwrap", "info", "no CMS verifier configured")
        return
    layers = ctx.verifier.unwrap(message)
    message.record("unwrap", "ok" if layers else "info", ", ".join(layers) or "not CMS-protected", layers=layers)


def secure_inbound(stages: Sequence[Stage] = INBOUND) -> tuple[Stage, ...]:
    """The inbound stages with :func:`unwrap_stage` right after ``receive``.

    Example: ``Pipeline(ctx, inbound=secure_inbound())``.
    """
    out: list[Stage] = []
    for stage in stages:
        out.append(stage)
        if stage.name == "receive":
            out.append(Stage("unwrap", unwrap_stage))
    return tuple(out)


def report_certificates(store: CertStore, settings: Settings) -> list[CertFinding]:
    """Check the store at startup (and on a timer): log a warning per certificate that is expiring,
    expired, not yet valid or has a broken chain. The expiry gauge comes from
    :func:`~b2b_gateway.security.check.expiry_timestamps`."""
    findings = check_store(store, warning_days=settings.security.cert_warning_days)
    for finding in findings:
        if finding.severity != "ok":
            log.warning(
                "cert." + finding.status,
                certificate=finding.name,
                detail=finding.detail,
                days_left=finding.days_left,
                not_after=finding.not_after.isoformat(),
            )
    return findings


def as2_lookup(
    directory: PartnerDirectory, store: CertStore, *, our_as2_id: str, default_signing_key: str | None = None
) -> PartyLookup:
    """A :data:`~b2b_gateway.as2.inbound.PartyLookup` over the partner directory: AS2-From is matched
    against each partner's AS2 channel ``as2_id`` and its ``as2`` identifiers."""

    def lookup(as2_from: str, _as2_to: str) -> As2Party | None:
        for profile in directory:
            channel = as2_channel(profile)
            names = {i.value for i in profile.identifiers if i.kind == "as2"}
            if channel is not None and channel.as2_id:
                names.add(channel.as2_id)
            if as2_from in names:
                return as2_party(
                    profile, store, our_as2_id=our_as2_id, channel=channel, default_signing_key=default_signing_key
                )
        return None

    return lookup


def inbound_message(inbound: Inbound) -> Message:
    """A pipeline message for an accepted AS2 payload (what the transport checked rides in the metadata)."""
    assert inbound.payload is not None
    return Message(
        raw=inbound.payload,
        channel="as2",
        partner_id=inbound.party.partner_id if inbound.party else None,
        metadata=inbound.metadata(),
    )


def pipeline_handler(pipeline: Pipeline) -> Callable[[Inbound], Awaitable[None]]:
    """An AS2 payload handler that runs the pipeline. A security refusal in the pipeline becomes the
    MDN's disposition; document errors are acknowledged at the EDI level (CONTRL/APERAK) instead, and a
    TransientError propagates (the endpoint answers 503, the partner sends again)."""

    async def handle(inbound: Inbound) -> None:
        message = await pipeline.run(inbound_message(inbound))
        if message.state is State.QUARANTINED and message.errors and isinstance(message.errors[0], SecurityError):
            raise message.errors[0]

    return handle
