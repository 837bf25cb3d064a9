"""Walking a message through its branching diagram: the segment-group tree, with every structure finding.

The walk is a look-ahead state machine over a stack of open group occurrences. For each segment it
looks, from the innermost open group outwards, for the first place at or after the current position
where the tag fits (a segment of that group, or the trigger of a nested group); a tag that fits a
position whose maximum is reached is looked for further on and further out (``NAD`` after ``NAD`` in
``SG2`` opens a new ``SG2``) before it counts as too many repetitions. Mandatory segments and groups
skipped on the way, or left out when a group closes, are reported missing; a segment that fits
nowhere is reported unexpected and kept in the tree where it was met.

The walk depends on the segments' tags alone. A sequence of tags walked without a finding is
remembered on the message definition with the steps the walk took, and the next message of the same
shape has its tree built from those steps, without the walk (``MessageDef.shapes``: 256 shapes and
50,000 tags at most).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from b2b_gateway.errors import GatewayError, Location, MissingError, Severity, TooManyRepeatsError, UnexpectedError
from b2b_gateway.formats.edifact.directory import GroupDef, MessageDef, SegmentRef
from b2b_gateway.formats.edifact.model import Group, Segment

__all__ = ["build_tree"]


@dataclass(slots=True)
class _Frame:
    gdef: GroupDef
    node: Group
    pos: int = -1
    counts: list[int] = field(default_factory=list)


def _describe(child: SegmentRef | GroupDef) -> str:
    if isinstance(child, SegmentRef):
        return f"segment {child.tag}"
    return f"group {child.name} (starting with {child.trigger})"


_Step = tuple[int, "str | None"]
"""What placing one segment did: how many open groups it closed, and the group it opened (or ``None``)."""

_SHAPES = 256
"""Shapes (tag sequences) remembered per message definition, at most (they start again when full)."""
_TAGS = 50_000
"""Tags remembered per message definition, at most, all shapes together (a few MB): big messages
seldom repeat their shape, and a longer shape is not remembered."""


class _Walk:
    def __init__(self, mdef: MessageDef, severity: Severity):
        self.root = Group(mdef.type)
        self.stack = [_Frame(mdef.root, self.root, -1, [0] * len(mdef.root.children))]
        self.severity: Severity = severity
        self.errors: list[GatewayError] = []
        self.steps: list[_Step] = []

    def add(self, error: GatewayError) -> None:
        error.severity = self.severity
        self.errors.append(error)

    def find(self, frame: _Frame, tag: str, respect_max: bool) -> int | None:
        pos = frame.pos
        for j in frame.gdef.positions(tag):
            if j < pos:
                continue
            if not respect_max or j != pos or frame.counts[j] < frame.gdef.children[j].max_repeats:
                return j
        return None

    def place(self, seg: Segment) -> None:
        for respect_max in (True, False):
            for depth in range(len(self.stack) - 1, -1, -1):
                j = self.find(self.stack[depth], seg.tag, respect_max)
                if j is not None:
                    self.enter(depth, j, seg, too_many=not respect_max)
                    return
        frame = self.stack[-1]
        self.add(
            UnexpectedError(
                f"segment {seg.tag} is not allowed here in {self.root.name}"
                + (f" (group {frame.gdef.name})" if frame.node is not self.root else ""),
                location=seg.location(),
                contrl="15",
            )
        )
        frame.node.children.append(seg)

    def enter(self, depth: int, j: int, seg: Segment, too_many: bool) -> None:
        closed = len(self.stack) - depth - 1
        while len(self.stack) > depth + 1:
            self.close(self.stack.pop(), seg)
        frame = self.stack[depth]
        if j > frame.pos + 1:
            self.skip(frame, j, seg)
        child = frame.gdef.children[j]
        frame.counts[j] += 1
        frame.pos = j
        if too_many:
            what = "segment" if isinstance(child, SegmentRef) else "group"
            self.add(
                TooManyRepeatsError(
                    f"{_describe(child)} occurs {frame.counts[j]} times; at most {child.max_repeats} allowed",
                    location=seg.location(),
                    contrl="35" if what == "segment" else "36",
                )
            )
        if isinstance(child, SegmentRef):
            frame.node.children.append(seg)
            self.steps.append((closed, None))
            return
        self.steps.append((closed, child.name))
        group = Group(child.name, [seg])
        frame.node.children.append(group)
        counts = [0] * len(child.children)
        counts[0] = 1
        self.stack.append(_Frame(child, group, 0, counts))

    def skip(self, frame: _Frame, j: int, where: Segment | Location) -> None:
        """Report mandatory children between the frame's position and ``j`` that never occurred."""
        for k in range(frame.pos + 1, j):
            child = frame.gdef.children[k]
            if child.mandatory and frame.counts[k] == 0:
                self.missing(child, frame, where)

    def close(self, frame: _Frame, where: Segment | Location) -> None:
        self.skip(frame, len(frame.gdef.children), where)

    def missing(self, child: SegmentRef | GroupDef, frame: _Frame, where: Segment | Location) -> None:
        inside = f" in group {frame.gdef.name}" if frame.node is not self.root else ""
        self.add(
            MissingError(
                f"mandatory {_describe(child)} is missing{inside}",
                location=where.location() if isinstance(where, Segment) else where,
                details={"missing": child.tag if isinstance(child, SegmentRef) else child.name},
            )
        )

    def finish(self, where: Location) -> None:
        while self.stack:
            self.close(self.stack.pop(), where)


def build_tree(
    segments: list[Segment], mdef: MessageDef, *, severity: Severity = "error"
) -> tuple[Group, list[GatewayError]]:
    """The segment-group tree of a message's ``segments`` (UNH to UNT) under ``mdef``, and every finding.

    Args:
        segments: the message's segments, UNH first.
        mdef: the message definition.
        severity: of the findings (``warning`` when the directory is a substitute).
    """
    shape = tuple([s.tag for s in segments])
    steps = mdef.shapes.get(shape)
    if steps is not None:
        return _replay(segments, steps, mdef.type), []
    walk = _Walk(mdef, severity)
    for seg in segments:
        walk.place(seg)
    end = segments[-1].location() if segments else Location()
    walk.finish(end)
    if not walk.errors and len(shape) <= _TAGS:
        _remember(mdef.shapes, shape, walk.steps)
    return walk.root, walk.errors


def _remember(shapes: dict[tuple[str, ...], tuple[_Step, ...]], shape: tuple[str, ...], steps: list[_Step]) -> None:
    """Keep ``shape`` and its steps, sharing equal tags and steps (the tags of the message read would
    keep their text alive), within :data:`_SHAPES` and :data:`_TAGS`."""
    if len(shapes) >= _SHAPES or sum(map(len, shapes)) + len(shape) > _TAGS:
        shapes.clear()
    same: dict[_Step, _Step] = {}
    shapes[tuple(map(sys.intern, shape))] = tuple([same.setdefault(step, step) for step in steps])


def _replay(segments: list[Segment], steps: tuple[_Step, ...], name: str) -> Group:
    """The tree a walk without findings built for the same tags: the walk depends on the tags alone.

    Partners send the same shapes of message over and over (an order of ten lines is the same
    sequence of tags as the next one), so a shape is walked once and its tree built again from the
    steps that walk took.
    """
    root = Group(name)
    stack = [root]
    for seg, (closed, group) in zip(segments, steps, strict=True):
        if closed:
            del stack[-closed:]
        if group is None:
            stack[-1].children.append(seg)
        else:
            node = Group(group, [seg])
            stack[-1].children.append(node)
            stack.append(node)
    return root
