"""Walking a message through its branching diagram: the segment-group tree, with every structure finding.

The walk is a look-ahead state machine over a stack of open group occurrences. For each segment it
looks, from the innermost open group outwards, for the first place at or after the current position
where the tag fits (a segment of that group, or the trigger of a nested group); a tag that fits a
position whose maximum is reached is looked for further on and further out (``NAD`` after ``NAD`` in
``SG2`` opens a new ``SG2``) before it counts as too many repetitions. Mandatory segments and groups
skipped on the way, or left out when a group closes, are reported missing; a segment that fits
nowhere is reported unexpected and kept in the tree where it was met.
"""

from __future__ import annotations

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


class _Walk:
    def __init__(self, mdef: MessageDef, severity: Severity):
        self.root = Group(mdef.type)
        self.stack = [_Frame(mdef.root, self.root, -1, [0] * len(mdef.root.children))]
        self.severity: Severity = severity
        self.errors: list[GatewayError] = []

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
            return
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
    walk = _Walk(mdef, severity)
    for seg in segments:
        walk.place(seg)
    end = segments[-1].location() if segments else Location()
    walk.finish(end)
    return walk.root, walk.errors
