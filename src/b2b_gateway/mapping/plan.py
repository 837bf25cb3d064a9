"""A mapping file compiled for the engine: paths parsed, tables and functions resolved, lines kept.

Compiling is where a mapping file is checked: every path against its syntax (and, for EDIFACT, the
message structure and code lists), every table and function name, every transform option. Each error
is a ``MappingConfigError`` at the mapping file's line and column.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from dataclasses import field as _field  # PValue has a field named ``field``
from decimal import Decimal
from typing import Any

from b2b_gateway.errors import GatewayError, MappingConfigError
from b2b_gateway.formats.located_yaml import KeyPath, Positions
from b2b_gateway.mapping.paths.base import Syntax
from b2b_gateway.mapping.spec import (
    Condition,
    ConvertSpec,
    DateSpec,
    FunctionSpec,
    GroupRule,
    MappingSpec,
    TableRef,
    TextSpec,
    ValueRule,
)
from b2b_gateway.mapping.transforms import CodeTable, MappingFunction, load_function, unit_factor

__all__ = ["CompiledMapping", "PCondition", "PGroup", "PList", "PNode", "PValue", "compile_mapping"]


@dataclass(frozen=True, slots=True)
class PCondition:
    path: Any | None
    field: str | None
    equals: tuple[str, ...] | None
    not_equals: tuple[str, ...] | None
    exists: bool | None
    matches: str | None
    all: tuple[PCondition, ...] = ()
    any: tuple[PCondition, ...] = ()


@dataclass(frozen=True, slots=True)
class PValue:
    name: str
    at: str
    field: str
    paths: tuple[Any, ...]
    texts: tuple[str, ...]
    all: bool = False
    const: Any = None
    default: Any = None
    required: bool = False
    when: PCondition | None = None
    type: str = "string"
    date: DateSpec | None = None
    format_at: Any = None
    decimal: str | None = None
    table: CodeTable | None = None
    unknown: str = "error"
    factor: Decimal | None = None
    text: TextSpec | None = None
    fn_in: MappingFunction | None = None
    fn_out: MappingFunction | None = None
    direction: str = "both"
    source: str | None = None
    """Outbound: the canonical field read (dotted), when not the rule's own name."""
    scope: Any = None
    """The compile-time scope of the rule (what a function's ``read`` is relative to)."""
    plain: bool = _field(init=False, compare=False, repr=False)
    """Inbound, the value read is the value mapped: no condition, constant, conversion or function."""

    def __post_init__(self) -> None:
        converts = (self.date, self.decimal, self.table, self.factor, self.fn_in, self.when, self.const)
        plain = self.type == "string" and self.direction != "outbound" and all(c is None for c in converts)
        object.__setattr__(self, "plain", plain)


@dataclass(frozen=True, slots=True)
class PGroup:
    name: str
    at: str
    field: str
    scope: Any | None = None
    each: Any | None = None
    scope_text: str | None = None
    when: PCondition | None = None
    required: bool = False
    fields: tuple[tuple[str, PNode], ...] = ()
    value: PNode | None = None
    direction: str = "both"


@dataclass(frozen=True, slots=True)
class PList:
    name: str
    at: str
    field: str
    items: tuple[PNode, ...]


PNode = PValue | PGroup | PList


@dataclass(frozen=True, slots=True)
class CompiledMapping:
    """A loaded mapping file, ready for :mod:`b2b_gateway.mapping.engine`."""

    spec: MappingSpec
    syntax: Syntax
    root: PGroup
    file: str
    positions: Positions
    match: PCondition | None = None
    envelope: dict[str, Any] = field(default_factory=dict)
    rules: dict[str, str] = field(default_factory=dict)
    """Canonical field (dotted, no indices) -> the rule's ``file:line:column``."""
    readers: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """The engine's functions made of this mapping, made on first use (``engine.map_inbound``)."""

    @property
    def document(self) -> str:
        return self.spec.document

    def serves(self, direction: str) -> bool:
        return self.spec.direction in (direction, "both")


