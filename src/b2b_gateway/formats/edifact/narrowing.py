"""Implementation-guide narrowing: a partner's rules that tighten a message definition, never widen it.

A rule names a message type and a path, and says what it narrows::

    SG2                         a group: require, forbid, max_repeats
    SG2/NAD                     a segment in a group: require, forbid, max_repeats
    BGM/C002/1001               an element or component: require, forbid, codes, max_length
    SG2/NAD[3035=SU]/C082/3039  the same, only in segments whose element 3035 is SU

:func:`check_rules` refuses (with :class:`~b2b_gateway.errors.PartnerConfigError`) a rule that names
something the directory does not have, or would widen it: codes outside the directory's code list, a
longer maximum length, more repeats, forbidding what is mandatory. :func:`apply_rules` reports what a
message breaks, located like every other finding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from b2b_gateway.errors import (
    CodeListError,
    GatewayError,
    Location,
    MappingConfigError,
    MissingError,
    PartnerConfigError,
    TooManyRepeatsError,
    UnexpectedError,
    ValueTooLongError,
)
from b2b_gateway.formats.edifact.directory import Directory, GroupDef, MessageDef, SegmentRef
from b2b_gateway.formats.edifact.model import EdifactMessage, Group, Segment

__all__ = ["NarrowingRule", "RulePath", "apply_rules", "check_rules", "parse_path"]

_GROUP = re.compile(r"SG\d+\Z")
_SEGMENT = re.compile(r"([A-Z][A-Z0-9]{2})(?:\[([A-Z0-9]{4})=([^\]]*)\])?\Z")


@dataclass(frozen=True, slots=True)
class NarrowingRule:
    """One rule (the format-level twin of ``partners.profile.Narrowing``)."""

    message: str
    path: str
    require: bool | None = None
    forbid: bool | None = None
    codes: tuple[str, ...] | None = None
    max_length: int | None = None
    max_repeats: int | None = None


@dataclass(frozen=True, slots=True)
class RulePath:
    """A parsed rule path: groups, then a segment (with an optional qualifier filter), then an element."""

    groups: tuple[str, ...]
    segment: str | None
    qualifier: tuple[str, str] | None
    element: str | None


def parse_path(path: str) -> RulePath:
    """Parse ``SG2/NAD[3035=BY]/C082/3039``. Raises PartnerConfigError when it is malformed."""
    parts = [p for p in path.strip().split("/") if p]
    groups: list[str] = []
    while parts and _GROUP.match(parts[0]):
        groups.append(parts.pop(0))
    if not parts:
        if not groups:
            raise PartnerConfigError(f"narrowing path {path!r} is empty")
        return RulePath(tuple(groups), None, None, None)
    m = _SEGMENT.match(parts[0])
    if m is None:
        raise PartnerConfigError(f"narrowing path {path!r}: {parts[0]!r} is not a segment tag or group")
    qualifier = (m.group(2), m.group(3)) if m.group(2) else None
    return RulePath(tuple(groups), m.group(1), qualifier, "/".join(parts[1:]) or None)


def _container(mdef: MessageDef, path: RulePath) -> GroupDef:
    return mdef.group(path.groups[-1]) if path.groups else mdef.root


def _segment_ref(group: GroupDef, tag: str, deep: bool) -> SegmentRef | None:
    for child in group.children:
        if isinstance(child, SegmentRef) and child.tag == tag:
            return child
        if deep and isinstance(child, GroupDef):
            found = _segment_ref(child, tag, deep)
            if found is not None:
                return found
    return None


def _problem(rule: NarrowingRule, text: str) -> PartnerConfigError:
    return PartnerConfigError(
        f"narrowing {rule.message} {rule.path!r}: {text}",
        hint="a narrowing may only tighten the directory (fewer codes, shorter values, fewer repeats)",
    )


def check_rules(rules: list[NarrowingRule], directory: Directory) -> list[PartnerConfigError]:
    """Every rule that names what ``directory`` does not define, or would widen it."""
    out: list[PartnerConfigError] = []
    for rule in rules:
        try:
            out.extend(_check(rule, directory))
        except (MappingConfigError, PartnerConfigError) as exc:
            out.append(_problem(rule, exc.message))
    return out


def _check(rule: NarrowingRule, directory: Directory) -> list[PartnerConfigError]:
    out: list[PartnerConfigError] = []
    if rule.require and rule.forbid:
        out.append(_problem(rule, "requires and forbids the same thing"))
    mdef = directory.message(rule.message)
    path = parse_path(rule.path)
    group = _container(mdef, path)
    if path.segment is None:
        limit, mandatory = group.max_repeats, group.mandatory
    else:
        ref = _segment_ref(group, path.segment, deep=not path.groups)
        if ref is None:
            raise PartnerConfigError(f"{path.segment} is not in {group.name} of {rule.message} {directory.name}")
        limit, mandatory = ref.max_repeats, ref.mandatory
        sdef = directory.segment(path.segment)
        if path.qualifier:
            sdef.locate(path.qualifier[0])
        if path.element:
            out.extend(_check_element(rule, directory, path.segment, path.element))
            return out
    if rule.max_repeats is not None and rule.max_repeats > limit:
        out.append(_problem(rule, f"max_repeats {rule.max_repeats} is more than the directory's {limit}"))
    if rule.forbid and mandatory:
        out.append(_problem(rule, "forbids what the directory makes mandatory"))
    if rule.codes is not None or rule.max_length is not None:
        out.append(_problem(rule, "codes and max_length apply to an element path (e.g. BGM/C002/1001)"))
    return out


def _check_element(rule: NarrowingRule, directory: Directory, tag: str, element: str) -> list[PartnerConfigError]:
    out: list[PartnerConfigError] = []
    sdef = directory.segment(tag)
    position, component = sdef.locate(element)
    edef = sdef.elements[position - 1]
    cdef = edef.components[component - 1] if edef.is_composite and "/" in element.strip("/") else None
    ident = cdef.id if cdef is not None else edef.id
    rep = cdef.representation if cdef is not None else edef.representation
    mandatory = cdef.mandatory if cdef is not None else edef.mandatory
    if rule.forbid and mandatory:
        out.append(_problem(rule, "forbids what the directory makes mandatory"))
    if rule.max_length is not None and rep is not None and rule.max_length > rep.max_length:
        out.append(_problem(rule, f"max_length {rule.max_length} is more than the directory's {rep}"))
    known = directory.code_list(ident)
    if rule.codes is not None and known is not None:
        extra = sorted(set(rule.codes) - known)
        if extra:
            out.append(_problem(rule, f"codes {', '.join(extra)} are not in the {directory.name} list of {ident}"))
    if rule.max_repeats is not None:
        out.append(_problem(rule, "max_repeats applies to a segment or group, not an element"))
    return out


def _groups_named(node: Group, name: str) -> list[Group]:
    found: list[Group] = []
    for child in node.children:
        if isinstance(child, Group):
            if child.name == name:
                found.append(child)
            found.extend(_groups_named(child, name))
    return found


class _Apply:
    def __init__(self, message: EdifactMessage, root: Group, directory: Directory):
        self.message, self.root, self.directory = message, root, directory
        self.out: list[GatewayError] = []

    def rule(self, rule: NarrowingRule) -> None:
        path = parse_path(rule.path)
        if path.segment is None:
            self.group_rule(rule, path.groups[-1])
            return
        scopes = _groups_named(self.root, path.groups[-1]) if path.groups else [self.root]
        for scope in scopes:
            segments = [s for s in (scope.segments() if path.groups else scope.walk()) if s.tag == path.segment]
            if path.qualifier:
                position, component = self.directory.segment(path.segment).locate(path.qualifier[0])
                segments = [s for s in segments if s.value(position, component) == path.qualifier[1]]
            if path.element:
                for seg in segments:
                    self.element_rule(rule, seg, path.element)
            else:
                self.count_rule(rule, segments, scope, f"segment {path.segment}")

    def group_rule(self, rule: NarrowingRule, name: str) -> None:
        parents = [self.root, *(g for g in self._all_groups(self.root))]
        total = 0
        for parent in parents:
            found = parent.groups(name)
            total += len(found)
            if rule.max_repeats is not None and len(found) > rule.max_repeats:
                self.out.append(
                    TooManyRepeatsError(
                        f"group {name} occurs {len(found)} times; this partner allows {rule.max_repeats}",
                        location=self._where(found[rule.max_repeats]),
                        contrl="36",
                    )
                )
            if rule.forbid:
                self.out.extend(
                    UnexpectedError(f"group {name} is not used with this partner", location=self._where(g), contrl="15")
                    for g in found
                )
        if rule.require and total == 0:
            self.out.append(MissingError(f"group {name} is required by this partner", location=self._end()))

    def count_rule(self, rule: NarrowingRule, segments: list[Segment], scope: Group, what: str) -> None:
        if rule.require and not segments:
            where = scope.trigger.location() if scope.trigger is not None and scope is not self.root else self._end()
            self.out.append(MissingError(f"{what} is required by this partner", location=where))
        if rule.forbid:
            self.out.extend(
                UnexpectedError(f"{what} is not used with this partner", location=s.location(), contrl="15")
                for s in segments
            )
        if rule.max_repeats is not None and len(segments) > rule.max_repeats:
            self.out.append(
                TooManyRepeatsError(
                    f"{what} occurs {len(segments)} times; this partner allows {rule.max_repeats}",
                    location=segments[rule.max_repeats].location(),
                )
            )

    def element_rule(self, rule: NarrowingRule, seg: Segment, element: str) -> None:
        position, component = self.directory.segment(seg.tag).locate(element)
        value = seg.value(position, component)
        where = seg.location(position, component)
        if rule.require and not value:
            self.out.append(MissingError(f"{seg.tag} {element} is required by this partner", location=where))
        if rule.forbid and value:
            self.out.append(
                UnexpectedError(f"{seg.tag} {element} is not used with this partner", location=where, contrl="15")
            )
        if value and rule.codes is not None and value not in rule.codes:
            self.out.append(
                CodeListError(
                    f"{seg.tag} {element}: {value!r} is not a code agreed with this partner",
                    location=where,
                    hint=f"agreed: {', '.join(rule.codes)}",
                )
            )
        if value and rule.max_length is not None and len(value) > rule.max_length:
            self.out.append(
                ValueTooLongError(
                    f"{seg.tag} {element}: {value!r} is longer than the {rule.max_length} agreed with this partner",
                    location=where,
                )
            )

    def _all_groups(self, node: Group) -> list[Group]:
        out: list[Group] = []
        for child in node.groups():
            out.append(child)
            out.extend(self._all_groups(child))
        return out

    def _where(self, group: Group) -> Location | None:
        trigger = group.trigger
        return trigger.location() if trigger is not None else self._end()

    def _end(self) -> Location | None:
        last = self.message.segments[-1] if self.message.segments else None
        return last.location() if last is not None else None


def apply_rules(
    rules: list[NarrowingRule], message: EdifactMessage, root: Group, directory: Directory
) -> list[GatewayError]:
    """Every way ``message`` (with its tree ``root``) breaks the ``rules`` for its message type.

    Rules must have passed :func:`check_rules` for ``directory``; others are skipped.
    """
    runner = _Apply(message, root, directory)
    for rule in rules:
        if rule.message != message.type or check_rules([rule], directory):
            continue
        runner.rule(rule)
    return runner.out
