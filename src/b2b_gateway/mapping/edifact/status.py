"""CONTRL and APERAK to the canonical :class:`~b2b_gateway.canonical.status.StatusDocument` (pure Python:
both are standard service and acknowledgment messages, no mapping file needed)."""

from __future__ import annotations

import datetime as dt

from b2b_gateway.canonical.common import DocumentReference, Identifier, Party, SourceRef
from b2b_gateway.canonical.status import StatusDocument, StatusReason
from b2b_gateway.formats.edifact.acks import AperakReport, ContrlError, ContrlReport, read_aperak, read_contrl
from b2b_gateway.formats.edifact.model import EdifactMessage, Interchange

__all__ = ["CONTRL_CODES", "status_document"]

CONTRL_CODES = {
    "2": "syntax version or level not supported",
    "7": "interchange recipient not actual recipient",
    "12": "invalid value",
    "13": "missing",
    "14": "value not supported in this position",
    "15": "not supported in this position",
    "16": "too many constituents",
    "17": "no agreement",
    "18": "unspecified error",
    "19": "invalid decimal notation",
    "20": "character invalid as service character",
    "21": "invalid character(s)",
    "22": "invalid service character(s)",
    "23": "unknown interchange sender",
    "24": "too old",
    "25": "test indicator not supported",
    "26": "duplicate detected",
    "27": "security function not supported",
    "28": "references do not match",
    "29": "control count does not match number of instances received",
    "30": "functional groups and messages mixed",
    "31": "more than one message type in group",
    "32": "lower level empty",
    "33": "invalid occurrence outside message, package or group",
    "35": "too many repetitions",
    "36": "too many segment group repetitions",
    "37": "invalid type of character(s)",
    "38": "missing digit in front of decimal sign",
    "39": "data element too long",
    "40": "data element too short",
}
"""0085 syntax error codes and what they mean (the reasons' texts)."""


def _date(ic: Interchange | None) -> dt.date:
    if ic is not None and ic.date.isdigit():
        try:
            if len(ic.date) == 8:
                return dt.date(int(ic.date[:4]), int(ic.date[4:6]), int(ic.date[6:8]))
            return dt.date(2000 + int(ic.date[:2]), int(ic.date[2:4]), int(ic.date[4:6]))
        except ValueError:
            pass
    return dt.datetime.now(dt.UTC).date()


def _where(err: ContrlError, message: str | None) -> str:
    parts = [f"message {message}"] if message else []
    if err.segment_tag:
        parts.append(err.segment_tag)
    if err.segment_position is not None:
        parts.append(f"segment {err.segment_position}")
    if err.element is not None:
        parts.append(f"element {err.element}" + (f":{err.component}" if err.component is not None else ""))
    return ", ".join(parts)


def _reason(err: ContrlError, message: str | None) -> StatusReason:
    return StatusReason(code=err.code, text=CONTRL_CODES.get(err.code, "syntax error"), location=_where(err, message))


def _party(value: str) -> Party | None:
    ident = value.split(":")[0] if value else ""
    return Party(identifiers=[Identifier(value=ident)]) if ident else None


def _contrl(report: ContrlReport, msg: EdifactMessage, ic: Interchange | None) -> StatusDocument:
    reasons = [_reason(e, None) for e in report.errors]
    for group in report.groups:
        reasons.extend(_reason(e, f"group {group.ref}") for e in group.errors)
    for m in report.all_messages:
        reasons.extend(_reason(e, m.ref) for e in m.errors)
    return StatusDocument(
        document_number=f"{ic.control_ref if ic else ''}/{msg.ref}".lstrip("/"),
        issue_date=_date(ic),
        kind="contrl",
        status=report.status,
        status_code=report.action or None,
        referenced_document=DocumentReference(id=report.interchange_ref or "?", document_type="interchange"),
        sender=_party(report.recipient),
        receiver=_party(report.sender),
        reasons=reasons,
        test=bool(ic and ic.test),
        source=_source(msg, ic),
    )


def _aperak(report: AperakReport, msg: EdifactMessage, ic: Interchange | None) -> StatusDocument:
    referenced = report.reference("ACW") or report.document_number or "?"
    parties = dict(report.parties)
    return StatusDocument(
        document_number=report.document_number or msg.ref,
        issue_date=_date(ic),
        kind="aperak",
        status=report.status,
        status_code=report.function or None,
        referenced_document=DocumentReference(id=referenced, document_type="message"),
        sender=_party(parties.get("MS", "")),
        receiver=_party(parties.get("MR", "")),
        reasons=[StatusReason(code=e.code or None, text=e.text or None) for e in report.errors],
        notes=[report.text] if report.text else [],
        test=bool(ic and ic.test),
        source=_source(msg, ic),
    )


def _source(msg: EdifactMessage, ic: Interchange | None) -> SourceRef:
    return SourceRef(
        format="edifact",
        interchange_ref=ic.control_ref if ic else msg.interchange_ref,
        message_ref=msg.ref,
        message_type=":".join(p for p in (msg.type, msg.version, msg.release, msg.agency, msg.association or "") if p),
        sender=ic.sender if ic else None,
        recipient=ic.recipient if ic else None,
    )


def status_document(message: EdifactMessage, interchange: Interchange | None = None) -> StatusDocument:
    """A CONTRL or APERAK message as a canonical status document."""
    if message.type == "CONTRL":
        return _contrl(read_contrl(message), message, interchange)
    return _aperak(read_aperak(message), message, interchange)
