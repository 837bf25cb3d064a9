"""Inbound acknowledgments: CONTRL and APERAK read into reports, and matched to what was sent.

:func:`read_contrl` and :func:`read_aperak` turn a message into a :class:`ContrlReport` or an
:class:`AperakReport`. :func:`match_acknowledgment` pairs a report with what the gateway sent, through
a lookup callback (the store provides it): UCI 0020 names the interchange (UNB 0020), UCM 0062 a
message in it (UNH 0062); an APERAK names the message it answers in ``RFF+ACW``. Whatever cannot be
paired is reported as an :class:`~b2b_gateway.errors.UnmatchedAcknowledgmentError`, never dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from b2b_gateway.errors import Location, UnmatchedAcknowledgmentError
from b2b_gateway.formats.edifact.model import EdifactMessage, Interchange, Segment

__all__ = [
    "AperakError",
    "AperakReport",
    "ContrlError",
    "ContrlReport",
    "GroupReport",
    "Match",
    "MessageReport",
    "match_acknowledgment",
    "read_aperak",
    "read_contrl",
]

T = TypeVar("T")
Lookup = Callable[[str | None, str | None], T | None]
"""``lookup(interchange_ref, message_ref)``: what the gateway sent under those references, or None."""

ACTIONS = {"4": "rejected", "7": "accepted", "8": "received"}


@dataclass(frozen=True, slots=True)
class ContrlError:
    """One reported error: 0085 code and where (service segment tag, segment position, element, component)."""

    code: str
    segment_tag: str | None = None
    segment_position: int | None = None
    element: int | None = None
    component: int | None = None


@dataclass(slots=True)
class MessageReport:
    """A UCM: the acknowledged message and the action taken."""

    ref: str
    type: str
    version: str
    release: str
    agency: str
    action: str
    errors: list[ContrlError] = field(default_factory=list)
    segment: Segment | None = None

    @property
    def status(self) -> str:
        return ACTIONS.get(self.action, "received")


@dataclass(slots=True)
class GroupReport:
    """A UCF: the acknowledged functional group."""

    ref: str
    action: str
    errors: list[ContrlError] = field(default_factory=list)
    messages: list[MessageReport] = field(default_factory=list)


@dataclass(slots=True)
class ContrlReport:
    """A CONTRL message read: the subject interchange, the action, and what was rejected where."""

    interchange_ref: str
    """UCI 0020: the subject interchange's control reference."""
    sender: str
    recipient: str
    action: str
    errors: list[ContrlError] = field(default_factory=list)
    messages: list[MessageReport] = field(default_factory=list)
    groups: list[GroupReport] = field(default_factory=list)
    contrl_ref: str = ""
    """UNH 0062 of the CONTRL message itself."""
    location: Location = field(default_factory=Location)

    @property
    def status(self) -> str:
        """``accepted``, ``rejected`` or ``received`` (UCI 0083), ``rejected`` when any message is."""
        if self.action == "4" or any(m.action == "4" for m in self.all_messages):
            return "rejected"
        return ACTIONS.get(self.action, "received")

    @property
    def all_messages(self) -> list[MessageReport]:
        return [*self.messages, *(m for g in self.groups for m in g.messages)]


def _error(seg: Segment, code_at: int, tag_at: int, where_at: int) -> ContrlError | None:
    code = seg.value(code_at)
    if not code:
        return None
    element, component = seg.value(where_at, 1), seg.value(where_at, 2)
    return ContrlError(
        code,
        seg.value(tag_at) or None,
        None,
        int(element) if element.isdigit() else None,
        int(component) if component.isdigit() else None,
    )


def read_contrl(message: EdifactMessage) -> ContrlReport:
    """The report in a CONTRL message (UCI, UCF, UCM, UCS, UCD)."""
    uci = message.find("UCI") or Segment("UCI")
    report = ContrlReport(
        interchange_ref=uci.value(1),
        sender=uci.value(2),
        recipient=uci.value(3),
        action=uci.value(4),
        contrl_ref=message.ref,
        location=message.location(),
    )
    first = _error(uci, 5, 6, 7)
    if first:
        report.errors.append(first)
    current: MessageReport | None = None
    group: GroupReport | None = None
    position: int | None = None
    for seg in message.segments:
        if seg.tag == "UCF":
            group = GroupReport(seg.value(1), seg.value(4), [e for e in [_error(seg, 5, 6, 7)] if e])
            report.groups.append(group)
            current = None
        elif seg.tag == "UCM":
            v = seg.value
            current = MessageReport(v(1), v(2, 1), v(2, 2), v(2, 3), v(2, 4), v(3), segment=seg)
            found = _error(seg, 4, 5, 6)
            if found:
                current.errors.append(found)
            (group.messages if group is not None else report.messages).append(current)
        elif seg.tag == "UCS" and current is not None:
            position = int(seg.value(1)) if seg.value(1).isdigit() else None
            if seg.value(2):
                current.errors.append(ContrlError(seg.value(2), None, position))
        elif seg.tag == "UCD" and current is not None:
            element, component = seg.value(2, 1), seg.value(2, 2)
            current.errors.append(
                ContrlError(
                    seg.value(1),
                    None,
                    position,
                    int(element) if element.isdigit() else None,
                    int(component) if component.isdigit() else None,
                )
            )
    return report


