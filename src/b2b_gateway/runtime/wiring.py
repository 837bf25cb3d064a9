"""What a running gateway plugs into its pipeline: stages, acknowledgments, signatures, our identity.

* :func:`inbound_stages` / :func:`outbound_stages`: the standard stages with the runtime's own —
  CMS unwrapping (when a verifier is wired), the duplicate checks, acknowledgment matching
  (``match_ack``) and conversation tracking (``correlate``) — in their places.
* :func:`complete_context`: the services a context given to the gateway lacks: the acknowledger
  (CONTRL/APERAK with references from the store's counters), the signer (when we have a key) and the
  verifier (when there are certificates, or a partner requires signed or encrypted documents).
* :func:`our_as2_id` and :func:`load_certificates`: our AS2 name (from ``mappings/_self.yaml``) and the
  certificate store (``certs/``).
"""

from __future__ import annotations

from collections.abc import Sequence

from b2b_gateway.errors import KeyStoreError
from b2b_gateway.observability.logging import get_logger
from b2b_gateway.partners.profile import PartnerProfile
from b2b_gateway.pipeline.context import PipelineContext
from b2b_gateway.pipeline.stages import INBOUND, OUTBOUND, Stage
from b2b_gateway.runtime.ack_matching import match_stage
from b2b_gateway.runtime.ack_references import CountedAcknowledger
from b2b_gateway.runtime.conversations import correlate_stage
from b2b_gateway.runtime.dedupe import document_dedupe_stage, with_dedupe
from b2b_gateway.runtime.security import CmsSigner, CmsVerifier, secure_inbound
from b2b_gateway.security.files import load_store
from b2b_gateway.security.store import CertStore
from b2b_gateway.settings import Settings
from b2b_gateway.store.conversations import ConversationStore
from b2b_gateway.store.repository import MessageRepository

__all__ = ["complete_context", "inbound_stages", "load_certificates", "our_as2_id", "outbound_stages"]

log = get_logger("b2b_gateway.gateway")


def _after(stages: Sequence[Stage], name: str, *extra: Stage) -> tuple[Stage, ...]:
    names = [s.name for s in stages]
    at = names.index(name) + 1
    return (*stages[:at], *extra, *stages[at:])


def inbound_stages(
    repo: MessageRepository, conversations: ConversationStore, *, unwrap: bool = False
) -> tuple[Stage, ...]:
    """receive → [unwrap] → identify → verify → dedupe → decode → validate → map → match_ack → correlate →
    dedupe_document → check → sign → store → route → deliver."""
    stages: Sequence[Stage] = secure_inbound(INBOUND) if unwrap else INBOUND
    stages = with_dedupe(stages, repo)
    return _after(
        stages, "map", match_stage(conversations), correlate_stage(conversations), document_dedupe_stage(repo)
    )


def outbound_stages(conversations: ConversationStore) -> tuple[Stage, ...]:
    """receive → identify → decode → validate → map → correlate → check → render → sign → store → route → deliver."""
    return _after(OUTBOUND, "map", correlate_stage(conversations))


def _policies_need_verifier(ctx: PipelineContext) -> bool:
    return any(p.security.require_signature or p.security.require_encryption for p in ctx.partners)


def complete_context(ctx: PipelineContext, settings: Settings, repo: MessageRepository, certs: CertStore) -> None:
    """Fill in the services ``ctx`` lacks (what was given is kept)."""
    if ctx.acknowledger is None:
        ctx.acknowledger = CountedAcknowledger(repo)
    if ctx.signer is None and certs.identities():
        try:
            certs.signing_identity(settings.security.signing_key)
        except KeyStoreError as exc:
            log.warning("security.no_signing_key", detail=exc.message)
        else:
            ctx.signer = CmsSigner.from_settings(settings, certs)
    if ctx.verifier is None and (len(certs) or _policies_need_verifier(ctx)):
        ctx.verifier = CmsVerifier(certs, max_bytes=settings.limits.max_document_bytes)


def load_certificates(settings: Settings) -> CertStore:
    """The certificate store in ``paths.certs_dir`` (empty when the directory does not exist).

    Raises:
        KeyStoreError: an entry cannot be read (a wrong passphrase, a damaged file).
    """
    return load_store(settings.paths.certs_dir, settings.security.passphrase())


def our_as2_id(company: PartnerProfile | None, settings: Settings) -> str:
    """Our AS2 name: the company profile's ``as2`` identifier, else its id, else ``company_id``."""
    if company is not None:
        named = next((i.value for i in company.identifiers if i.kind == "as2"), None)
        return named or company.id
    return settings.company_id
