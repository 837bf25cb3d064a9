"""Build the pipeline's dependencies from settings."""

from __future__ import annotations

from b2b_gateway.mapping.registry import default_registry
from b2b_gateway.partners.directory import PartnerDirectory
from b2b_gateway.pipeline.context import PipelineContext
from b2b_gateway.settings import Settings

__all__ = ["build_context"]


def build_context(settings: Settings, *, partners: PartnerDirectory | None = None) -> PipelineContext:
    """A pipeline context for ``settings`` with no I/O services (translate, validate, dry runs)."""
    return PipelineContext(
        codecs=default_registry(schemas_dir=settings.paths.installed_schemas),
        partners=partners if partners is not None else PartnerDirectory(),
        limits=settings.limits,
        company_id=settings.company_id,
    )
