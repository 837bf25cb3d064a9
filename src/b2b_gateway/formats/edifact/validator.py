"""Directory-driven validation of a message: structure (segment groups), elements, code lists, narrowing.

    >>> from b2b_gateway.formats.edifact.reader import read
    >>> ic = read(b"UNB+UNOC:3+S+R+240101:1200+1'UNH+1+ORDERS:D:96A:UN'BGM+220+PO1+9'DTM+137:20240101:102'"
    ...           b"NAD+BYZ+5412345000013::9'UNS+S'UNT+6+1'UNZ+1+1'").interchanges[0]
    >>> [f"{e.code} {e.location.segment} {e.location.element}" for e in validate_message(ic.messages[0], ic)]
    ['CODE_LIST NAD 1']

The directory comes from UNH S009 (:func:`~b2b_gateway.formats.edifact.directory.resolve_directory`):
EANCOM association codes validate against their UN directory. A release that is not shipped is
validated against the nearest shipped one, with a warning saying so; findings that depend on the
release (structure, presence, code lists) are then warnings, while representation and length
findings stay errors (data elements keep their format across releases). EANCOM messages (association
code ``EAN…``) get code-list findings as warnings: EANCOM adds its own codes (``50E``) to the UN lists.
A message type without a
shipped definition gets its segments checked against the directory's segment definitions, and a
warning; a message of another agency (IATA …) gets only a warning.

Every finding is located (message reference, segment position in the message, element, component,
byte offset, line, column) and all of them are returned, not only the first. The message's
segment-group tree is left in ``message.root``.
"""

from __future__ import annotations

from dataclasses import replace

from b2b_gateway.errors import (
    GatewayError,
    Location,
    Severity,
    UnexpectedError,
    UnknownDocumentTypeError,
    UnsupportedSyntaxError,
)
from b2b_gateway.formats.edifact._gc import paused_gc
from b2b_gateway.formats.edifact.directory import Directory, resolve_directory
from b2b_gateway.formats.edifact.elements import check_segment
from b2b_gateway.formats.edifact.model import EdifactMessage, Group, Interchange, Segment
from b2b_gateway.formats.edifact.narrowing import NarrowingRule, apply_rules
from b2b_gateway.formats.edifact.structure import build_tree

__all__ = ["check_segments", "validate_message"]


def check_segments(
    segments: list[Segment], directory: Directory, severity: Severity, codes: Severity = "error"
) -> list[GatewayError]:
    """Element-level findings of every segment the directory defines (others are left to the structure)."""
    out: list[GatewayError] = []
    cache: dict[str, object] = {}
    for seg in segments:
        sdef = cache.get(seg.tag, False)
        if sdef is False:
            sdef = cache[seg.tag] = directory.find_segment(seg.tag)
        if sdef is not None:
            out.extend(check_segment(seg, sdef, directory, structure=severity, codes=codes))  # type: ignore[arg-type]
    return out


def _unknown(segments: list[Segment], directory: Directory, severity: Severity) -> list[GatewayError]:
    return [
        UnexpectedError(
            f"segment {s.tag} is not defined in {directory.name}", location=s.location(), contrl="15", severity=severity
        )
        for s in segments
        if directory.find_segment(s.tag) is None
    ]


def validate_message(
    message: EdifactMessage,
    interchange: Interchange | None = None,
    *,
    rules: list[NarrowingRule] | None = None,
) -> list[GatewayError]:
    """Every structure and element finding of ``message`` (errors and warnings), located.

    Args:
        message: a message as read; its ``root`` is set to the segment-group tree.
        interchange: the interchange holding it (syntax version: service segments of S3 or S4).
        rules: the partner's narrowing (already checked with ``check_rules``).
    """
    with paused_gc():
        return _validate(message, interchange, rules)


def _validate(
    message: EdifactMessage, interchange: Interchange | None, rules: list[NarrowingRule] | None
) -> list[GatewayError]:
    syntax = interchange.syntax_version if interchange is not None else "3"
    directory, substitute = resolve_directory(message.version, message.release, message.agency, syntax)
    out: list[GatewayError] = []
    if directory is None:
        out.append(
            UnknownDocumentTypeError(
                f"no definition of {message.type} {message.version}:{message.release}:{message.agency}: "
                "its structure is not validated",
                location=message.location(),
                severity="warning",
                hint="the gateway ships UN directories D96A and D01B and the syntax service directories",
            )
        )
        return _locate(out, message, interchange)
    severity: Severity = "warning" if substitute else "error"
    if substitute:
        out.append(
            UnsupportedSyntaxError(
                f"directory {message.version}{message.release} is not shipped: validated against {directory.name}, "
                "the nearest release (structure findings are warnings)",
                location=Location(element=2, component=3).merge(message.location()),
                severity="warning",
            )
        )
    mdef = directory.messages.get(message.type)
    if mdef is None:
        out.append(
            UnknownDocumentTypeError(
                f"no {message.type} definition in {directory.name}: only its segments are validated",
                location=Location(element=2, component=1).merge(message.location()),
                severity="warning",
            )
        )
        out.extend(_unknown(message.segments, directory, severity))
        out.extend(check_segments(message.segments, directory, severity))
        return _locate(out, message, interchange)
    root, found = build_tree(message.segments, mdef, severity=severity)
    message.root = root
    out.extend(found)
    eancom = (message.association or "").upper().startswith("EAN")
    out.extend(check_segments(message.segments, directory, severity, "warning" if eancom else "error"))
    if rules:
        out.extend(apply_rules(rules, message, root, directory))
    out.sort(key=lambda e: e.location.offset or 0)
    return _locate(out, message, interchange)


def _locate(errors: list[GatewayError], message: EdifactMessage, interchange: Interchange | None) -> list[GatewayError]:
    ref = interchange.control_ref if interchange else message.interchange_ref
    for err in errors:
        loc = err.location
        if loc.message is None or (loc.interchange is None and ref is not None):
            err.location = replace(loc, message=loc.message or message.ref, interchange=loc.interchange or ref)
    return errors


def tree_of(message: EdifactMessage) -> Group | None:
    """The message's segment-group tree, building it (and discarding findings) when not validated yet."""
    if message.root is None:
        validate_message(message)
    return message.root
