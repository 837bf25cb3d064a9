"""Element-level checks of one segment against its definition: presence, constituents, representation,
lengths and code lists.

Representation (ISO 9735): ``a`` alphabetic (no digits), ``n`` numeric, ``an`` anything. For ``n`` the
length counts the digits only (sign and decimal mark do not count), either decimal mark (``.`` or
``,``) is accepted, a leading minus sign is allowed, and the decimal mark needs a digit before it
(0085 code 38) and after it (code 19).

Each finding is located on the segment with 1-based element and component positions (UCD 0098/0104).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from b2b_gateway.errors import (
    CodeListError,
    GatewayError,
    MissingError,
    RepresentationError,
    Severity,
    TooManyRepeatsError,
    ValueTooLongError,
    ValueTooShortError,
)
from b2b_gateway.formats.edifact.directory import Directory, Representation, SegmentDef
from b2b_gateway.formats.edifact.model import Segment

__all__ = ["ElementLimits", "check_segment", "check_value"]

_DIGITS = re.compile(r"\d+\Z")
_HAS_DIGIT = re.compile(r"\d")


@dataclass(frozen=True, slots=True)
class ElementLimits:
    """Extra limits an implementation guide puts on one element (see ``narrowing``)."""

    codes: frozenset[str] | None = None
    max_length: int | None = None


def check_value(
    value: str, rep: Representation, name: str, seg: Segment, element: int, component: int | None
) -> GatewayError | None:
    """The representation or length problem of one non-empty value, or ``None``."""
    problem = _problem(value, rep)
    if problem is None:
        return None
    cls, text, code = problem
    error = cls(f"{seg.tag} {name}: {value!r} {text}", location=seg.location(element, component))
    if code:
        error.ack = replace(error.ack, contrl=code)  # type: ignore[misc]
    return error


_Problem = tuple[type[GatewayError], str, str | None]


def _problem(value: str, rep: Representation) -> _Problem | None:
    size = len(value)
    if rep.kind == "n":
        digits = value[1:] if value[:1] == "-" else value
        if not digits.isdigit():
            mark = "." if "." in digits else "," if "," in digits else ""
            whole, _, fraction = digits.partition(mark) if mark else (digits, "", "")
            if not _DIGITS.match(whole + fraction):
                return RepresentationError, f"is not numeric ({rep})", "37"
            if not whole:
                return RepresentationError, "needs a digit before the decimal mark", "38"
            if not fraction:
                return RepresentationError, "ends with a decimal mark", "19"
            size = len(whole) + len(fraction)
        else:
            size = len(digits)
    elif rep.kind == "a" and _HAS_DIGIT.search(value):
        return RepresentationError, f"holds digits but is alphabetic ({rep})", "37"
    if size > rep.max_length:
        return ValueTooLongError, f"is {size} long, more than {rep.max_length} ({rep})", None
    if size < rep.min_length:
        return ValueTooShortError, f"is {size} long, less than {rep.min_length} ({rep})", None
    return None


class _SegmentCheck:
    def __init__(
        self,
        seg: Segment,
        sdef: SegmentDef,
        directory: Directory,
        structure: Severity,
        limits: dict[tuple[int, int], ElementLimits],
        codes: Severity,
    ):
        self.seg, self.sdef, self.directory = seg, sdef, directory
        self.structure = structure
        self.codes: Severity = "warning" if structure == "warning" else codes
        self.limits = limits
        self.out: list[GatewayError] = []

    def run(self) -> list[GatewayError]:
        seg, sdef = self.seg, self.sdef
        elements = seg.elements
        reps = seg.repetitions
        if reps:
            for index in sorted(reps):
                self.add(
                    TooManyRepeatsError(
                        f"{seg.tag} element {index + 1} is repeated {len(reps[index])} times but does not repeat",
                        location=seg.location(index + 1),
                    )
                )
        for extra in range(len(sdef.elements), len(elements)):
            if any(elements[extra]):
                self.add(
                    TooManyRepeatsError(
                        f"{seg.tag} has {len(elements)} data elements; its definition has {len(sdef.elements)}",
                        location=seg.location(extra + 1),
                        contrl="16",
                    )
                )
                break
        for edef in sdef.elements:
            comps = elements[edef.position - 1] if edef.position <= len(elements) else []
            if not any(comps):
                if edef.mandatory:
                    self.add(
                        MissingError(
                            f"{seg.tag}: mandatory element {edef.id} ({edef.name}) is missing",
                            location=seg.location(edef.position),
                        )
                    )
                continue
            if edef.is_composite:
                self.composite(edef.position, edef.id, comps)
            else:
                if len(comps) > 1 and any(comps[1:]):
                    self.add(
                        TooManyRepeatsError(
                            f"{seg.tag} element {edef.id} is simple but has {len(comps)} components",
                            location=seg.location(edef.position, 2),
                            contrl="16",
                        )
                    )
                assert edef.representation is not None
                self.value(comps[0], edef.representation, edef.id, edef.id, edef.position, None)
        return self.out

    def composite(self, position: int, ident: str, comps: list[str]) -> None:
        seg = self.seg
        edef = self.sdef.elements[position - 1]
        if len(comps) > len(edef.components) and any(comps[len(edef.components) :]):
            self.add(
                TooManyRepeatsError(
                    f"{seg.tag} {ident} has {len(comps)} components; its definition has {len(edef.components)}",
                    location=seg.location(position, len(edef.components) + 1),
                    contrl="16",
                )
            )
        for cdef in edef.components:
            value = comps[cdef.position - 1] if cdef.position <= len(comps) else ""
            if not value:
                if cdef.mandatory:
                    self.add(
                        MissingError(
                            f"{seg.tag} {ident}: mandatory component {cdef.id} ({cdef.name}) is missing",
                            location=seg.location(position, cdef.position),
                        )
                    )
                continue
            self.value(value, cdef.representation, cdef.id, f"{ident}/{cdef.id}", position, cdef.position)

    def value(
        self, value: str, rep: Representation, ident: str, name: str, element: int, component: int | None
    ) -> None:
        seg = self.seg
        if _problem(value, rep) is not None:
            problem = check_value(value, rep, name, seg, element, component)
            if problem is not None:
                self.out.append(problem)
        codes = self.directory.code_list(ident)
        if codes is not None and value not in codes:
            self.out.append(
                CodeListError(
                    f"{seg.tag} {name}: {value!r} is not a code of {ident} in {self.directory.name}",
                    location=seg.location(element, component),
                    severity=self.codes,
                )
            )
        limit = self.limits.get((element, component or 1)) if self.limits else None
        if limit is None:
            return
        if limit.codes is not None and value not in limit.codes:
            self.out.append(
                CodeListError(
                    f"{seg.tag} {name}: {value!r} is not one of the codes agreed with this partner",
                    location=seg.location(element, component),
                    hint=f"agreed: {', '.join(sorted(limit.codes))}",
                )
            )
        if limit.max_length is not None and len(value) > limit.max_length:
            self.out.append(
                ValueTooLongError(
                    f"{seg.tag} {name}: {value!r} is longer than the {limit.max_length} agreed with this partner",
                    location=seg.location(element, component),
                )
            )

    def add(self, error: GatewayError) -> None:
        """A structural finding: an error, or a warning when the directory is only a substitute."""
        error.severity = self.structure
        self.out.append(error)


_Comp = tuple[int, str, bool, Representation, "frozenset[str] | None"]
_Elem = tuple[int, bool, "Representation | None", "tuple[_Comp, ...]", "frozenset[str] | None"]


_MEMO_SIZE = 1024
"""Clean segment texts remembered per segment definition, at most (the set starts again when full)."""
_MEMO_TEXT = 160
"""The longest segment text remembered (long free texts seldom repeat): with :data:`_MEMO_SIZE`, a
few hundred KB a segment tag at most."""


def _plan(sdef: SegmentDef, directory: Directory) -> tuple[tuple[_Elem, ...], set[str]]:
    """The checks of ``sdef`` flattened for :func:`_clean`, and the texts of read segments found clean
    (both cached on the directory)."""
    found = directory.plans.get(sdef.tag)
    if found is None or found[0] is not sdef:
        elements: list[_Elem] = []
        for edef in sdef.elements:
            comps = tuple(
                (c.position, c.id, c.mandatory, c.representation, directory.code_list(c.id)) for c in edef.components
            )
            codes = None if edef.is_composite else directory.code_list(edef.id)
            elements.append((edef.position, edef.mandatory, edef.representation, comps, codes))
        found = directory.plans[sdef.tag] = (sdef, tuple(elements), set())
    return found[1], found[2]


def _clean_memo(seg: Segment, sdef: SegmentDef, directory: Directory) -> bool:
    """:func:`_clean`, remembered for segments read with the usual separators.

    Partners send the same segments over and over (their parties, currencies, terms, the same
    products), and the elements of a read segment follow from its text and the source's separators
    alone (:meth:`~b2b_gateway.formats.edifact.model.Segment.text_key`): a text found clean once is
    clean again. Only clean texts are remembered; a finding is always worked out in full.
    """
    plan, known = _plan(sdef, directory)
    text = seg.text_key()
    if text is None or len(text) > _MEMO_TEXT:
        return _clean(seg, plan)
    if text in known:
        return True
    if not _clean(seg, plan):
        return False
    if len(known) >= _MEMO_SIZE:
        known.clear()
    known.add(text)
    return True


def _fine(value: str, rep: Representation, codes: frozenset[str] | None) -> bool:
    if codes is not None and value not in codes:
        return False
    if rep.kind == "an" or (rep.kind == "n" and value.isdigit()):
        return rep.min_length <= len(value) <= rep.max_length
    return _problem(value, rep) is None


def _clean(seg: Segment, plan: tuple[_Elem, ...]) -> bool:
    """Whether ``seg`` passes every check of ``plan`` (fast; the full check explains a ``False``)."""
    elements = seg.elements
    if len(elements) > len(plan) or seg.repetitions:
        return False
    empty: list[str] = []
    for position, mandatory, rep, comps_plan, codes in plan:
        comps = elements[position - 1] if position <= len(elements) else empty
        if not comps or not any(comps):
            if mandatory:
                return False
            continue
        if rep is not None:
            if (len(comps) > 1 and any(comps[1:])) or not _fine(comps[0], rep, codes):
                return False
            continue
        if len(comps) > len(comps_plan) and any(comps[len(comps_plan) :]):
            return False
        for cpos, _cid, cmandatory, crep, ccodes in comps_plan:
            value = comps[cpos - 1] if cpos <= len(comps) else ""
            if not value:
                if cmandatory:
                    return False
            elif not _fine(value, crep, ccodes):
                return False
    return True


def check_segment(
    seg: Segment,
    sdef: SegmentDef,
    directory: Directory,
    *,
    structure: Severity = "error",
    limits: dict[tuple[int, int], ElementLimits] | None = None,
    codes: Severity = "error",
) -> list[GatewayError]:
    """Every element-level finding of ``seg`` against ``sdef``.

    Args:
        seg: the segment.
        sdef: its definition; ``directory`` gives the code lists.
        structure: severity of presence, constituent and code-list findings (``warning`` when the
            directory is a substitute for the one the message names); representation and length
            findings are always errors.
        limits: a partner's narrowing, by 1-based (element, component) position.
        codes: severity of a value missing from the directory's code list (``warning`` for EANCOM
            messages, whose subsets add their own codes such as ``50E``); a warning too when
            ``structure`` is.
    """
    if not limits and _clean_memo(seg, sdef, directory):
        return []
    return _SegmentCheck(seg, sdef, directory, structure, limits or {}, codes).run()
