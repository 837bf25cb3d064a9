"""Everything a pipeline run needs, passed in as one value (no globals)."""

from __future__ import annotations

from dataclasses import dataclass, field

from b2b_gateway.mapping.codec import CodecOptions
from b2b_gateway.mapping.registry import CodecRegistry, default_registry
from b2b_gateway.partners.directory import PartnerDirectory
from b2b_gateway.partners.profile import PartnerProfile
from b2b_gateway.pipeline.ports import (
    Acknowledger,
    ControlNumbers,
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
    counters: ControlNumbers | None = None
    observers: list[EventObserver] = field(default_factory=list)
    _local: dict[str, int] = field(default_factory=dict)

    def partner(self, partner_id: str | None) -> PartnerProfile | None:
        return self.partners.get(partner_id) if partner_id else None

    def options(self, partner_id: str | None, references: dict[str, str] | None = None) -> CodecOptions:
        return CodecOptions(partner=self.partner(partner_id), limits=self.limits, references=dict(references or {}))

    async def references(self, codec_name: str, counters: tuple[str, ...], partner_id: str | None) -> dict[str, str]:
        """Allocate the control references a render needs; a process-local sequence when no store is wired."""
        out: dict[str, str] = {}
        for name in counters:
            key = f"{partner_id or '-'}:{codec_name}:{name}"
            if self.counters is not None:
                value = await self.counters.next(key)
            else:
                value = self._local.get(key, 0) + 1
                self._local[key] = value
            out[name] = str(value)
        return out
