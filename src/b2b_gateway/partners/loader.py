"""Loading partners from files: ``mappings/<ID>/partner.yaml`` with its mappings, tables and schemas.

Layout of the mappings directory (``settings.paths.mappings_dir``)::

    mappings/
      _self.yaml                    this gateway's own company (a profile: its identifiers)
      _standard/eancom-d96a/*.yaml  standard mappings, used when a partner's exchange names none
      ACME/partner.yaml             one directory per partner; its id is the directory name
      ACME/orders.yaml              mapping files, relative to the partner directory
      ACME/tables/units.yaml        code tables, relative to the mapping file that uses them
      ACME/schemas/order.json       JSON Schemas named by the profile
      ACME/samples/<case>/...       golden samples (``b2b-gateway mappings test``)

Every problem is reported with its file, line and column (``PartnerConfigError`` for a profile,
``MappingConfigError`` for a mapping). Referenced certificates (names in ``certs/``) are checked too;
a missing one is a warning when loading and an error for ``partners check``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import SchemaError as JsonSchemaDefinitionError
from jsonschema.validators import validator_for
from pydantic import ValidationError

from b2b_gateway.errors import ConfigurationError, GatewayError, Location, MappingConfigError, PartnerConfigError
from b2b_gateway.formats.located_yaml import Positions, load_located_yaml
from b2b_gateway.mapping.catalog import PartnerMappings
from b2b_gateway.mapping.loader import load_mapping, located_validation_errors
from b2b_gateway.mapping.plan import CompiledMapping
from b2b_gateway.mapping.transforms import MappingFunction
from b2b_gateway.partners.profile import PartnerProfile

__all__ = [
    "COMPANY_FILE",
    "PROFILE_FILE",
    "STANDARD_DIR",
    "PartnerBundle",
    "certificate_problems",
    "files_signature",
    "load_partner",
    "load_profile",
    "load_standards",
]

PROFILE_FILE = "partner.yaml"
COMPANY_FILE = "_self.yaml"
STANDARD_DIR = "_standard"
_CERT_SUFFIXES = ("", ".pem", ".crt", ".cer", ".der", ".key")


@dataclass(frozen=True, slots=True)
class PartnerBundle:
    """A partner as loaded: its profile, its compiled mappings and schemas, and what was found wrong."""

    profile: PartnerProfile
    directory: Path
    mappings: PartnerMappings
    warnings: tuple[GatewayError, ...] = ()
    signature: tuple[tuple[str, int, int], ...] = field(default=(), compare=False)

    @property
    def id(self) -> str:
        return self.profile.id


def _shown(path: Path, root: Path | None) -> str:
    if root is None:
        return str(path)
    try:
        return str(path.relative_to(root.parent)) if root.parent != Path() else str(path)
    except ValueError:
        return str(path)


def load_profile(
    path: Path, *, shown: str | None = None
) -> tuple[PartnerProfile | None, Positions | None, list[GatewayError]]:
    """A profile from ``path``, with the positions of its values; or every error, located."""
    name = shown or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return None, None, [PartnerConfigError(f"cannot read profile: {exc.strerror}", location=Location(file=name))]
    try:
        doc = load_located_yaml(text, file=name)
    except ConfigurationError as exc:
        return None, None, [PartnerConfigError(exc.message, location=exc.location)]
    if not isinstance(doc.data, dict):
        return (
            None,
            doc.positions,
            [PartnerConfigError("a profile is a YAML mapping", location=Location(file=name, line=1))],
        )
    try:
        return PartnerProfile.model_validate(doc.data), doc.positions, []
    except ValidationError as exc:
        return None, doc.positions, located_validation_errors(exc, doc.data, doc.positions, PartnerConfigError)


def certificate_problems(profile: PartnerProfile, certs_dir: Path | None, positions: Positions) -> list[GatewayError]:
    """A warning for each certificate the profile names that is not in ``certs_dir``."""
    if certs_dir is None:
        return []
    names: list[tuple[str, tuple[Any, ...]]] = []
    names += [(n, ("security", "certificates", i)) for i, n in enumerate(profile.security.certificates)]
    names += [(n, ("security", "trusted_roots", i)) for i, n in enumerate(profile.security.trusted_roots)]
    if profile.security.signing_key:
        names.append((profile.security.signing_key, ("security", "signing_key")))
    for i, channel in enumerate(profile.channels):
        for attr in ("client_cert", "ca_cert"):
            value = getattr(channel, attr)
            if value:
                names.append((value, ("channels", i, attr)))
    out: list[GatewayError] = []
    for name, where in names:
        if not any((certs_dir / f"{name}{suffix}").is_file() for suffix in _CERT_SUFFIXES):
            out.append(
                PartnerConfigError(
                    f"certificate {name!r} is not in {certs_dir}",
                    location=positions.at(where),
                    severity="warning",
                    hint="put the PEM file there (any of .pem, .crt, .cer) or fix the name",
                )
            )
    return out


def files_signature(directory: Path) -> tuple[tuple[str, int, int], ...]:
    """What changes when a partner's files change (path, mtime, size), samples excluded."""
    out = []
    for path in sorted(directory.rglob("*")):
        if path.is_file() and "samples" not in path.relative_to(directory).parts:
            stat = path.stat()
            out.append((str(path.relative_to(directory)), stat.st_mtime_ns, stat.st_size))
    return tuple(out)


