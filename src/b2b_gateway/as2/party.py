"""What the AS2 core needs to know about one partner, resolved from its profile and the cert store."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from cryptography import x509

from b2b_gateway.errors import KeyStoreError, PartnerConfigError
from b2b_gateway.partners.profile import Channel, PartnerProfile
from b2b_gateway.security.store import CertEntry, CertStore

__all__ = ["As2Party", "as2_channel", "as2_party"]


@dataclass(frozen=True, slots=True)
class As2Party:
    """One AS2 trading relationship: names, policy, their certificates and our keys.

    Attributes:
        partner_id: the partner profile id.
        as2_id: the partner's AS2 name (AS2-From on what it sends, AS2-To on what we send).
        our_as2_id: our AS2 name towards this partner.
        url: where we POST messages to the partner.
        require_signature / require_encryption: what inbound messages must have.
        sign / encrypt / compress: what we do outbound.
        signature_algorithm / encryption_algorithm / mic_algorithm: the algorithms (profile names).
        mdn: the MDN we ask for: ``sync``, ``async`` (to ``mdn_url``) or ``none``.
        signed_mdn: we require the partner's MDNs signed (and ask for it).
        certificates: the partner's certificates (several during a rollover).
        trusted_roots: CA certificates their certificates must chain to.
        intermediates: certificates available to build chains.
        signing: our identity that signs messages and MDNs (``None``: we cannot sign).
        decryption: our identities, tried when decrypting.
    """

    partner_id: str
    as2_id: str
    our_as2_id: str
    url: str | None = None
    require_signature: bool = False
    require_encryption: bool = False
    sign: bool = False
    encrypt: bool = False
    compress: bool = False
    signature_algorithm: str = "rsa-sha256"
    encryption_algorithm: str = "aes256-cbc"
    mic_algorithm: str = "sha256"
    mdn: Literal["sync", "async", "none"] = "sync"
    mdn_url: str | None = None
    signed_mdn: bool = False
    certificates: tuple[x509.Certificate, ...] = ()
    trusted_roots: tuple[x509.Certificate, ...] = ()
    intermediates: tuple[x509.Certificate, ...] = ()
    signing: CertEntry | None = None
    decryption: tuple[CertEntry, ...] = field(default_factory=tuple)

    def encryption_certificate(self, at: dt.datetime | None = None) -> x509.Certificate:
        """The partner certificate to encrypt for: the newest one valid now (rollover).

        Raises:
            KeyStoreError: none of the partner's certificates is valid.
        """
        moment = at or dt.datetime.now(dt.UTC)
        valid = [c for c in self.certificates if c.not_valid_before_utc <= moment <= c.not_valid_after_utc]
        if not valid:
            raise KeyStoreError(f"no valid certificate of partner {self.partner_id} to encrypt for")
        return max(valid, key=lambda c: c.not_valid_before_utc)


def as2_channel(profile: PartnerProfile, name: str | None = None) -> Channel | None:
    """The partner's AS2 channel: the one called ``name``, else its first ``as2`` channel."""
    if name:
        chosen = profile.channel(name)
        return chosen if chosen is not None and chosen.kind == "as2" else None
    return next((c for c in profile.channels if c.kind == "as2"), None)


def as2_party(
    profile: PartnerProfile,
    store: CertStore,
    *,
    our_as2_id: str,
    channel: Channel | None = None,
    default_signing_key: str | None = None,
) -> As2Party:
    """Resolve ``profile`` (and its AS2 channel) against ``store``.

    Args:
        profile: the partner profile.
        store: our keys and the partners' certificates.
        our_as2_id: our AS2 name when the channel does not set ``our_as2_id``.
        channel: the channel to use (default: the profile's first ``as2`` channel).
        default_signing_key: our key that signs when the profile names none.

    Raises:
        PartnerConfigError: a certificate or signing key named in the profile (or ``default_signing_key``)
            is missing.
    """
    chan = channel or as2_channel(profile) or Channel(kind="as2")
    policy = profile.security
    as2_names = [i.value for i in profile.identifiers if i.kind == "as2"]
    try:
        certificates = tuple(store.certificates(policy.certificates))
        roots = tuple(store.anchors(policy.trusted_roots))
        chosen = policy.signing_key or default_signing_key
        signing: CertEntry | None = None
        try:
            signing = store.signing_identity(chosen)
        except KeyStoreError:
            if chosen:  # a named key that is missing is a configuration error; no key at all only
                raise  # stops signing, which build_message reports when it is asked to sign
    except KeyStoreError as exc:
        raise PartnerConfigError(f"partner {profile.id}: {exc.message}", hint=exc.hint) from None
    return As2Party(
        partner_id=profile.id,
        as2_id=chan.as2_id or (as2_names[0] if as2_names else profile.id),
        our_as2_id=chan.our_as2_id or our_as2_id,
        url=chan.url,
        require_signature=policy.require_signature,
        require_encryption=policy.require_encryption,
        sign=policy.sign_outbound,
        encrypt=policy.encrypt_outbound,
        compress=chan.compress,
        signature_algorithm=policy.signature_algorithm,
        encryption_algorithm=policy.encryption_algorithm,
        mic_algorithm=policy.mic_algorithm,
        mdn=chan.mdn,
        mdn_url=chan.mdn_url,
        signed_mdn=chan.signed_mdn,
        certificates=certificates,
        trusted_roots=roots,
        intermediates=tuple(store.all_certificates()),
        signing=signing,
        decryption=tuple(store.identities()),
    )
