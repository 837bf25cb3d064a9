"""The mapping engine: runs a compiled mapping inbound (partner tree -> canonical data) or outbound.

Inbound, the engine walks the mapping like the canonical document it produces: groups select scopes
and loops in the partner tree, values read paths and transform them. Each node of the mapping is made
into a function once (:func:`map_inbound`), so what a rule asks for is looked at when the function is
made, not for every document. Outbound, it walks the canonical document with the same rules and
writes each value where its path says, creating scopes and qualifiers. Every problem is collected
(not only the first) as a ``MappingError`` whose location has both the mapping rule
(``Location.mapping``) and the place in the partner document.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from b2b_gateway.errors import GatewayError, Location, MappingConfigError, MappingError
from b2b_gateway.mapping.paths.base import Hit, Syntax
from b2b_gateway.mapping.plan import CompiledMapping, PCondition, PGroup, PList, PNode, PValue
from b2b_gateway.mapping.transforms import (
    FunctionContext,
    date_in,
    date_out,
    date_pattern_in,
    date_pattern_out,
    decimal_in,
    decimal_out,
    split_text,
)

__all__ = [
    "EMPTY_VALUES",
    "MappingRun",
    "condition_holds",
    "converted_in",
    "map_inbound",
    "map_outbound",
    "node_reader",
    "typed_in",
]

_EMPTY: tuple[Any, ...] = (None, "", [], {})
EMPTY_VALUES = _EMPTY
"""What an object or a list leaves out: ``None``, ``""``, ``[]`` and ``{}``."""


class MappingRun:
    """One application of a mapping; collects errors and where each canonical value came from."""

    def __init__(self, mapping: CompiledMapping) -> None:
        self.mapping = mapping
        self.syntax = mapping.syntax
        self.errors: list[GatewayError] = []
        self.sources: dict[str, Location | Hit] = {}
        """Canonical JSON pointer -> where its value was read (inbound; see :meth:`source`)."""
        self.root: Any = None
        """The canonical document (outbound), for rules whose ``field`` starts with ``/``."""

        self.failed: set[str] = set()
        """Canonical JSON pointers whose value the mapping failed to produce (inbound)."""

    def source(self, pointer: str) -> Location | None:
        """Where the value at canonical JSON ``pointer`` was read (inbound), if it was."""
        found = self.sources.get(pointer)
        return found.location if isinstance(found, Hit) else found

    def error(
        self, message: str, node: PNode, where: Location | Hit | None = None, *, pointer: str | None = None
    ) -> None:
        """Record a located MappingError: the rule (``Location.mapping``), the field, the source place."""
        field = _dotted(pointer) if pointer else node.field
        if pointer:
            self.failed.add(pointer)
        place = where.location if isinstance(where, Hit) else where
        loc = replace(place or Location(), mapping=node.at, field=field or None)
        self.errors.append(MappingError(message.replace(f"{node.field}:", f"{field}:", 1), location=loc))


def _dotted(pointer: str) -> str:
    out = ""
    for part in pointer.strip("/").split("/"):
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out


# -- conditions --------------------------------------------------------------------------------------


def _lookup(obj: Any, dotted: str) -> Any:
    current = obj
    for part in dotted.split("."):
        if isinstance(current, dict):
            current = current.get(part)
        else:
            return None
    return current


def condition_holds(run: MappingRun, cond: PCondition, context: Any, *, inbound: bool, current: Any = None) -> bool:
    """Whether ``cond`` holds: ``path`` tests the partner side inbound, ``field`` the canonical side outbound."""
    if cond.all and not all(condition_holds(run, c, context, inbound=inbound, current=current) for c in cond.all):
        return False
    if cond.any and not any(condition_holds(run, c, context, inbound=inbound, current=current) for c in cond.any):
        return False
    if inbound and cond.path is not None:
        values = [h.value or "" for h in run.syntax.values(context, cond.path)]
        present = bool(values) or (cond.exists is not None and bool(run.syntax.nodes(context, cond.path)))
    elif not inbound and cond.field is not None:
        found = _lookup(current, cond.field)
        values = [] if found in _EMPTY else [str(v) for v in (found if isinstance(found, list) else [found])]
        present = found not in _EMPTY
    else:
        return True
    if cond.exists is not None and present != cond.exists:
        return False
    if cond.equals is not None and not any(v in cond.equals for v in values):
        return False
    if cond.not_equals is not None and any(v in cond.not_equals for v in values):
        return False
    return not (cond.matches is not None and not any(re.fullmatch(cond.matches, v) for v in values))


# -- inbound -----------------------------------------------------------------------------------------


def typed_in(rule: PValue, value: Any) -> Any:
    """``value`` as the rule's type says (a decimal as a plain string, an integer, a boolean).

    Raises:
        MappingError: the value is not of the type (the message the run records).
    """
    if rule.type in ("decimal", "integer") and not isinstance(value, Decimal | int):
        try:
            number = Decimal(decimal_in(str(value), rule.decimal or "auto"))
        except MappingError as exc:
            raise MappingError(f"{rule.field}: wrong type: {exc.message} (expected a {rule.type})") from None
        if rule.type == "integer":
            if number != number.to_integral_value():
                raise MappingError(f"{rule.field}: wrong type: {value!r} is not a whole number")
            return int(number)
        return format(number, "f")
    if rule.type == "boolean":
        return str(value).strip().lower() in ("true", "1", "y", "yes")
    return value


def _typed(run: MappingRun, rule: PValue, value: Any, where: Location | Hit, pointer: str) -> Any:
    try:
        return typed_in(rule, value)
    except MappingError as exc:
        run.error(exc.message, rule, where, pointer=pointer)
        return None


def converted_in(rule: PValue, value: Any, fmt: str) -> Any:
    """``value`` after the rule's date (read in format ``fmt``), decimal, table and factor conversions.

    Raises:
        MappingError, InvalidOperation, ValueError: the value cannot be converted.
    """
    if rule.date is not None and value is not None:
        if rule.date.pattern:
            value = date_pattern_in(str(value), rule.date.pattern, rule.date.part)
        else:
            value = date_in(str(value), fmt, rule.date.part)
    if rule.decimal is not None and rule.type == "string":
        value = decimal_in(str(value), rule.decimal)
    if rule.table is not None and value is not None:
        value = rule.table.translate(str(value), reverse=False, unknown=rule.unknown)
    if rule.factor is not None and value is not None:
        value = format(Decimal(decimal_in(str(value))) * rule.factor, "f")
    return value


def _read_in(run: MappingRun, rule: PValue, context: Any) -> tuple[Any, Hit | None]:
    """The value ``rule`` reads in ``context``, and the (first) hit it came from (its place made lazily)."""
    if len(rule.paths) == 1 and not rule.all:
        found = run.syntax.values(context, rule.paths[0])
        return (found[0].value, found[0]) if found else (None, None)
    hits = []
    for path in rule.paths:
        found = run.syntax.values(context, path)
        hits.extend(found if rule.all else found[:1])
    if not hits:
        return None, None
    sep = rule.text.separator if rule.text else " "
    text = sep.join(h.value or "" for h in hits) if len(hits) > 1 else hits[0].value
    return text, hits[0]


_Read = Callable[[MappingRun, PValue, Any], tuple[Any, "Hit | None"]]
"""How a value rule reads its text in a context: :func:`_read_in`, or the first hit of a made function."""


def _value_in(run: MappingRun, rule: PValue, context: Any, pointer: str, read: _Read = _read_in) -> Any:
    if rule.plain:  # most rules: what is read is the value
        text, hit = read(run, rule, context)
        if text is not None and hit is not None:
            run.sources[pointer] = hit
            return text
    if rule.direction == "outbound":
        return None
    if rule.when is not None and not condition_holds(run, rule.when, context, inbound=True):
        return None
    value: Any
    where: Location | Hit
    if rule.const is not None:
        value, where = rule.const, Hit(None, locate=partial(run.syntax.locate, context))
    else:
        value, where_found = read(run, rule, context)
        where = where_found if where_found is not None else Hit(None, locate=partial(run.syntax.locate, context))
        if value is None:
            if rule.default is not None:
                value = rule.default
            elif rule.required:
                paths = " or ".join(rule.texts) or "(no path)"
                run.error(
                    f"required value {_dotted(pointer)} is missing: nothing at {paths}", rule, where, pointer=pointer
                )
                return None
            elif rule.fn_in is None:
                return None
    try:
        fmt = ""
        if rule.date is not None and value is not None:
            fmt = rule.date.format
            if rule.format_at is not None:  # the qualifier beside the date (DTM 2379), in the segment read
                holder = where.holder if isinstance(where, Hit) and where.holder is not None else context
                fmt = (run.syntax.read(holder, rule.format_at) or fmt) if holder is not None else fmt
        value = converted_in(rule, value, fmt)
        if rule.fn_in is not None:
            value = rule.fn_in(value, _fn_context(run, rule, context, "inbound"))
    except MappingError as exc:
        run.error(f"{rule.field}: {exc.message}", rule, where, pointer=pointer)
        return None
    except (InvalidOperation, ValueError) as exc:
        run.error(f"{rule.field}: {exc}", rule, where, pointer=pointer)
        return None
    if value is not None and rule.const is None:
        run.sources[pointer] = where
    return _typed(run, rule, value, where, pointer) if value is not None else None


def _fn_context(run: MappingRun, rule: PValue, context: Any, direction: str) -> FunctionContext:
    def read(text: str) -> str | None:
        try:
            path, _ = run.syntax.compile(text, rule.scope)
        except MappingConfigError:
            return None
        hits = run.syntax.values(context, path) if direction == "inbound" else []
        return hits[0].value if hits else None

    return FunctionContext(direction, rule.field, read, rule.at)


Reader = Callable[[MappingRun, Any, str], Any]
"""A mapping node made a function: (run, context node, canonical JSON pointer) -> the canonical value."""


def _nothing(run: MappingRun, context: Any, pointer: str) -> Any:
    return None


def _first(syntax: Syntax, path: Any) -> Callable[[Any], Hit | None]:
    """The first value ``path`` designates below a node, as a function (the syntax's own, when it has one)."""
    make = getattr(syntax, "first", None)
    if make is not None:
        found: Callable[[Any], Hit | None] = make(path)
        return found

    def first(context: Any) -> Hit | None:
        hits = syntax.values(context, path)
        return hits[0] if hits else None

    return first


def _value_reader(rule: PValue, syntax: Syntax) -> Reader:
    converts = (rule.date, rule.decimal, rule.table, rule.factor, rule.fn_in, rule.when)
    if rule.direction == "outbound":
        return _nothing
    if rule.const is not None and rule.type == "string" and all(c is None for c in converts):
        const = rule.const
        return lambda run, context, pointer: const
    if len(rule.paths) != 1 or rule.all:
        return partial(_general_value, rule, _read_in)
    first = _first(syntax, rule.paths[0])
    if not rule.plain:

        def read_first(run: MappingRun, rule: PValue, context: Any) -> tuple[Any, Hit | None]:
            hit = first(context)
            return (hit.value, hit) if hit is not None else (None, None)

        return partial(_general_value, rule, read_first)
    default, required = rule.default, rule.required

    def plain(run: MappingRun, context: Any, pointer: str) -> Any:
        hit = first(context)
        if hit is not None and hit.value is not None:
            run.sources[pointer] = hit
            return hit.value
        if default is None and not required:
            return None
        where = Hit(None, locate=partial(syntax.locate, context))
        if default is not None:
            run.sources[pointer] = where
            return default
        paths = " or ".join(rule.texts) or "(no path)"
        run.error(f"required value {_dotted(pointer)} is missing: nothing at {paths}", rule, where, pointer=pointer)
        return None

    return plain


def _general_value(rule: PValue, read: _Read, run: MappingRun, context: Any, pointer: str) -> Any:
    return _value_in(run, rule, context, pointer, read)


def _object_reader(group: PGroup, syntax: Syntax) -> Callable[[MappingRun, Any, str], dict[str, Any] | None]:
    """The group's fields as an object (``None`` when it found nothing but constants)."""
    fields = tuple(
        (
            key,
            "/" + key,
            _reader(child, syntax),
            not key.startswith("_"),
            isinstance(child, PValue) and child.const is not None,
        )
        for key, child in group.fields
    )

    def read_object(run: MappingRun, context: Any, pointer: str) -> dict[str, Any] | None:
        out: dict[str, Any] = {}
        found = False
        for key, step, read, kept, const in fields:
            value = read(run, context, pointer + step)
            if kept and value not in _EMPTY:
                out[key] = value
                found = found or not const
        return out if found else None

    return read_object


def _list_reader(node: PList, syntax: Syntax) -> Reader:
    items = tuple((_reader(item, syntax), isinstance(item, PGroup) and item.each is not None) for item in node.items)

    def read_list(run: MappingRun, context: Any, pointer: str) -> list[Any]:
        out: list[Any] = []
        for read, loop in items:
            value = read(run, context, f"{pointer}/{len(out)}")
            if loop and isinstance(value, list):
                out.extend(value)
            elif value not in _EMPTY:
                out.append(value)
        return out

    return read_list


def _group_reader(node: PGroup, syntax: Syntax) -> Reader:
    if node.direction == "outbound":
        return _nothing
    read_object = _object_reader(node, syntax)
    when = node.when

    def holds(run: MappingRun, context: Any) -> bool:
        return when is None or condition_holds(run, when, context, inbound=True)

    if node.each is not None:
        each = node.each
        read_item = _reader(node.value, syntax) if node.value else read_object

        def read_each(run: MappingRun, context: Any, pointer: str) -> list[Any] | None:
            if not holds(run, context):
                return None
            result: list[Any] = []
            for scope in syntax.nodes(context, each):
                value = read_item(run, scope, f"{pointer}/{len(result)}")
                if value not in _EMPTY:
                    result.append(value)
            if not result and node.required:
                found_at = syntax.locate(context)
                run.error(f"required {_dotted(pointer)}: nothing at {node.scope_text}", node, found_at, pointer=pointer)
            return result

        return read_each
    if node.scope is not None:
        scope_path = node.scope

        def read_scoped(run: MappingRun, context: Any, pointer: str) -> dict[str, Any] | None:
            if not holds(run, context):
                return None
            found = syntax.nodes(context, scope_path)
            if not found:
                if node.required:
                    message = f"required {_dotted(pointer)} is missing: nothing at {node.scope_text}"
                    run.error(message, node, syntax.locate(context), pointer=pointer)
                return None
            return read_object(run, found[0], pointer)

        return read_scoped
    if when is None:
        return read_object

    def read_when(run: MappingRun, context: Any, pointer: str) -> dict[str, Any] | None:
        return read_object(run, context, pointer) if holds(run, context) else None

    return read_when


def node_reader(node: PNode, syntax: Syntax) -> Reader:
    """The node made a function of (run, context node, canonical JSON pointer), as the engine reads it."""
    return _reader(node, syntax)


def _reader(node: PNode, syntax: Syntax) -> Reader:
    if isinstance(node, PValue):
        return _value_reader(node, syntax)
    if isinstance(node, PList):
        return _list_reader(node, syntax)
    return _group_reader(node, syntax)


def map_inbound(mapping: CompiledMapping, tree: Any) -> tuple[dict[str, Any], MappingRun]:
    """Canonical data (a dict, not yet validated) from the partner's ``tree``, and the run's errors.

    The mapping is made into nested functions once (``CompiledMapping.readers``): each node's rule
    is read when the function is made, not for every document, and a plain value (read as it is)
    stops at its first hit without listing the others.
    """
    read = mapping.readers.get("inbound")
    if read is None:
        read = mapping.readers["inbound"] = _object_reader(mapping.root, mapping.syntax)
    run = MappingRun(mapping)
    data = read(run, tree, "") or {}
    data.setdefault("document_type", mapping.document)
    return data, run


# -- outbound ----------------------------------------------------------------------------------------


def _text_out(run: MappingRun, rule: PValue, value: Any, context: Any) -> str | None:
    try:
        if rule.fn_out is not None:
            value = rule.fn_out(value, _fn_context(run, rule, context, "outbound"))
            if value is None:
                return None
        if rule.factor is not None:
            value = format(Decimal(str(value)) / rule.factor, "f")
        if rule.table is not None:
            value = rule.table.translate(str(value), reverse=True, unknown=rule.unknown)
        if rule.date is not None:
            fmt = rule.date.write or (rule.date.format if rule.date.format not in ("auto",) else "102")
            current = run.syntax.read(context, rule.paths[0]) if rule.paths and fmt == "718" else None
            if rule.date.pattern:
                value = date_pattern_out(str(value), rule.date.pattern)
            else:
                value = date_out(str(value), fmt, rule.date.part, current)
        if rule.decimal is not None or rule.type == "decimal":
            value = decimal_out(value, rule.decimal or ".")
    except MappingError as exc:
        run.error(f"{rule.field}: {exc.message}", rule, Location(field=rule.field))
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return None if value is None else str(value)


def _value_out(run: MappingRun, rule: PValue, context: Any, current: Any, *, item: bool = False) -> None:
    if rule.direction == "inbound" or not rule.paths:
        return
    if rule.when is not None and not condition_holds(run, rule.when, context, inbound=False, current=current):
        return
    name = rule.source or rule.name
    if name.startswith("/"):
        value = rule.const if rule.const is not None else _lookup(run.root, name[1:])
    else:
        value = rule.const if rule.const is not None else (current if item else _lookup(current, name))
    if value in _EMPTY:
        value = rule.default
    if value in _EMPTY:
        if rule.required:
            run.error(f"required value {rule.field} is missing from the canonical document", rule, Location())
        return
    text = _text_out(run, rule, value, context)
    if text is None:
        return
    try:
        if rule.all:
            for piece in split_text(
                text, rule.text.width if rule.text else None, rule.text.max_parts if rule.text else None
            ):
                run.syntax.append(context, rule.paths[0], piece)
            return
        pieces = split_text(text, rule.text.width, rule.text.max_parts) if rule.text and len(rule.paths) > 1 else [text]
        put = getattr(run.syntax, "put", None)
        numeric = rule.type in ("decimal", "integer") and rule.decimal != ","
        if put is not None and numeric and len(pieces) == 1:
            put(context, rule.paths[0], int(pieces[0]) if rule.type == "integer" else Decimal(pieces[0]))
            return
        for path, piece in zip(rule.paths, pieces, strict=False):
            run.syntax.write(context, path, piece)
        if rule.format_at is not None and rule.date is not None:
            fmt = rule.date.write or (rule.date.format if rule.date.format != "auto" else "102")
            run.syntax.write(run.syntax.holder(context, rule.paths[0]), rule.format_at, fmt)
    except MappingConfigError as exc:
        run.error(f"{rule.field}: cannot write at {rule.texts[0]}: {exc.message}", rule)


def _node_out(run: MappingRun, node: PNode, context: Any, current: Any, *, item: bool = False) -> None:
    if isinstance(node, PValue):
        _value_out(run, node, context, current, item=item)
        return
    value = current if item else (_lookup(current, node.name) if node.name else current)
    if isinstance(node, PList):
        values = value if isinstance(value, list) else []
        for i, rule in enumerate(node.items):
            if isinstance(rule, PGroup) and rule.each is not None:
                _node_out(run, rule, context, values, item=True)
            elif i < len(values):
                _node_out(run, rule, context, values[i], item=True)
        return
    if node.direction == "inbound":
        return
    if node.when is not None and not condition_holds(run, node.when, context, inbound=False, current=value):
        return
    if value in _EMPTY:
        if node.required:
            run.error(f"required {node.field} is missing from the canonical document", node)
        return
    try:
        if node.each is not None:
            for entry in value if isinstance(value, list) else [value]:
                scope = run.syntax.scope(context, node.each, new=True)
                if node.value is not None:
                    _node_out(run, node.value, scope, entry, item=True)
                else:
                    _fields_out(run, node, scope, entry)
            return
        scope = run.syntax.scope(context, node.scope, new=False) if node.scope is not None else context
    except MappingConfigError as exc:
        run.error(f"{node.field}: cannot create {node.scope_text}: {exc.message}", node)
        return
    _fields_out(run, node, scope, value)


def _fields_out(run: MappingRun, group: PGroup, context: Any, current: Any) -> None:
    for _key, child in group.fields:
        _node_out(run, child, context, current)


def map_outbound(mapping: CompiledMapping, data: dict[str, Any]) -> tuple[Any, MappingRun]:
    """The partner's tree built from canonical ``data`` (``model_dump(mode='json')``), and the run."""
    run = MappingRun(mapping)
    run.root = data
    tree = mapping.syntax.new_document()
    _fields_out(run, mapping.root, tree, data)
    return tree, run
