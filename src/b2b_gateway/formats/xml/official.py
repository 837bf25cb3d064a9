"""The official schemas and rules: install them (verified by checksum) and find them once installed.

They are not on PyPI. ``b2b-gateway schemas install [--from PATH_OR_ZIP]`` copies them from the official
release archive (or a local copy of it) into the data directory, checking every file against the
committed manifest (``official_manifest.json``, per-file SHA-256, made by
``scripts/generate_official_manifest.py``). The layout under the data directory mirrors the manifest::

    <schemas>/ubl-2.1/xsd/maindoc/UBL-Invoice-2.1.xsd …
    <schemas>/cii-d16b/CII/uncefact/data/standard/CrossIndustryInvoice_100pD16B.xsd …
    <schemas>/en16931/EN16931-UBL-validation.xslt, EN16931-CII-validation.xslt

This module reads and writes files (the edge of the XML layer); it never touches the network.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from b2b_gateway.errors import Location, OfficialSchemaError

__all__ = [
    "GROUPS",
    "GroupStatus",
    "InstallReport",
    "Manifest",
    "install_official",
    "installed_status",
    "load_manifest",
]

GROUPS = ("ubl-2.1", "cii-d16b", "en16931")
State = Literal["installed", "missing", "incomplete", "corrupt"]


@dataclass(frozen=True, slots=True)
class Manifest:
    """The committed list of official files, per group, with their SHA-256."""

    groups: dict[str, dict[str, str]]
    titles: dict[str, str]
    archives: dict[str, str]


@cache
def load_manifest() -> Manifest:
    """The manifest shipped inside the package."""
    text = resources.files("b2b_gateway.formats.xml").joinpath("official_manifest.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    groups = data["groups"]
    return Manifest(
        groups={name: dict(g["files"]) for name, g in groups.items()},
        titles={name: str(g["title"]) for name, g in groups.items()},
        archives={name: str(g["archive"]) for name, g in groups.items()},
    )


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(slots=True)
class GroupStatus:
    """What is installed of one group of files."""

    group: str
    state: State
    files: int = 0
    expected: int = 0
    problems: list[str] = field(default_factory=list)


def installed_status(target: Path, *, verify: bool = False) -> dict[str, GroupStatus]:
    """The state of each group under ``target`` (``verify`` re-checks every file's SHA-256)."""
    manifest = load_manifest()
    out: dict[str, GroupStatus] = {}
    for group, files in manifest.groups.items():
        status = GroupStatus(group, "installed", expected=len(files))
        for rel, digest in files.items():
            path = target / group / rel
            if not path.is_file():
                status.problems.append(f"missing {group}/{rel}")
                continue
            status.files += 1
            if verify and _sha256(path.read_bytes()) != digest:
                status.problems.append(f"checksum differs: {group}/{rel}")
        if status.files == 0:
            status.state = "missing"
        elif any(p.startswith("checksum") for p in status.problems):
            status.state = "corrupt"
        elif status.problems:
            status.state = "incomplete"
        out[group] = status
    return out


@dataclass(slots=True)
class InstallReport:
    """What ``install_official`` did: groups installed (with file counts) and groups not found."""

    target: Path
    installed: dict[str, int] = field(default_factory=dict)
    not_found: list[str] = field(default_factory=list)


class _Source:
    """Files of a directory or a zip archive, found by their path inside a group."""

    def __init__(self, source: Path) -> None:
        self.source = source
        self.zip: zipfile.ZipFile | None = None
        self.names: list[str] = []
        if source.is_file():
            try:
                self.zip = zipfile.ZipFile(source)
            except (zipfile.BadZipFile, OSError) as exc:
                raise OfficialSchemaError(
                    f"not a directory nor a readable zip archive: {exc}", location=Location(file=str(source))
                ) from None
            self.names = [n for n in self.zip.namelist() if not n.endswith("/")]
        elif not source.is_dir():
            raise OfficialSchemaError("no such file or directory", location=Location(file=str(source)))

    def read(self, group: str, rel: str) -> bytes | None:
        if self.zip is not None:
            wanted = (f"{group}/{rel}", rel)
            for name in self.names:
                if any(name == w or name.endswith("/" + w) for w in wanted):
                    return self.zip.read(name)
            return None
        for path in (self.source / group / rel, self.source / rel):
            if path.is_file():
                return path.read_bytes()
        return None

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()


def _collect(src: _Source, group: str, files: dict[str, str]) -> dict[str, bytes] | None:
    """Every file of ``group`` from the source, checked; ``None`` when the source has none of them."""
    found: dict[str, bytes] = {}
    missing: list[str] = []
    for rel, digest in files.items():
        data = src.read(group, rel)
        if data is None:
            missing.append(rel)
            continue
        if _sha256(data) != digest:
            raise OfficialSchemaError(
                f"{group}/{rel} does not match the official file (SHA-256 {_sha256(data)[:16]}…, "
                f"expected {digest[:16]}…); nothing of {group} was installed",
                location=Location(file=str(src.source)),
                hint="install from the unmodified official release archive",
            )
        found[rel] = data
    if not found:
        return None
    if missing:
        raise OfficialSchemaError(
            f"{group} is incomplete in the source: {len(missing)} of {len(files)} files missing "
            f"(first: {missing[0]}); nothing of {group} was installed",
            location=Location(file=str(src.source)),
        )
    return found


def install_official(source: Path, target: Path, groups: tuple[str, ...] = GROUPS) -> InstallReport:
    """Copy the official files found in ``source`` (directory or zip) into ``target``, verified.

    A group is installed whole or not at all: every file must be present and match its SHA-256. Groups
    the source does not hold at all are reported in ``not_found``; an installed group is replaced
    atomically (written beside, then renamed).

    Raises:
        OfficialSchemaError: the source is unreadable, a file differs from the official one, a group is
            incomplete, or the source holds none of the groups.
    """
    manifest = load_manifest()
    report = InstallReport(target=target)
    src = _Source(source)
    try:
        collected: dict[str, dict[str, bytes]] = {}
        for group in groups:
            files = _collect(src, group, manifest.groups[group])
            if files is None:
                report.not_found.append(group)
            else:
                collected[group] = files
    finally:
        src.close()
    if not collected:
        raise OfficialSchemaError(
            "the source holds none of the official schemas or rules",
            location=Location(file=str(source)),
            hint="point --from at the official UBL 2.1 release zip or a directory with ubl-2.1/, cii-d16b/, en16931/",
        )
    target.mkdir(parents=True, exist_ok=True)
    for group, files in collected.items():
        staging = Path(tempfile.mkdtemp(prefix=f".{group}-", dir=target))
        for rel, data in files.items():
            path = staging / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        final = target / group
        if final.exists():
            shutil.rmtree(final)
        staging.rename(final)
        report.installed[group] = len(files)
    return report
