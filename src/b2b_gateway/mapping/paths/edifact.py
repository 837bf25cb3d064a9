"""EDIFACT paths that read like the standard: segment groups, segments, elements, with qualifier filters.

A path walks down the message's segment-group tree from the current scope, then names a data element
(and component) of the segment it reached, by the directory's ids::

    BGM/C106/1004                         document number
    DTM[C507/2005=137]/C507/2380          the DTM whose qualifier 2005 is 137, its date
    SG2[NAD/3035=BY]/NAD/C082/3039        the buyer's GLN: the NAD group whose 3035 is BY
    SG25                                  (as ``each``) every line item group
    QTY[C186/6063=21|113]/C186/6060       a filter may accept several codes
    C080/3036#2                           the second 3036 of C080 (``#n``: occurrence of a repeated id)
    NAD[2]                                the second NAD of the scope (after filtering)
    **/FTX[4451=AAO]/C108/4440            an FTX anywhere below the scope (a partner that puts it out of place)

Every step is checked against the message structure when the mapping is loaded: a segment that is
not directly in the current group, an element the segment does not have, or a qualifier that is not
a code of its element is a configuration error at the mapping file's line.

Writing (outbound) creates the groups and segments a path designates, in the order of the message
structure, and writes the filters' qualifiers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from b2b_gateway.errors import Location, MappingConfigError
from b2b_gateway.formats.edifact.directory import Directory, GroupDef, MessageDef, SegmentDef, SegmentRef
from b2b_gateway.formats.edifact.model import Group, Segment
from b2b_gateway.mapping.paths.base import Hit, split_top
from b2b_gateway.mapping.paths.edifact_select import Select, Test, chain, filter_test, select_step

__all__ = ["EdifactPath", "EdifactSyntax", "build_tree"]

_STEP = re.compile(r"^(?P<name>SG\d+|[A-Z]{3})(?P<preds>(\[[^\]]*\])*)$")


@dataclass(frozen=True, slots=True)
class _Filter:
    path: EdifactPath
    values: tuple[str, ...] = ()
    negate: bool = False
    test: Test = field(init=False, compare=False, repr=False)
    """The filter as a function of the node (see :mod:`.edifact_select`)."""

    def __post_init__(self) -> None:
        path = self.path
        own = not path.steps
        test = filter_test(None if own else path.select, path.element, self.values, negate=self.negate)
        object.__setattr__(self, "test", test)


@dataclass(frozen=True, slots=True)
class _Step:
    name: str
    is_group: bool
    filters: tuple[_Filter, ...] = ()
    index: int | None = None
    deep: bool = False
    """``**/TAG``: the segment anywhere below the scope (where a partner puts it out of place)."""
    select: Select = field(init=False, compare=False, repr=False)
    """The step as a function of the node it starts from."""

    def __post_init__(self) -> None:
        tests = tuple(f.test for f in self.filters)
        select = select_step(self.name, is_group=self.is_group, deep=self.deep, tests=tests, index=self.index)
        object.__setattr__(self, "select", select)


@dataclass(frozen=True, slots=True)
class EdifactPath:
    text: str
    steps: tuple[_Step, ...]
    element: tuple[int, int] | None = None
    """1-based (element, component) of the value, when the path ends at a data element."""
    element_id: str | None = None
    select: Select = field(init=False, compare=False, repr=False)
    """The nodes the steps reach from a node (the node itself when there are none)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "select", chain(tuple(s.select for s in self.steps)))


def _no_hit(context: Any) -> Hit | None:
    return None


class _SegmentHit(Hit):
    """A value read from a segment: located (segment, element, component) only when asked."""

    __slots__ = ("_at",)

    def __init__(self, value: str, segment: Segment, at: tuple[int, int]) -> None:
        self.value, self.holder, self._location, self._locate, self._at = value, segment, None, None, at

    @property
    def location(self) -> Location:
        found = self._location
        if found is None:
            found = self._location = self.holder.location(*self._at)
        return found


@dataclass(frozen=True, slots=True)
class Scope:
    """Compile-time context: the group (or the segment) a path is relative to."""

    group: GroupDef | None
    segment: SegmentDef | None = None


def _where(root: GroupDef, tag: str, trail: str = "") -> list[str]:
    out = []
    for child in root.children:
        if isinstance(child, SegmentRef) and child.tag == tag:
            out.append(trail or root.name)
        elif isinstance(child, GroupDef):
            out.extend(_where(child, tag, f"{trail}/{child.name}" if trail else child.name))
    return out


