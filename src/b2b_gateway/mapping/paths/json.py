"""JSON paths: a JSON pointer (``/order/lines/0/qty``) or a small dotted syntax.

Dotted syntax, relative to the current object::

    orderNumber                  a member
    buyer.gln                    nested members
    lines[0]  lines[*]           an array item, every item
    parties[role=buyer].id       the items whose ``role`` is ``buyer`` (several values: ``[role=BY|buyer]``)
    .                            the current value itself

Writing (outbound) creates the objects and arrays a path needs; a filter writes its key (``role``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from b2b_gateway.errors import Location, MappingConfigError
from b2b_gateway.mapping.paths.base import Hit, split_top

__all__ = ["JsonPath", "JsonSyntax"]

_STEP = re.compile(r"^(?P<name>[^\[\]]*)(?P<preds>(\[[^\]]*\])*)$")


@dataclass(frozen=True, slots=True)
class _Step:
    name: str
    index: int | None = None
    every: bool = False
    key: str | None = None
    accepted: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class JsonPath:
    text: str
    steps: tuple[_Step, ...]


def _unescape(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")


def _parse_step(raw: str, text: str) -> _Step:
    m = _STEP.match(raw.strip())
    if m is None or (not m.group("name") and not m.group("preds")):
        raise MappingConfigError(f"bad JSON path {text!r}: cannot read step {raw!r}")
    step = _Step(m.group("name"))
    for pred in re.findall(r"\[([^\]]*)\]", m.group("preds")):
        pred = pred.strip()
        if pred == "*":
            step = _Step(step.name, every=True, key=step.key, accepted=step.accepted)
        elif pred.isdigit():
            step = _Step(step.name, index=int(pred), key=step.key, accepted=step.accepted)
        elif "=" in pred:
            key, _, value = pred.partition("=")
            accepted = tuple(v.strip().strip("'\"") for v in value.split("|"))
            step = _Step(step.name, step.index, True, key.strip(), accepted)
        else:
            raise MappingConfigError(f"bad JSON path {text!r}: predicate [{pred}] is not [n], [*] or [key=value]")
    return step


def parse_json_path(text: str) -> JsonPath:
    """Compile a pointer or dotted path. Raises MappingConfigError when it is malformed."""
    text = text.strip()
    if text in (".", "", "/"):
        return JsonPath(text, ())
    if text.startswith("/"):
        steps = []
        for part in text[1:].split("/"):
            name = _unescape(part)
            steps.append(_Step("", index=int(name)) if name.isdigit() else _Step(name))
        return JsonPath(text, tuple(steps))
    return JsonPath(text, tuple(_parse_step(p, text) for p in split_top(text, ".")))


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | float):
        return format(value, "f") if isinstance(value, Decimal) else repr(value)
    text = str(value)
    return text if text != "" else None


def _matches(item: Any, step: _Step) -> bool:
    if step.key is None:
        return True
    if not isinstance(item, dict):
        return False
    return _text(item.get(step.key)) in step.accepted


class JsonSyntax:
    """Reads and writes JSON values (dicts, lists, scalars) addressed by :class:`JsonPath`."""

    name = "json"

    def compile(self, text: str, scope: Any) -> tuple[JsonPath, Any]:
        return parse_json_path(text), None

    # -- reading -----------------------------------------------------------------------------------

    def _walk(self, context: Any, path: JsonPath) -> list[tuple[Any, str]]:
        value, base = (context.value, context.pointer) if isinstance(context, _Located) else (context, "")
        current: list[tuple[Any, str]] = [(value, base)]
        for step in path.steps:
            nxt: list[tuple[Any, str]] = []
            for node, pointer in current:
                child, ptr = node, pointer
                if step.name:
                    if not isinstance(node, dict) or step.name not in node:
                        continue
                    child = node[step.name]
                    ptr = f"{pointer}/{step.name.replace('~', '~0').replace('/', '~1')}"
                if step.index is not None or step.every or step.key is not None:
                    if not isinstance(child, list):
                        if step.key is not None and _matches(child, step):
                            nxt.append((child, ptr))
                        continue
                    items = list(enumerate(child))
                    if step.key is not None:
                        items = [(i, v) for i, v in items if _matches(v, step)]
                    if step.index is not None:
                        items = [(i, v) for i, v in (items if step.key else list(enumerate(child))) if i == step.index]
                    nxt.extend((v, f"{ptr}/{i}") for i, v in items)
                else:
                    nxt.append((child, ptr))
            current = nxt
        return current

    def nodes(self, context: Any, path: JsonPath) -> list[Any]:
        found = self._walk(context, path)
        out: list[Any] = []
        for value, pointer in found:
            if isinstance(value, list) and not (path.steps and path.steps[-1].every):
                out.extend(_Located(v, f"{pointer}/{i}") for i, v in enumerate(value))
            else:
                out.append(_Located(value, pointer))
        return out

    def values(self, context: Any, path: JsonPath) -> list[Hit]:
        hits = []
        for value, pointer in self._walk(context, path):
            items = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
            for i, item in items:
                text = _text(item)
                if text is not None:
                    ptr = pointer if i is None else f"{pointer}/{i}"
                    hits.append(Hit(text, Location(json_pointer=ptr), context))
        return hits

    def locate(self, node: Any) -> Location:
        return Location(json_pointer=node.pointer) if isinstance(node, _Located) else Location(json_pointer="")

    # -- writing -----------------------------------------------------------------------------------

    def new_document(self) -> dict[str, Any]:
        return {}

    def scope(self, context: Any, path: JsonPath, *, new: bool) -> Any:
        node = context
        for i, step in enumerate(path.steps):
            last = i == len(path.steps) - 1
            node = self._child(node, step, new=new and last, leaf=False)
        return node

    def _child(self, node: Any, step: _Step, *, new: bool, leaf: bool) -> Any:
        listy = step.every or step.key is not None or step.index is not None
        if step.name:
            if not isinstance(node, dict):
                raise MappingConfigError(f"cannot write member {step.name!r} into a JSON {type(node).__name__}")
            if step.name not in node:
                node[step.name] = [] if (listy or new) else ({} if not leaf else None)
            child = node[step.name]
        else:
            child = node
        if not (listy or (new and isinstance(child, list))):
            return child
        if not isinstance(child, list):
            raise MappingConfigError(f"JSON member {step.name!r} is not an array")
        if not new:
            for item in child:
                if step.key is not None and _matches(item, step):
                    return item
            if step.index is not None and step.index < len(child):
                return child[step.index]
        created: dict[str, Any] = {step.key: step.accepted[0]} if step.key is not None else {}
        child.append(created)
        return created

    def write(self, context: Any, path: JsonPath, value: str) -> None:
        self.put(context, path, value)

    def put(self, context: Any, path: JsonPath, value: Any) -> None:
        """Set a typed value (numbers stay numbers in JSON)."""
        if not path.steps:
            return
        node = self.scope(context, JsonPath(path.text, path.steps[:-1]), new=False) if len(path.steps) > 1 else context
        last = path.steps[-1]
        if last.every:
            self._child(node, _Step(last.name, every=True), new=False, leaf=True)
            node[last.name].append(value)
        elif last.index is not None or last.key is not None:
            raise MappingConfigError(f"cannot write a value at {path.text!r}: end the path with a member name")
        elif isinstance(node, dict):
            node[last.name] = value

    def append(self, context: Any, path: JsonPath, value: str) -> None:
        if path.steps and not path.steps[-1].every:
            path = JsonPath(path.text, (*path.steps[:-1], _Step(path.steps[-1].name, every=True)))
        self.put(context, path, value)

    def holder(self, context: Any, path: JsonPath) -> Any:
        return self.scope(context, JsonPath(path.text, path.steps[:-1]), new=False) if len(path.steps) > 1 else context

    def read(self, context: Any, path: JsonPath) -> str | None:
        hits = self.values(context, path)
        return hits[0].value if hits else None


@dataclass(frozen=True, slots=True)
class _Located:
    value: Any
    pointer: str
