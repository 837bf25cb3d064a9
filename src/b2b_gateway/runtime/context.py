"""Build the pipeline's dependencies from settings."""

from __future__ import annotations

from b2b_gateway.mapping.registry import default_registry
from b2b_gateway.partners.directory import PartnerDirectory
from b2b_gateway.partners.repository import PartnerRepository
from b2b_gateway.pipeline.context import PipelineContext
from b2b_gateway.settings import Settings

__all__ = ["build_context", "load_repository"]


def load_repository(settings: Settings, *, quiet: bool = False) -> PartnerRepository:
    """The partners, company profile and standard mappings under ``settings.paths.mappings_dir``.

    ``quiet`` leaves problems unlogged (for tools that print them themselves).
    """
    return PartnerRepository.load(settings.paths.mappings_dir, certs_dir=settings.paths.certs_dir, quiet=quiet)


def build_context(
    settings: Settings,
    *,
    partners: PartnerDirectory | None = None,
    repository: PartnerRepository | None = None,
) -> PipelineContext:
    """A pipeline context for ``settings`` with no I/O services (translate, validate, dry runs).

    Partners and their mappings come from ``settings.paths.mappings_dir`` (a :class:`PartnerRepository`
    that reloads changed files; invalid files are logged and left out) unless given.
    """
    repo = repository or load_repository(settings)
    return PipelineContext(
        codecs=default_registry(repo, schemas_dir=settings.paths.installed_schemas),
        partners=partners if partners is not None else repo.directory,
        limits=settings.limits,
        company_id=settings.company_id,
    )
