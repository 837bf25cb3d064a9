"""APERAK generation: the application-level answer to a message the gateway read but cannot accept
(a business rule failed, an unknown item or party), or accepts with remarks.

The message follows the APERAK structure of the chosen directory (D96A by default, EANCOM-style)::

    UNH+<ref>+APERAK:D:96A:UN'
    BGM+<1001>+<document number>+<1225: 27 not accepted, 29 accepted>'
    DTM+137:<CCYYMMDDHHMM>:203'
    RFF+ACW:<answered message's UNH 0062>'          SG1: the answered message
    RFF+<qualifier>:<answered document number>'     SG1: e.g. ON for an order
    NAD+MS+<our id>::9'   NAD+MR+<their id>::9'      SG2: sender and receiver
    ERC+<error code>'  FTX+AAO+++<text, split in 70s>'   SG3: one per error
    UNT+..'

``BGM`` 1001 is ``313`` (application error message) in D01B and ``23`` (status information) in
D96A, whose code list has no APERAK document code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from b2b_gateway.formats.edifact.model import Segment
from b2b_gateway.formats.edifact.writer import message_segments, split_text

__all__ = ["AperakItem", "aperak_message"]

NOT_ACCEPTED = "27"
ACCEPTED = "29"
_DOCUMENT_CODE = {"96A": "23", "01B": "313"}


@dataclass(frozen=True, slots=True)
class AperakItem:
    """One application error: an ERC code (agreed with the partner; the gateway's error code by default)
    and the text explaining it."""

    code: str
    text: str


def aperak_message(
    ref: str,
    *,
    document_number: str,
    answered_ref: str,
    errors: list[AperakItem],
    answered_document: tuple[str, str] | None = None,
    sender: str | None = None,
    recipient: str | None = None,
    release: str = "96A",
    association: str | None = None,
    accepted: bool = False,
    prepared: datetime | None = None,
) -> list[Segment]:
    """An APERAK message (UNH … UNT) answering message ``answered_ref``.

    Args:
        ref: UNH 0062 of the APERAK.
        document_number: BGM 1004 of the APERAK.
        answered_ref: the answered message's UNH 0062 (RFF+ACW).
        errors: the application errors (ERC + FTX each); at most 999.
        answered_document: (RFF qualifier, number) of the answered document, e.g. ``("ON", "PO-1")``.
        sender, recipient: NAD+MS / NAD+MR party identifiers (GLN, code list agency 9).
        release: directory release, ``96A`` or ``01B``.
        association: UNH S009 0057 (an EANCOM association code), if any.
        accepted: BGM 1225 ``29`` (accepted) instead of ``27`` (not accepted).
        prepared: DTM 137 (default now, UTC).
    """
    when = (prepared or datetime.now(UTC)).strftime("%Y%m%d%H%M")
    body = [
        Segment(
            "BGM",
            [[_DOCUMENT_CODE.get(release, "23")], [document_number[:35]], [ACCEPTED if accepted else NOT_ACCEPTED]],
        ),
        Segment("DTM", [["137", when, "203"]]),
        Segment("RFF", [["ACW", answered_ref[:35]]]),
    ]
    if answered_document is not None:
        body.append(Segment("RFF", [[answered_document[0], answered_document[1][:35]]]))
    for qualifier, party in (("MS", sender), ("MR", recipient)):
        if party:
            body.append(Segment("NAD", [[qualifier], [party[:35], "", "9"]]))
    for item in errors[:999]:
        body.append(Segment("ERC", [[item.code[:8]]]))
        text = split_text(item.text, 70, 5)[0] if item.text else []
        if text:
            body.append(Segment("FTX", [["AAO"], [""], [""], text]))
    return message_segments(ref, "APERAK", "D", release, "UN", association, body)