def _load_schema(path: Path, shown: str, where: Location) -> tuple[dict[str, Any] | None, list[GatewayError]]:
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        return None, [PartnerConfigError(f"cannot read JSON Schema {shown}: {exc.strerror}", location=where)]
    except ValueError as exc:
        return None, [PartnerConfigError(f"JSON Schema {shown} is not JSON: {exc}", location=Location(file=shown))]
    try:
        validator_for(schema).check_schema(schema)
    except JsonSchemaDefinitionError as exc:
        return None, [
            PartnerConfigError(f"{shown} is not a valid JSON Schema: {exc.message}", location=Location(file=shown))
        ]
    return schema, []


def load_partner(
    directory: Path,
    *,
    certs_dir: Path | None = None,
    root: Path | None = None,
    functions: Mapping[str, MappingFunction] | None = None,
) -> tuple[PartnerBundle | None, list[GatewayError]]:
    """Load one partner directory: profile, mapping files, code tables, JSON Schemas, certificates.

    Returns the bundle (``None`` when anything is wrong) and every error and warning found.
    """
    profile_path = directory / PROFILE_FILE
    profile, positions, errors = load_profile(profile_path, shown=_shown(profile_path, root))
    if profile is None or positions is None:
        return None, errors
    if profile.id != directory.name:
        errors.append(
            PartnerConfigError(
                f"partner id {profile.id!r} does not match its directory {directory.name!r}",
                location=positions.at(("id",)),
                hint="the directory under mappings/ is named after the partner id",
            )
        )
    mappings: dict[tuple[str, str], CompiledMapping] = {}
    schemas: dict[tuple[str, str], dict[str, Any]] = {}
    formats: dict[tuple[str, str], str] = {}
    for i, ex in enumerate(profile.documents):
        key = (ex.document, ex.direction)
        formats[key] = ex.format
        if ex.mapping:
            path = directory / ex.mapping
            if not path.is_file():
                errors.append(
                    PartnerConfigError(
                        f"mapping file {ex.mapping!r} does not exist",
                        location=positions.at(("documents", i, "mapping")),
                    )
                )
            else:
                compiled, problems = load_mapping(path, display=_shown(path, root), functions=functions)
                errors.extend(problems)
                if compiled is not None:
                    errors.extend(_check_exchange(compiled, ex.document, ex.direction, ex.format, positions, i))
                    mappings[key] = compiled
        if ex.json_schema:
            path = directory / ex.json_schema
            schema, problems = _load_schema(path, _shown(path, root), positions.at(("documents", i, "json_schema")))
            errors.extend(problems)
            if schema is not None:
                schemas[key] = schema
    errors.extend(certificate_problems(profile, certs_dir, positions))
    errors.extend(_edifact_problems(profile, positions))
    if any(e.severity == "error" for e in errors):
        return None, errors
    bundle = PartnerBundle(
        profile,
        directory,
        PartnerMappings(profile.id, formats, mappings, schemas),
        tuple(errors),
        files_signature(directory),
    )
    return bundle, errors


def _edifact_problems(profile: PartnerProfile, positions: Positions) -> list[GatewayError]:
    """A narrowing that widens the directory (or names what it does not define) is refused at load."""
    from b2b_gateway.mapping.edifact.policy import narrowing_problems

    out: list[GatewayError] = []
    for problem in narrowing_problems(profile):
        key = ("parsing", "charset_fallback") if "charset_fallback" in problem.message else ("narrowing",)
        out.append(problem.at(positions.at(key)))
    return out


def _check_exchange(
    mapping: CompiledMapping, document: str, direction: str, fmt: str, positions: Positions, i: int
) -> list[GatewayError]:
    problems = []
    if mapping.document != document:
        problems.append(f"maps {mapping.document!r} documents, but the exchange is of {document!r}")
    if not mapping.serves(direction):
        problems.append(f"is a {mapping.spec.direction} mapping, but the exchange is {direction}")
    expected = {"edifact": "edifact", "json": "json", "xml": "xml"}.get(fmt)
    if expected is not None and mapping.spec.format != expected:
        problems.append(f"is for {mapping.spec.format}, but the exchange is in {fmt}")
    return [
        PartnerConfigError(f"mapping {mapping.file} {p}", location=positions.at(("documents", i, "mapping")))
        for p in problems
    ]


def load_standards(
    root: Path, *, functions: Mapping[str, MappingFunction] | None = None
) -> tuple[dict[tuple[str, str], CompiledMapping], list[GatewayError]]:
    """The standard mappings under ``root/_standard`` by (format, document)."""
    out: dict[tuple[str, str], CompiledMapping] = {}
    errors: list[GatewayError] = []
    base = root / STANDARD_DIR
    if not base.is_dir():
        return out, errors
    for path in sorted(base.rglob("*.yaml")):
        if "tables" in path.relative_to(base).parts:
            continue
        compiled, problems = load_mapping(path, display=_shown(path, root), functions=functions)
        errors.extend(problems)
        if compiled is not None:
            key = (compiled.spec.format, compiled.document)
            if key in out:
                errors.append(
                    MappingConfigError(
                        f"two standard mappings for {key[1]} in {key[0]}", location=Location(file=str(path))
                    )
                )
            out[key] = compiled
    return out, errors
