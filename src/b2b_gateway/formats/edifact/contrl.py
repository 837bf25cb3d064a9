"""CONTRL generation: the syntax and service report an inbound interchange earns.

``build_contrl`` turns an interchange as read and every finding about it into a CONTRL interchange
addressed back to its sender:

* **UCI** acknowledges the interchange (0020, sender, recipient): action 0083 ``7`` (this level and
  the lower ones acknowledged unless rejected below) or ``4`` (rejected) with the 0085 code, service
  segment tag and position of the first interchange-level error (UNA, UNB, UNZ);
* **UCF** for each functional group (UNG/UNE findings);
* **UCM** for each message (0062, S009): ``7`` or ``4``, with 0085/tag/position when UNH or UNT is
  at fault (``29`` for a UNT count, ``28`` for a reference);
* **UCS** for each segment in error (0096, its position from UNH = 1; 0085 for a segment-level
  error: ``13`` missing, ``15`` not allowed, ``35`` too many repeats) and **UCD** for each element
  in error (0085 with S011 element and component position).

Only findings with a 0085 code (``GatewayError.ack.contrl``) and error severity count: warnings, and
application-level errors (business rules: those go back as APERAK), leave the message acknowledged.
A CONTRL is never sent for a CONTRL (:func:`contrl_wanted`).
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from b2b_gateway.errors import GatewayError
from b2b_gateway.formats.edifact.charsets import charset_for
from b2b_gateway.formats.edifact.model import EdifactMessage, FunctionalGroup, Interchange, Segment
from b2b_gateway.formats.edifact.writer import message_segments, write_interchange

__all__ = ["ACCEPTED", "REJECTED", "build_contrl", "contrl_segments", "contrl_wanted"]

ACCEPTED = "7"
"""0083: this level acknowledged, lower levels acknowledged if not explicitly rejected."""
REJECTED = "4"
"""0083: this level and all lower levels rejected."""
_ENVELOPE = {"UNA", "UNB", "UNZ"}
_GROUP = {"UNG", "UNE"}
_MESSAGE = {"UNH", "UNT"}
SEVEN_BIT = ("UNOA", "UNOB", "IATA", "IATB")
MAX_UCS = 999
MAX_UCD = 99


_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _echo(value: str | None, size: int = 35) -> str:
    """A value echoed from the subject interchange, made writable: control characters become ``_``."""
    return _UNPRINTABLE.sub("_", value or "")[:size]


def _code(err: GatewayError) -> str | None:
    return err.ack.contrl if err.severity == "error" else None


def contrl_wanted(mode: str, ic: Interchange, errors: Iterable[GatewayError]) -> bool:
    """Whether ``ic`` earns a CONTRL under the partner's ``mode`` (never, on_request, always, on_error).

    Never for an interchange of CONTRL messages only; ``on_request`` follows UNB 0031.
    """
    if ic.messages and all(m.type == "CONTRL" for m in ic.messages):
        return False
    if mode == "never":
        return False
    if mode == "always":
        return True
    if mode == "on_error":
        return any(_code(e) for e in errors)
    return ic.ack_request


def _s011(err: GatewayError) -> list[str]:
    loc = err.location
    if loc.element is None:
        return []
    return [str(loc.element)] + ([str(loc.component)] if loc.component is not None else [])


def _level_fields(errors: list[GatewayError], tags: set[str]) -> tuple[str, list[list[str]]]:
    """0083 and (0085, 0013, S011) for a level whose own findings are ``errors`` (UNB, UNG or UNH level)."""
    first = next((e for e in errors if e.location.segment in tags or e.location.segment is None), None)
    if first is None:
        return ACCEPTED, []
    code = _code(first) or "18"
    return REJECTED, [[code], [_echo(first.location.segment, 3)], _s011(first) or [""]]


@functools.lru_cache(maxsize=64)
def _s009(kind: str, version: str, release: str, agency: str, association: str | None) -> list[str]:
    """S009 echoed in a UCM: one list shared by every UCM of the same message type (read, never changed;
    a CONTRL for an interchange of 100,000 messages holds 100,000 UCMs)."""
    echoed = [_echo(kind, 6), _echo(version, 3), _echo(release, 3), _echo(agency, 2)]
    return echoed + ([_echo(association, 6)] if association else [])


_ACTION = {ACCEPTED: [ACCEPTED], REJECTED: [REJECTED]}
"""0083 of a UCM with nothing to report, shared the same way."""


def _message_block(msg: EdifactMessage, errors: list[GatewayError]) -> list[Segment]:
    coded = [e for e in errors if _code(e)]
    own = [e for e in coded if e.location.segment in _MESSAGE or e.location.segment_index is None]
    action, fields = _level_fields(own, _MESSAGE)
    by_segment: dict[int, list[GatewayError]] = defaultdict(list)
    for err in coded:
        if err in own:
            continue
        by_segment[err.location.segment_index or 0].append(err)
    if by_segment:
        action = REJECTED
    s009 = _s009(msg.type, msg.version, msg.release, msg.agency, msg.association)
    out = [Segment("UCM", [[_echo(msg.ref, 14)], s009, _ACTION[action] if not fields else [action], *fields])]
    for position in sorted(by_segment)[:MAX_UCS]:
        found = by_segment[position]
        segment_level = next((e for e in found if e.location.element is None), None)
        out.append(Segment("UCS", [[str(position)], [_code(segment_level) or ""] if segment_level else [""]]))
        details = sorted(
            (e for e in found if e.location.element is not None),
            key=lambda e: (e.location.element or 0, e.location.component or 0),
        )
        out.extend(Segment("UCD", [[_code(e) or "18"], _s011(e)]) for e in details[:MAX_UCD])
    return out


def _group_block(group: FunctionalGroup, errors: list[GatewayError]) -> Segment:
    action, fields = _level_fields([e for e in errors if _code(e)], _GROUP)
    s006 = [_echo(group.sender)] + ([_echo(group.sender_qualifier, 4)] if group.sender_qualifier else [])
    s007 = [_echo(group.recipient)] + ([_echo(group.recipient_qualifier, 4)] if group.recipient_qualifier else [])
    return Segment("UCF", [[_echo(group.ref, 14)], s006, s007, [action], *fields])


def contrl_segments(ic: Interchange, errors: Iterable[GatewayError]) -> list[Segment]:
    """The CONTRL body (UCI, UCF, UCM, UCS, UCD) for ``ic`` and the findings about it."""
    per_message: dict[str, list[GatewayError]] = defaultdict(list)
    per_group: dict[str, list[GatewayError]] = defaultdict(list)
    envelope: list[GatewayError] = []
    group_tags = {g.header.offset: g.ref for g in ic.groups if g.header is not None}
    group_tags.update({g.trailer.offset: g.ref for g in ic.groups if g.trailer is not None})
    for err in errors:
        loc = err.location
        if loc.message is not None:
            per_message[loc.message].append(err)
        elif loc.segment in _GROUP and loc.offset in group_tags:
            per_group[group_tags[loc.offset]].append(err)
        else:
            envelope.append(err)
    action, fields = _level_fields([e for e in envelope if _code(e)], _ENVELOPE | _GROUP)
    blocks: list[Segment] = []
    grouped = {id(m) for g in ic.groups for m in g.messages}
    for msg in (m for m in ic.messages if id(m) not in grouped and m.type != "CONTRL"):
        blocks.extend(_message_block(msg, per_message.get(msg.ref, [])))
    for group in ic.groups:
        blocks.append(_group_block(group, per_group.get(group.ref, [])))
        for msg in (m for m in group.messages if m.type != "CONTRL"):
            blocks.extend(_message_block(msg, per_message.get(msg.ref, [])))
    s002 = [_echo(ic.sender)] + ([_echo(ic.sender_qualifier, 4)] if ic.sender_qualifier else [])
    s003 = [_echo(ic.recipient)] + ([_echo(ic.recipient_qualifier, 4)] if ic.recipient_qualifier else [])
    return [Segment("UCI", [[_echo(ic.control_ref, 14)], s002, s003, [action], *fields]), *blocks]


def build_contrl(
    ic: Interchange,
    errors: Iterable[GatewayError],
    *,
    control_ref: str,
    message_ref: str = "1",
    prepared: datetime | None = None,
    newline: bool = False,
) -> bytes:
    """The CONTRL interchange answering ``ic``: from its recipient to its sender, same syntax.

    Args:
        ic: the interchange as read.
        errors: every finding about it and its messages (reader, validator; warnings are ignored).
        control_ref: UNB/UNZ 0020 of the CONTRL interchange (from the partner's counter).
        message_ref: UNH 0062 of the CONTRL message.
        prepared: UNB date and time (default: now).
        newline: a line break after each segment.
    """
    syntax = ic.syntax_version if ic.syntax_version in ("1", "2", "3", "4") else "3"
    version, release = ("4", "1") if syntax == "4" else ("D", "3")
    body = contrl_segments(ic, errors)
    message = message_segments(message_ref, "CONTRL", version, release, "UN", None, body)
    syntax_id = ic.syntax_id if charset_for(ic.syntax_id) is not None else "UNOC"
    if any(not v.isascii() for seg in body for comps in seg.elements for v in comps) and syntax_id in SEVEN_BIT:
        syntax_id = "UNOC"  # echoed values the subject's 7-bit set cannot carry (they were violations there)
    return write_interchange(
        [message],
        sender=_echo(ic.recipient) or "UNKNOWN",
        sender_qualifier=_echo(ic.recipient_qualifier, 4) or None,
        recipient=_echo(ic.sender) or "UNKNOWN",
        recipient_qualifier=_echo(ic.sender_qualifier, 4) or None,
        control_ref=control_ref,
        syntax_id=syntax_id,
        syntax_version=syntax,
        prepared=prepared,
        test=ic.test,
        newline=newline,
    )
