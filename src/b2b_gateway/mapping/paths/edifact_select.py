"""EDIFACT path steps made into functions once, when a mapping is loaded.

A mapping reads about a hundred paths from each message. Interpreting each path's steps and filters
at every read cost more than the reading itself, so each step, filter and path is turned into a
function of the node it starts from when it is compiled (see :mod:`.edifact`), and reading calls it.

The functions do what the step says and nothing else:

- a step keeps the children of a group that have its name (segments by tag, groups by name, looked
  up in the group's index, :meth:`Group.named`), or, for ``**/TAG``, every segment below the group
  with that tag;
- then those that pass every filter;
- then the n-th of them when the step has an index (``NAD[2]``).

A filter holds when the values its path finds (non-empty ones) include one of its codes; ``!=``
holds when none of them is one; a filter without codes holds when its path finds a value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from b2b_gateway.formats.edifact.model import Group, Segment

__all__ = ["Select", "Test", "chain", "filter_test", "select_step", "texts"]

Select = Callable[[Any], "list[Any]"]
"""The nodes a step or a path reaches from a node (a ``Group``; anything else reaches nothing)."""

Test = Callable[[Any], bool]
"""Whether a node passes a filter."""


def _none(_node: Any) -> list[Any]:
    return []


def _itself(node: Any) -> list[Any]:
    return [node]


def select_step(name: str, *, is_group: bool, deep: bool, tests: tuple[Test, ...], index: int | None) -> Select:
    """The function of one step: children named ``name``, filtered, then the ``index``-th (1-based)."""
    base: Select
    if deep:

        def base(node: Any) -> list[Any]:
            return [s for s in node.walk() if s.tag == name] if isinstance(node, Group) else []

    else:
        key = "/" + name if is_group else name

        def base(node: Any) -> list[Any]:
            return node.named(key) if isinstance(node, Group) else []

    filtered: Select = base
    if len(tests) == 1:
        (test,) = tests

        def filtered(node: Any) -> list[Any]:
            return [c for c in base(node) if test(c)]

    elif tests:

        def filtered(node: Any) -> list[Any]:
            return [c for c in base(node) if all(t(c) for t in tests)]

    if index is None:
        return filtered
    start = index - 1

    def nth(node: Any) -> list[Any]:
        return filtered(node)[start:index]

    return nth


def chain(selects: tuple[Select, ...]) -> Select:
    """The function of a path: each step from every node the step before reached (no steps: the node)."""
    if not selects:
        return _itself
    if len(selects) == 1:
        return selects[0]
    first, rest = selects[0], selects[1:]

    def walk(node: Any) -> list[Any]:
        current = first(node)
        for select in rest:
            if not current:
                return current
            current = [c for n in current for c in select(n)]
        return current

    return walk


def texts(select: Select | None, element: tuple[int, int] | None) -> Callable[[Any], list[str]]:
    """The non-empty values at ``element`` of the segments ``select`` reaches (of the node itself without it)."""
    if element is None:
        return _none
    at_element, at_component = element
    if select is None:

        def own(node: Any) -> list[str]:
            value = node.value(at_element, at_component) if isinstance(node, Segment) else ""
            return [value] if value else []

        return own

    def found(node: Any) -> list[str]:
        out = []
        for seg in select(node):
            if isinstance(seg, Segment):
                value = seg.value(at_element, at_component)
                if value != "":
                    out.append(value)
        return out

    return found


def filter_test(
    select: Select | None, element: tuple[int, int] | None, values: tuple[str, ...], *, negate: bool
) -> Test:
    """The function of a filter whose path is ``select`` then ``element`` (``select`` ``None``: the node's own)."""
    read = texts(select, element)
    if not values:

        def exists(node: Any) -> bool:
            return bool(read(node))

        return exists
    codes = frozenset(values)
    if select is None and element is not None:  # the commonest: a qualifier of the segment itself
        at_element, at_component = element

        def qualifier(node: Any) -> bool:
            value = node.value(at_element, at_component) if isinstance(node, Segment) else ""
            return (value != "" and value in codes) != negate

        return qualifier

    def some(node: Any) -> bool:
        return any(v in codes for v in read(node)) != negate

    return some
