"""Loading mapping files and code tables from disk (the edge of the mapping layer: it reads files).

:func:`load_mapping` reads a YAML mapping file, validates it against :class:`MappingSpec`, reads its
code tables, builds the syntax of its format and compiles it. Every problem is returned (not only the
first), each a ``MappingConfigError`` at the file's line and column.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from b2b_gateway.errors import ConfigurationError, GatewayError, Location, MappingConfigError
from b2b_gateway.formats.edifact.directory import load_directory
from b2b_gateway.formats.located_yaml import KeyPath, Positions, load_located_yaml
from b2b_gateway.mapping.paths.base import Syntax
from b2b_gateway.mapping.paths.edifact import EdifactSyntax
from b2b_gateway.mapping.paths.json import JsonSyntax
from b2b_gateway.mapping.paths.xml import XmlSyntax
from b2b_gateway.mapping.plan import CompiledMapping, compile_mapping
from b2b_gateway.mapping.spec import MappingSpec
from b2b_gateway.mapping.transforms import CodeTable, MappingFunction

__all__ = ["load_code_table", "load_mapping", "located_validation_errors", "syntax_for"]


def located_validation_errors(
    exc: ValidationError, data: Any, positions: Positions, kind: type[ConfigurationError]
) -> list[GatewayError]:
    """One located error per problem pydantic found (union branch names dropped, duplicates merged)."""
    out: list[GatewayError] = []
    seen: set[tuple[Any, ...]] = set()
    for err in exc.errors(include_url=False):
        path: list[int | str] = []
        current = data
        for part in err["loc"]:
            in_dict = isinstance(current, dict) and part in current
            in_list = isinstance(current, list) and isinstance(part, int) and part < len(current)
            if in_dict or in_list:
                current = current[part]
                path.append(part)
        extra = err["type"] == "extra_forbidden"
        key = (tuple(path), extra)
        if key in seen:
            continue
        seen.add(key)
        where = ".".join(str(p) for p in path) or "(top level)"
        if extra:
            message = f"{where}: unknown key"
        elif err["type"] == "missing":
            message = f"{where}: {err['loc'][-1]!s} is required"
        else:
            message = f"{where}: {err['msg']}"
        loc = positions.at(path, key=extra)
        out.append(kind(message, location=replace(loc, field=where)))
    return out


def load_code_table(name: str, source: str | Mapping[str, str], base: Path) -> CodeTable:
    """A code table given inline or as a file (``.yaml``/``.yml``: a mapping, or ``inbound``/``outbound``
    sections and an optional ``default``; ``.csv``: rows ``partner,canonical`` with a header line).

    Raises:
        MappingConfigError: the file cannot be read or has the wrong shape (located).
    """
    if not isinstance(source, str):
        return CodeTable.build(name, {str(k): str(v) for k, v in source.items()})
    path = (base / source).resolve()
    shown = str(base / source)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MappingConfigError(
            f"code table {name!r}: cannot read {shown}: {exc.strerror}", location=Location(file=shown)
        ) from None
    if path.suffix == ".csv":
        rows = [r for r in csv.reader(io.StringIO(text)) if r and not r[0].startswith("#")]
        if not rows or any(len(r) < 2 for r in rows[1:]):
            raise MappingConfigError(
                f"code table {name!r}: a CSV table has a header and rows 'partner,canonical'",
                location=Location(file=shown),
            )
        return CodeTable.build(name, {r[0].strip(): r[1].strip() for r in rows[1:]}, source=shown)
    doc = load_located_yaml(text, file=shown)
    data = doc.data
    if not isinstance(data, dict):
        raise MappingConfigError(f"code table {name!r} is not a mapping of codes", location=Location(file=shown))
    if "inbound" in data or "outbound" in data:
        inbound, outbound = data.get("inbound") or {}, data.get("outbound") or {}
        default = data.get("default")
    else:
        inbound, outbound, default = data, {}, None
    for section in (inbound, outbound):
        if not isinstance(section, dict):
            raise MappingConfigError(f"code table {name!r}: a section is not a mapping", location=Location(file=shown))
    return CodeTable.build(
        name,
        {str(k): str(v) for k, v in inbound.items()},
        {str(k): str(v) for k, v in outbound.items()},
        None if default is None else str(default),
        shown,
    )


def syntax_for(spec: MappingSpec) -> tuple[Syntax, Any]:
    """The syntax a mapping's paths are in, and the root scope to compile them in.

    Raises:
        MappingConfigError: an EDIFACT mapping names a directory or message that is not shipped.
    """
    if spec.format == "json":
        return JsonSyntax(), None
    if spec.format == "xml":
        return XmlSyntax(spec.namespaces, spec.message), None
    directory = load_directory(spec.directory or "D96A")
    if not spec.message:
        raise MappingConfigError("an EDIFACT mapping needs 'message:' (ORDERS, INVOIC …)")
    syntax = EdifactSyntax(directory, directory.message(spec.message))
    return syntax, syntax.root_scope()


def load_mapping(
    path: Path, *, display: str | None = None, functions: Mapping[str, MappingFunction] | None = None
) -> tuple[CompiledMapping | None, list[GatewayError]]:
    """Load and compile the mapping file at ``path`` (``display`` is the name used in messages)."""
    shown = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return None, [MappingConfigError(f"cannot read mapping file: {exc.strerror}", location=Location(file=shown))]
    try:
        doc = load_located_yaml(text, file=shown)
    except ConfigurationError as exc:
        return None, [MappingConfigError(exc.message, location=exc.location)]
    if not isinstance(doc.data, dict):
        return None, [MappingConfigError("a mapping file is a YAML mapping", location=Location(file=shown, line=1))]
    try:
        spec = MappingSpec.model_validate(doc.data)
    except ValidationError as exc:
        return None, located_validation_errors(exc, doc.data, doc.positions, MappingConfigError)
    errors: list[GatewayError] = []
    tables: dict[str, CodeTable] = {}
    for name, source in spec.tables.items():
        where: KeyPath = ("tables", name)
        try:
            tables[name] = load_code_table(name, source, path.parent)
        except ConfigurationError as exc:
            if exc.location.file is None:
                exc.at(doc.positions.at(where))
            if not isinstance(exc, MappingConfigError):
                exc = MappingConfigError(exc.message, location=exc.location)
            errors.append(exc)
    try:
        syntax, scope = syntax_for(spec)
    except MappingConfigError as exc:
        errors.append(exc.at(doc.positions.at(("message",))))
        return None, errors
    compiled, problems = compile_mapping(spec, syntax, doc.positions, tables, root_scope=scope, functions=functions)
    errors.extend(problems)
    return (compiled if not errors else None), errors
