"""All partners of a gateway, reloaded when their files change.

:class:`PartnerRepository` loads the mappings directory, serves the partner directory and the mapping
catalog to the pipeline, and, at most every ``reload_interval_s`` when asked, looks for changed files.
A partner whose files changed is loaded again; if the new files are invalid the partner keeps its
previous version, and the errors say why (they are logged and kept in :attr:`problems`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from b2b_gateway.errors import GatewayError
from b2b_gateway.mapping.catalog import MappingCatalog
from b2b_gateway.mapping.plan import CompiledMapping
from b2b_gateway.mapping.transforms import MappingFunction
from b2b_gateway.observability.logging import get_logger
from b2b_gateway.partners.directory import PartnerDirectory
from b2b_gateway.partners.loader import (
    COMPANY_FILE,
    PROFILE_FILE,
    STANDARD_DIR,
    PartnerBundle,
    files_signature,
    load_partner,
    load_profile,
    load_standards,
)
from b2b_gateway.partners.profile import PartnerProfile

__all__ = ["LivePartnerDirectory", "PartnerRepository", "ReloadReport"]

_LOGGER = get_logger("b2b_gateway.partners")


class _Quiet:
    def __getattr__(self, name: str) -> object:
        return lambda *args, **kwargs: None


@dataclass(slots=True)
class ReloadReport:
    """What a (re)load did: partners loaded, kept at their previous version, removed; and every problem."""

    loaded: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    errors: list[GatewayError] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.loaded or self.removed)


class LivePartnerDirectory(PartnerDirectory):
    """A partner directory that always shows the repository's current partners (checking for changes)."""

    def __init__(self, repository: PartnerRepository) -> None:
        super().__init__()
        self._repository = repository

    def _current(self) -> dict[str, PartnerProfile]:
        self._repository.maybe_refresh()
        return {pid: b.profile for pid, b in self._repository.bundles.items()}

    def __iter__(self) -> Iterator[PartnerProfile]:
        return iter(list(self._current().values()))

    def __len__(self) -> int:
        return len(self._current())

    def get(self, partner_id: str) -> PartnerProfile | None:
        self._repository.maybe_refresh()
        bundle = self._repository.bundles.get(partner_id)  # not the whole map: the pipeline asks many times
        return bundle.profile if bundle is not None else None

    def find(self, value: str, qualifier: str | None = None, kind: str | None = None) -> PartnerProfile | None:
        current = self._current()
        direct = current.get(value)
        if direct is not None:
            return direct
        return next((p for p in current.values() if p.matches(value, qualifier, kind)), None)


class PartnerRepository:
    """The partners under ``root`` (one directory each), the company profile and the standard mappings."""

    def __init__(
        self,
        root: Path,
        *,
        certs_dir: Path | None = None,
        functions: Mapping[str, MappingFunction] | None = None,
        reload_interval_s: float = 2.0,
        quiet: bool = False,
    ) -> None:
        self.root = root
        self.quiet = quiet
        self.certs_dir = certs_dir
        self.functions = functions
        self.reload_interval_s = reload_interval_s
        self.bundles: dict[str, PartnerBundle] = {}
        self.company: PartnerProfile | None = None
        self.standards: dict[tuple[str, str], CompiledMapping] = {}
        self.problems: dict[str, list[GatewayError]] = {}
        """Current problems by partner id (``_self``, ``_standard`` for the others)."""
        self._catalog = MappingCatalog()
        self._signatures: dict[str, tuple[tuple[str, int, int], ...]] = {}
        self._checked = 0.0
        self._lock = threading.RLock()
        self.directory = LivePartnerDirectory(self)

    @classmethod
    def load(cls, root: Path, **kwargs: object) -> PartnerRepository:
        """A repository with everything under ``root`` loaded (what is invalid is left out and logged)."""
        repo = cls(root, **kwargs)  # type: ignore[arg-type]
        repo.refresh(force=True)
        return repo

    @property
    def _log(self) -> Any:
        return _Quiet() if self.quiet else _LOGGER

    # -- the mapping source ------------------------------------------------------------------------

    def catalog(self) -> MappingCatalog:
        """The mappings in force now (what the codecs use)."""
        self.maybe_refresh()
        return self._catalog

    @property
    def errors(self) -> list[GatewayError]:
        return [e for problems in self.problems.values() for e in problems]

    # -- loading -----------------------------------------------------------------------------------

    def partner_dirs(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))

    def maybe_refresh(self) -> None:
        """Refresh when the reload interval has passed since the last look (cheap: file stats only)."""
        now = time.monotonic()
        if now - self._checked >= self.reload_interval_s:
            self.refresh()

    def refresh(self, *, force: bool = False) -> ReloadReport:
        """Load what changed since the last look. A partner whose new files are invalid keeps its old version."""
        with self._lock:
            self._checked = time.monotonic()
            report = ReloadReport()
            self._refresh_shared(report, force)
            seen = set()
            for directory in self.partner_dirs():
                pid = directory.name
                seen.add(pid)
                signature = files_signature(directory)
                if not force and self._signatures.get(pid) == signature:
                    continue
                self._signatures[pid] = signature
                if (directory / PROFILE_FILE).is_file() or pid in self.bundles:
                    self._reload_partner(pid, directory, report)
            for pid in [p for p in self.bundles if p not in seen]:
                del self.bundles[pid]
                self.problems.pop(pid, None)
                report.removed.append(pid)
                self._log.info("partner.removed", partner=pid)
            if report.changed or force:
                self._catalog = MappingCatalog(
                    {pid: b.mappings for pid, b in self.bundles.items()}, dict(self.standards)
                )
            return report

    def _reload_partner(self, pid: str, directory: Path, report: ReloadReport) -> None:
        bundle, errors = load_partner(directory, certs_dir=self.certs_dir, root=self.root, functions=self.functions)
        report.errors.extend(errors)
        self.problems[pid] = errors
        if bundle is not None:
            self.bundles[pid] = bundle
            report.loaded.append(pid)
            for warning in errors:
                self._log.warning("partner.warning", partner=pid, problem=str(warning))
            self._log.info("partner.loaded", partner=pid, mappings=len(bundle.mappings.mappings))
            return
        first = next((e for e in errors if e.severity == "error"), None)
        if pid in self.bundles:
            report.kept.append(pid)
            self._log.error(
                "partner.reload_failed", partner=pid, kept="previous version", errors=len(errors), first=str(first)
            )
        else:
            self._log.error("partner.invalid", partner=pid, errors=len(errors), first=str(first))

    def _refresh_shared(self, report: ReloadReport, force: bool) -> None:
        company = self.root / COMPANY_FILE
        sig = files_signature(self.root / STANDARD_DIR) if (self.root / STANDARD_DIR).is_dir() else ()
        if company.is_file():
            stat = company.stat()
            sig = (*sig, (COMPANY_FILE, stat.st_mtime_ns, stat.st_size))
        if not force and self._signatures.get("_shared") == sig:
            return
        self._signatures["_shared"] = sig
        if company.is_file():
            profile, _, errors = load_profile(company, shown=str(company))
            self.problems["_self"] = errors
            report.errors.extend(errors)
            if profile is not None:
                self.company = profile
        standards, errors = load_standards(self.root, functions=self.functions)
        self.problems["_standard"] = errors
        report.errors.extend(errors)
        if not errors:
            self.standards = standards
            report.loaded.append(STANDARD_DIR)
        elif self.standards:
            report.kept.append(STANDARD_DIR)
        for error in errors:
            self._log.error("mapping.invalid", problem=str(error))
