"""Everything a pipeline run needs, passed in as one value (no globals)."""

from __future__ import annotations

from dataclasses import dataclass, field

from b2b_gateway.mapping.codec import CodecOptions
from b2b_gateway.mapping.registry import CodecRegistry, default_registry
from b2b_gateway.partners.directory import PartnerDirectory
from b2b_gateway.partners.profile import PartnerProfile
from b2b_gateway.pipeline.ports import (
    Acknowledger,
    Deliverer,
    EventObserver,
    MessageStore,
    Router,
    Signer,
    Verifier,
)
from b2b_gateway.settings import LimitSettings

__all__ = ["PipelineContext"]


@dataclass(slots=True)
class PipelineContext:
    """The pipeline's dependencies. Only ``codecs`` is required; absent services skip their stage."""

    codecs: CodecRegistry = field(default_factory=default_registry)
    partners: PartnerDirectory = field(default_factory=PartnerDirectory)
    limits: LimitSettings = field(default_factory=LimitSettings)
    company_id: str = "GATEWAY"
    require_known_partner: bool = False
    signer: Signer | None = None
    verifier: Verifier | None = None
    store: MessageStore | None = None
    router: Router | None = None
    deliverer: Deliverer | None = None
    acknowledger: Acknowledger | None = None
    observers: list[EventObserver] = field(default_factory=list)

    def partner(self, partner_id: str | None) -> PartnerProfile | None:
        return self.partners.get(partner_id) if partner_id else None

    def options(self, partner_id: str | None) -> CodecOptions:
        return CodecOptions(partner=self.partner(partner_id), limits=self.limits)