class EdifactSyntax:
    """Compiles EDIFACT paths against ``message`` of ``directory``; reads and builds ``Group`` trees."""

    name = "edifact"

    def __init__(self, directory: Directory, message: MessageDef) -> None:
        self.directory = directory
        self.message = message

    def root_scope(self) -> Scope:
        return Scope(self.message.root)

    # -- compiling ---------------------------------------------------------------------------------

    def compile(self, text: str, scope: Any) -> tuple[EdifactPath, Scope]:
        current: Scope = scope if isinstance(scope, Scope) else self.root_scope()
        parts = [p.strip() for p in split_top(text.strip(), "/") if p.strip()]
        if not parts:
            raise MappingConfigError("empty EDIFACT path")
        steps: list[_Step] = []
        i = 0
        while i < len(parts) and current.segment is None and (_STEP.match(parts[i]) or parts[i] == "**"):
            deep = parts[i] == "**"
            i += int(deep)
            if deep and (i >= len(parts) or not _STEP.match(parts[i]) or parts[i].startswith("SG")):
                raise MappingConfigError(f"path {text!r}: '**' must be followed by a segment tag")
            step, current = self._step(parts[i], current, text, deep=deep)
            steps.append(step)
            i += 1
        rest = parts[i:]
        if not rest:
            return EdifactPath(text, tuple(steps)), current
        if current.segment is None:
            raise MappingConfigError(
                f"path {text!r}: {rest[0]!r} is not a segment or group here",
                hint="name a segment (e.g. NAD) or a group (e.g. SG2) before its elements",
            )
        element = current.segment.locate("/".join(rest))
        ident = rest[-1].split("#")[0]
        return EdifactPath(text, tuple(steps), element, ident), current

    def _step(self, raw: str, scope: Scope, text: str, *, deep: bool = False) -> tuple[_Step, Scope]:
        m = _STEP.match(raw)
        assert m is not None and scope.group is not None
        name = m.group("name")
        is_group = name.startswith("SG")
        target: Scope
        if is_group:
            found = next((c for c in scope.group.children if isinstance(c, GroupDef) and c.name == name), None)
            if found is None:
                raise MappingConfigError(
                    f"path {text!r}: {self.message.type} has no group {name} directly in {scope.group.name}",
                    hint=f"groups here: {', '.join(c.name for c in scope.group.children if isinstance(c, GroupDef))}",
                )
            target = Scope(found)
        else:
            inside = _where(scope.group, name) if deep else []
            if not inside and not any(isinstance(c, SegmentRef) and c.tag == name for c in scope.group.children):
                places = _where(self.message.root, name)
                raise MappingConfigError(
                    f"path {text!r}: segment {name} is not in {scope.group.name} of {self.message.type}",
                    hint=f"{name} is in: {', '.join(places)}" if places else f"{self.message.type} has no {name}",
                )
            target = Scope(scope.group, self.directory.segment(name))
        filters: list[_Filter] = []
        index = None
        for pred in re.findall(r"\[([^\]]*)\]", m.group("preds")):
            pred = pred.strip()
            if pred.isdigit():
                index = int(pred)
                continue
            filters.append(self._filter(pred, target, text))
        return _Step(name, is_group, tuple(filters), index, deep), target

    def _filter(self, pred: str, scope: Scope, text: str) -> _Filter:
        m = re.fullmatch(r"(?P<path>[^=!]+?)\s*(?P<op>!?=)\s*(?P<values>.*)", pred)
        if m is None:
            path, _ = self.compile(pred, scope)
            return _Filter(path, (), negate=True)  # [path]: exists (none of no values)
        path, _ = self.compile(m.group("path"), scope)
        if path.element is None:
            raise MappingConfigError(f"path {text!r}: filter [{pred}] must end at a data element")
        values = tuple(v.strip().strip("'\"") for v in m.group("values").split("|"))
        codes = self.directory.code_list(path.element_id or "")
        bad = [v for v in values if codes is not None and v not in codes]
        if bad:
            raise MappingConfigError(
                f"path {text!r}: {', '.join(bad)} is not a code of data element {path.element_id}",
                hint=f"the {self.directory.name} code list of {path.element_id} has {len(codes or ())} codes",
            )
        return _Filter(path, values, negate=m.group("op") == "!=")

    # -- reading -----------------------------------------------------------------------------------

    def nodes(self, context: Any, path: EdifactPath) -> list[Any]:
        return list(path.select(context))  # a list of the caller's own (a step's answer may be an index's)

    def values(self, context: Any, path: EdifactPath) -> list[Hit]:
        at = path.element
        if at is None:
            return []
        element, component = at
        hits: list[Hit] = []
        for node in path.select(context):
            if isinstance(node, Segment):
                value = node.value(element, component)
                if value != "":
                    hits.append(_SegmentHit(value, node, at))
        return hits

    def first(self, path: EdifactPath) -> Callable[[Any], Hit | None]:
        """The first of :meth:`values` as a function of the context node, made once per path (the engine's
        plain values): it stops at the first non-empty value and lists nothing."""
        at = path.element
        if at is None:
            return _no_hit
        element, component = at
        select = path.select

        def first(context: Any) -> Hit | None:
            for node in select(context):
                if isinstance(node, Segment):
                    value = node.value(element, component)
                    if value != "":
                        return _SegmentHit(value, node, at)
            return None

        return first

    def locate(self, node: Any) -> Location:
        if isinstance(node, Segment):
            return node.location()
        if isinstance(node, Group) and node.trigger is not None:
            return node.trigger.location()
        return Location()

    # -- writing -----------------------------------------------------------------------------------

    def new_document(self) -> Group:
        return Group(self.message.type)

    def _def_of(self, group: Group) -> GroupDef:
        return self.message.root if group.name == self.message.type else self.message.group(group.name)

    def _order(self, gdef: GroupDef, node: Group | Segment) -> int:
        name = node.name if isinstance(node, Group) else node.tag
        for i, child in enumerate(gdef.children):
            if (isinstance(child, GroupDef) and child.name == name) or (
                isinstance(child, SegmentRef) and child.tag == name
            ):
                return i
        return len(gdef.children)

    def _insert(self, parent: Group, child: Group | Segment) -> None:
        gdef = self._def_of(parent)
        rank = self._order(gdef, child)
        at = len(parent.children)
        while at > 0 and self._order(gdef, parent.children[at - 1]) > rank:
            at -= 1
        parent.children.insert(at, child)

    def scope(self, context: Any, path: EdifactPath, *, new: bool) -> Any:
        node = context
        for i, step in enumerate(path.steps):
            node = self._child(node, step, new=new and i == len(path.steps) - 1)
        return node

    def _child(self, node: Any, step: _Step, *, new: bool) -> Group | Segment:
        if isinstance(node, Segment):
            raise MappingConfigError(f"cannot go below segment {node.tag} to {step.name}")
        if not new:
            found: list[Group | Segment] = step.select(node)
            if found:
                return found[0]
            reuse = self._single(node, step)
            if reuse is not None:
                for flt in step.filters:
                    if flt.values and not flt.negate:
                        self.write(reuse, flt.path, flt.values[0])
                return reuse
        child: Group | Segment
        if step.is_group:
            gdef = self.message.group(step.name)
            child = Group(step.name, [Segment(gdef.trigger)])
        else:
            child = Segment(step.name)
        self._insert(node, child)
        for flt in step.filters:
            if flt.values and not flt.negate:
                self.write(child, flt.path, flt.values[0])
        return child

    def _single(self, node: Group, step: _Step) -> Segment | None:
        """The segment ``step`` names when the group allows only one of it and already has it."""
        if step.is_group:
            return None
        ref = next((c for c in self._def_of(node).children if isinstance(c, SegmentRef) and c.tag == step.name), None)
        existing = node.segments(step.name)
        return existing[0] if ref is not None and ref.max_repeats == 1 and existing else None

    def write(self, context: Any, path: EdifactPath, value: str) -> None:
        node = self.scope(context, path, new=False) if path.steps else context
        if path.element is None or not isinstance(node, Segment):
            raise MappingConfigError(f"cannot write a value at {path.text!r}: the path must end at a data element")
        element, component = path.element
        while len(node.elements) < element:
            node.elements.append([""])
        comps = node.elements[element - 1]
        while len(comps) < component:
            comps.append("")
        comps[component - 1] = value

    def append(self, context: Any, path: EdifactPath, value: str) -> None:
        node = self.scope(context, path, new=True) if path.steps else context
        self.write(node, EdifactPath(path.text, (), path.element, path.element_id), value)

    def holder(self, context: Any, path: EdifactPath) -> Any:
        return self.scope(context, path, new=False) if path.steps else context

    def read(self, context: Any, path: EdifactPath) -> str | None:
        hits = self.values(context, path)
        return hits[0].value if hits else None


