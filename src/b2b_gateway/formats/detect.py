"""Which syntax a payload is in, from its first bytes."""

from __future__ import annotations

import re
from typing import Literal

from b2b_gateway.errors import Location, UnknownFormatError

__all__ = ["Syntax", "detect_syntax", "streamable", "strip_bom"]

Syntax = Literal["edifact", "x12", "xml", "json"]

_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
_EDIFACT_START = re.compile(rb"UN[AB][^A-Za-z0-9\s]?")
_EDIFACT_ANYWHERE = re.compile(rb"(?:^|[\r\n'])\s*UN(?:A:|B\+)")


def strip_bom(data: bytes) -> bytes:
    """Drop a UTF-8 byte-order mark."""
    return data[3:] if data.startswith(b"\xef\xbb\xbf") else data


def detect_syntax(data: bytes, *, allow_banner: bool = False) -> Syntax:
    """Tell EDIFACT, X12, XML and JSON apart.

    Args:
        data: the payload.
        allow_banner: accept text before UNA/UNB (some partners' systems prepend a banner line).

    Raises:
        UnknownFormatError: none of them; the message quotes the first bytes.
    """
    head = data[:4096]
    for bom in _BOMS:
        if head.startswith(bom):
            head = head[len(bom) :]
            break
    text = head.lstrip()
    if text[:3] in (b"UNA", b"UNB") and _EDIFACT_START.match(text):
        return "edifact"
    if text.startswith(b"ISA") and len(text) > 3 and not text[3:4].isalnum():
        return "x12"
    if text.startswith(b"<"):
        return "xml"
    if text[:1] in (b"{", b"["):
        return "json"
    if allow_banner and _EDIFACT_ANYWHERE.search(head):
        return "edifact"
    shown = text[:24].decode("ascii", "backslashreplace")
    raise UnknownFormatError(
        f"unrecognised document format (starts with {shown!r})",
        location=Location(offset=len(data) - len(data.lstrip()), line=1),
        hint="the gateway reads UN/EDIFACT (UNA/UNB), XML (UBL, CII) and JSON documents",
    )


def streamable(head: bytes) -> bool:
    """Whether a big input whose first bytes are ``head`` may be read as a stream: it starts as an EDIFACT
    interchange does. Only those (many messages, cut at UNH/UNT) are streamed; a big input of any other kind
    (XML, JSON, or EDIFACT behind a banner) is read whole, up to ``limits.max_document_bytes``.
    """
    try:
        return detect_syntax(head[:4096]) == "edifact"
    except UnknownFormatError:
        return False