class _Compiler:
    def __init__(
        self,
        spec: MappingSpec,
        syntax: Syntax,
        positions: Positions,
        tables: Mapping[str, CodeTable],
        functions: Mapping[str, MappingFunction] | None,
    ) -> None:
        self.spec, self.syntax, self.pos = spec, syntax, positions
        self.tables, self.functions = tables, functions
        self.errors: list[GatewayError] = []
        self.rules: dict[str, str] = {}

    def fail(self, exc: MappingConfigError, where: KeyPath) -> None:
        exc.at(self.pos.at(where))
        self.errors.append(exc)

    def path(self, text: str, scope: Any, where: KeyPath) -> tuple[Any, Any]:
        try:
            return self.syntax.compile(text, scope)
        except MappingConfigError as exc:
            self.fail(exc, where)
            return None, scope

    def condition(self, cond: Condition | None, scope: Any, where: KeyPath) -> PCondition | None:
        if cond is None:
            return None
        path = self.path(cond.path, scope, (*where, "path"))[0] if cond.path else None

        def strings(v: Any) -> tuple[str, ...] | None:
            if v is None:
                return None
            return tuple(str(x) for x in (v if isinstance(v, list) else [v]))

        return PCondition(
            path,
            cond.field,
            strings(cond.equals),
            strings(cond.not_equals),
            cond.exists,
            cond.matches,
            tuple(c for i, sub in enumerate(cond.all or []) if (c := self.condition(sub, scope, (*where, "all", i)))),
            tuple(c for i, sub in enumerate(cond.any or []) if (c := self.condition(sub, scope, (*where, "any", i)))),
        )

    def node(self, name: str, rule: Any, scope: Any, where: KeyPath, trail: str) -> PNode | None:
        if isinstance(rule, str):
            rule = ValueRule(path=rule)
        if isinstance(rule, list):
            items = [self.node(name, r, scope, (*where, i), trail) for i, r in enumerate(rule)]
            return PList(name, self.pos.rule(where), trail, tuple(i for i in items if i is not None))
        if isinstance(rule, GroupRule):
            return self.group(name, rule, scope, where, trail)
        return self.value(name, rule, scope, where, trail)

    def group(self, name: str, rule: GroupRule, scope: Any, where: KeyPath, trail: str) -> PGroup:
        at = self.pos.rule(where)
        self.rules.setdefault(trail, at)
        inner, scope_path, each_path = scope, None, None
        if rule.scope and rule.each:
            self.fail(MappingConfigError("a group has 'scope' or 'each', not both"), where)
        before = len(self.errors)
        if rule.scope:
            scope_path, inner = self.path(rule.scope, scope, (*where, "scope"))
        if rule.each:
            each_path, inner = self.path(rule.each, scope, (*where, "each"))
        if len(self.errors) > before:
            return PGroup(name, at, trail)  # the inner paths cannot be checked against a scope that is wrong
        if (rule.fields is None) == (rule.value is None):
            self.fail(MappingConfigError("a group needs 'fields' (an object) or 'value' (with each)"), where)
        fields = tuple(
            (key, node)
            for key, sub in (rule.fields or {}).items()
            if (node := self.node(key, sub, inner, (*where, "fields", key), f"{trail}.{key}" if trail else key))
        )
        value = self.node(name, rule.value, inner, (*where, "value"), trail) if rule.value is not None else None
        return PGroup(
            name,
            at,
            trail,
            scope_path,
            each_path,
            rule.scope or rule.each,
            self.condition(rule.when, scope, (*where, "when")),
            rule.required,
            fields,
            value,
            rule.direction,
        )

    def value(self, name: str, rule: ValueRule, scope: Any, where: KeyPath, trail: str) -> PValue:
        at = self.pos.rule(where)
        self.rules.setdefault(trail, at)
        texts = tuple(rule.paths or ([rule.path] if rule.path else []))
        compiled, inner = [], scope
        for i, text in enumerate(texts):
            path, inner = self.path(text, scope, (*where, "paths", i) if rule.paths else (*where, "path"))
            compiled.append(path)
        if not texts and rule.const is None and rule.default is None and rule.function is None:
            self.fail(MappingConfigError(f"rule {name!r} has no path, const, default or function"), where)
        date = DateSpec(format=rule.date) if isinstance(rule.date, str) else rule.date
        format_at = None
        if date is not None and date.format_at:
            format_at = self.path(date.format_at, inner, (*where, "date", "format_at"))[0]
        table, unknown = self.table(rule.table, (*where, "table"))
        fn_in, fn_out = self.function(rule.function, (*where, "function"))
        return PValue(
            name,
            at,
            trail,
            tuple(compiled),
            texts,
            rule.all,
            rule.const,
            rule.default,
            rule.required,
            self.condition(rule.when, scope, (*where, "when")),
            rule.type,
            date,
            format_at,
            rule.decimal,
            table,
            unknown,
            self.factor(rule.convert, (*where, "convert")),
            rule.text,
            fn_in,
            fn_out,
            rule.direction,
            rule.field,
            scope,
        )

    def table(self, ref: str | TableRef | None, where: KeyPath) -> tuple[CodeTable | None, str]:
        if ref is None:
            return None, "error"
        name, unknown = (ref, "error") if isinstance(ref, str) else (ref.name, ref.unknown)
        found = self.tables.get(name)
        if found is None:
            self.fail(
                MappingConfigError(
                    f"no code table {name!r}",
                    hint=f"declare it under 'tables:' (declared: {', '.join(self.tables) or 'none'})",
                ),
                where,
            )
        return found, unknown

    def function(self, ref: str | FunctionSpec | None, where: KeyPath) -> tuple[Any, Any]:
        if ref is None:
            return None, None
        names = (ref, None) if isinstance(ref, str) else (ref.inbound, ref.outbound)
        out = []
        for name in names:
            try:
                out.append(load_function(name, self.functions) if name else None)
            except MappingConfigError as exc:
                self.fail(exc, where)
                out.append(None)
        return out[0], out[1]

    def factor(self, spec: ConvertSpec | None, where: KeyPath) -> Decimal | None:
        if spec is None:
            return None
        if spec.factor is not None:
            return spec.factor
        if spec.from_unit and spec.to_unit:
            try:
                return unit_factor(spec.from_unit, spec.to_unit)
            except MappingConfigError as exc:
                self.fail(exc, where)
                return None
        self.fail(MappingConfigError("convert needs 'factor', or 'from' and 'to' units"), where)
        return None


def compile_mapping(
    spec: MappingSpec,
    syntax: Syntax,
    positions: Positions,
    tables: Mapping[str, CodeTable],
    *,
    root_scope: Any = None,
    functions: Mapping[str, MappingFunction] | None = None,
) -> tuple[CompiledMapping | None, list[GatewayError]]:
    """Compile ``spec``; the mapping, or ``None`` with every configuration error found."""
    c = _Compiler(spec, syntax, positions, tables, functions)
    root = c.group("", GroupRule(fields=spec.fields), root_scope, (), "")
    match = c.condition(spec.match, root_scope, ("match",))
    envelope: dict[str, Any] = {}
    if spec.envelope is not None:
        for key in ("sender", "recipient", "reference"):
            text = getattr(spec.envelope, key)
            if text:
                envelope[key] = c.path(text, root_scope, ("envelope", key))[0]
    if c.errors:
        return None, c.errors
    return CompiledMapping(spec, syntax, root, positions.file or "", positions, match, envelope, c.rules), []