def build_tree(segments: list[Segment], message: MessageDef) -> Group:
    """Arrange a message's segments into its segment-group tree (what the validator does, in short).

    Used when a message comes without its tree. It reads leniently, as partners write: a segment out of
    order inside a group occurrence stays in that occurrence when no enclosing group can take it; a
    segment that fits nowhere stays at the root.
    """
    root = Group(message.type)
    i = 0
    while i < len(segments):
        i = _fill(root, message.root, segments, i, 0, lambda _tag: False)
        if i < len(segments):
            root.children.append(segments[i])
            i += 1
    return root


def _takes(gdef: GroupDef, tag: str, start: int) -> bool:
    for child in gdef.children[start:]:
        if (isinstance(child, SegmentRef) and child.tag == tag) or (
            isinstance(child, GroupDef) and child.trigger == tag
        ):
            return True
    return False


def _fill(node: Group, gdef: GroupDef, segs: list[Segment], i: int, first: int, up: Any) -> int:
    at = first
    while i < len(segs):
        tag = segs[i].tag
        for k in range(at, len(gdef.children)):
            child = gdef.children[k]
            if isinstance(child, SegmentRef) and child.tag == tag:
                node.children.append(segs[i])
                i += 1
                at = k
                break
            if isinstance(child, GroupDef) and child.trigger == tag:
                occurrence = Group(child.name, [segs[i]])
                node.children.append(occurrence)
                here = at = k

                def parent(t: str, _at: int = here) -> bool:
                    return _takes(gdef, t, _at) or bool(up(t))

                i = _fill(occurrence, child, segs, i + 1, 1, parent)
                break
        else:
            lenient = (
                first > 0 and not up(tag) and any(isinstance(c, SegmentRef) and c.tag == tag for c in gdef.children[1:])
            )
            if not lenient:
                return i
            node.children.append(segs[i])
            i += 1
    return i