@dataclass(frozen=True, slots=True)
class AperakError:
    """An ERC application error code with the free text (FTX) that explains it."""

    code: str
    text: str = ""


@dataclass(slots=True)
class AperakReport:
    """An APERAK read: which document it answers, accepted or not, and the application errors."""

    document_number: str
    document_code: str
    function: str
    """BGM 1225: 27 not accepted, 29 accepted without amendment …"""
    date: str | None = None
    references: list[tuple[str, str]] = field(default_factory=list)
    """SG1 RFF (qualifier, value): ``ACW`` is the answered message's reference."""
    parties: list[tuple[str, str]] = field(default_factory=list)
    errors: list[AperakError] = field(default_factory=list)
    text: str = ""
    location: Location = field(default_factory=Location)

    @property
    def status(self) -> str:
        if self.function in ("27",) or (self.errors and self.function not in ("29", "44")):
            return "rejected"
        return "accepted"

    def reference(self, qualifier: str) -> str | None:
        return next((value for q, value in self.references if q == qualifier), None)


def read_aperak(message: EdifactMessage) -> AperakReport:
    """The report in an APERAK message (BGM, DTM, RFF, NAD, ERC with its FTX)."""
    bgm = message.find("BGM") or Segment("BGM")
    report = AperakReport(
        document_number=bgm.value(2),
        document_code=bgm.value(1),
        function=bgm.value(3),
        location=message.location(),
    )
    in_error = False
    for seg in message.segments:
        if seg.tag == "DTM" and seg.value(1) == "137" and report.date is None:
            report.date = seg.value(1, 2)
        elif seg.tag == "RFF":
            report.references.append((seg.value(1), seg.value(1, 2)))
        elif seg.tag == "NAD":
            report.parties.append((seg.value(1), seg.value(2)))
        elif seg.tag == "ERC":
            report.errors.append(AperakError(seg.value(1)))
            in_error = True
        elif seg.tag == "FTX":
            text = "".join(seg.element(4))
            if in_error and report.errors:
                last = report.errors[-1]
                report.errors[-1] = AperakError(last.code, (last.text + " " + text).strip())
            else:
                report.text = (report.text + " " + text).strip()
    return report


@dataclass(slots=True)
class Match(Generic[T]):
    """What an acknowledgment was paired with, and what could not be."""

    interchange: T | None = None
    messages: list[tuple[str, T]] = field(default_factory=list)
    """(message reference, what was sent) for each acknowledged message found."""
    unmatched: list[UnmatchedAcknowledgmentError] = field(default_factory=list)


def match_acknowledgment(report: ContrlReport | AperakReport, lookup: Lookup[T]) -> Match[T]:
    """Pair ``report`` with what was sent, through ``lookup(interchange_ref, message_ref)``."""
    out: Match[T] = Match()
    if isinstance(report, AperakReport):
        ref = report.reference("ACW") or report.reference("ACE") or report.document_number
        found = lookup(None, ref)
        if found is None:
            out.unmatched.append(
                UnmatchedAcknowledgmentError(
                    f"APERAK {report.document_number!r} answers message {ref!r}, which the gateway never sent",
                    location=report.location,
                )
            )
        else:
            out.messages.append((ref, found))
        return out
    out.interchange = lookup(report.interchange_ref, None)
    if out.interchange is None:
        out.unmatched.append(
            UnmatchedAcknowledgmentError(
                f"CONTRL acknowledges interchange {report.interchange_ref!r}, which the gateway never sent",
                location=report.location,
                details={"interchange": report.interchange_ref},
            )
        )
    for msg in report.all_messages:
        found = lookup(report.interchange_ref, msg.ref)
        if found is None:
            where = msg.segment.location() if msg.segment is not None else report.location
            out.unmatched.append(
                UnmatchedAcknowledgmentError(
                    f"CONTRL acknowledges message {msg.ref!r} of interchange {report.interchange_ref!r}, "
                    "which the gateway never sent",
                    location=where.merge(report.location),
                    details={"interchange": report.interchange_ref, "message": msg.ref},
                )
            )
        else:
            out.messages.append((msg.ref, found))
    return out


def acknowledgments_in(ic: Interchange) -> list[ContrlReport | AperakReport]:
    """The CONTRL and APERAK reports an inbound interchange carries."""
    out: list[ContrlReport | AperakReport] = []
    for msg in ic.messages:
        if msg.type == "CONTRL":
            out.append(read_contrl(msg))
        elif msg.type == "APERAK":
            out.append(read_aperak(msg))
    return out
