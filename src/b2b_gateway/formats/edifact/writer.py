"""Writing EDIFACT: segments, messages and interchanges to bytes, escaped and counted.

    >>> body = [Segment("BGM", [["220"], ["PO-1"], ["9"]]), Segment("FTX", [["AAI"], [""], [""], ["Tom's 50+ boxes"]])]
    >>> data = write_interchange(
    ...     [message_segments("1", "ORDERS", "D", "96A", "UN", "EAN008", body)],
    ...     sender="5412345000013", sender_qualifier="14", recipient="5412345000020", recipient_qualifier="14",
    ...     control_ref="42", prepared=datetime(2024, 1, 2, 3, 4), newline=True,
    ... )
    >>> print(data.decode(), end="")
    UNB+UNOC:3+5412345000013:14+5412345000020:14+240102:0304+42'
    UNH+1+ORDERS:D:96A:UN:EAN008'
    BGM+220+PO-1+9'
    FTX+AAI+++Tom?'s 50?+ boxes'
    UNT+4+1'
    UNZ+1+42'

Escaping puts the release character before every separator, the terminator, the release character
itself and (syntax 4) the repetition separator. Trailing empty components and elements are left out.
``UNA`` is written when the delimiters are not the defaults, or when asked for. UNT counts the
message's segments (UNH and UNT included), UNZ the messages. Control references are passed in: the
pipeline allocates them from per-partner counters (``CodecOptions.references``).

Long texts are split the way the directories define them (:func:`split_text`): several components of
one segment (FTX C108 holds five of 70), then several segments.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import UTC, datetime

from b2b_gateway.errors import CharacterSetError, DocumentRejected, GatewayError
from b2b_gateway.formats.edifact.charsets import Charset, charset_for
from b2b_gateway.formats.edifact.model import DEFAULT_DELIMITERS, Delimiters, Segment

__all__ = ["escape", "message_segments", "render_segment", "split_text", "write_interchange", "write_segments"]


@functools.lru_cache(maxsize=32)
def _escaper(d: Delimiters) -> Callable[[str], str]:
    """``escape`` for ``d``: a search for any service character, and the release put before each one found."""
    pattern = re.compile(f"[{re.escape(d.specials)}]")
    search, sub = pattern.search, pattern.sub
    released = d.release.replace("\\", "\\\\") + r"\g<0>"

    def escape_value(value: str) -> str:
        return value if search(value) is None else sub(released, value)

    return escape_value


def escape(value: str, d: Delimiters = DEFAULT_DELIMITERS) -> str:
    """``value`` with the release character before each service character."""
    return _escaper(d)(value)


def _trim(items: list[str]) -> list[str]:
    end = len(items)
    while end > 0 and items[end - 1] == "":
        end -= 1
    return items[:end]


def _render(seg: Segment, d: Delimiters, esc: Callable[[str], str]) -> str:
    component = d.component
    reps = seg.repetitions if d.repetition.strip() else None
    elements: list[str] = []
    for index, comps in enumerate(seg.elements):
        occurrences = reps.get(index) if reps else None
        if occurrences:
            parts = [component.join([esc(c) for c in _trim(occ)]) for occ in occurrences]
            elements.append(d.repetition.join(_trim(parts)))
            continue
        end = len(comps)
        while end and not comps[end - 1]:
            end -= 1
        if end == 1:
            elements.append(esc(comps[0]))
        else:
            elements.append(component.join([esc(c) for c in comps[:end]]) if end else "")
    end = len(elements)
    while end and not elements[end - 1]:
        end -= 1
    if not end:
        return f"{seg.tag}{d.terminator}"
    return f"{seg.tag}{d.element}{d.element.join(elements[:end])}{d.terminator}"


def render_segment(seg: Segment, d: Delimiters = DEFAULT_DELIMITERS) -> str:
    """One segment as text, terminator included (trailing empty constituents left out)."""
    return _render(seg, d, _escaper(d))


def message_segments(
    ref: str,
    message_type: str,
    version: str,
    release: str,
    agency: str,
    association: str | None,
    body: list[Segment],
) -> list[Segment]:
    """UNH, ``body``, UNT with the segment count: one message ready for :func:`write_interchange`."""
    s009 = [message_type, version, release, agency] + ([association] if association else [])
    return [Segment("UNH", [[ref], s009]), *body, Segment("UNT", [[str(len(body) + 2)], [ref]])]


def split_text(text: str, width: int, per_segment: int) -> list[list[str]]:
    """``text`` cut into segments' worth of components: ``per_segment`` components of ``width`` each.

    No character is lost or added: joining every component gives ``text`` back.

    >>> split_text("abcdefgh", 3, 2)
    [['abc', 'def'], ['gh']]
    """
    pieces = [text[i : i + width] for i in range(0, len(text), width)] or [""]
    return [pieces[i : i + per_segment] for i in range(0, len(pieces), per_segment)]


def write_segments(segments: list[Segment], d: Delimiters = DEFAULT_DELIMITERS, *, newline: bool = False) -> str:
    """Segments as text, one after the other (a line break after each when ``newline``)."""
    sep = "\n" if newline else ""
    esc = _escaper(d)
    return sep.join([_render(s, d, esc) for s in segments]) + sep


def write_interchange(
    messages: list[list[Segment]],
    *,
    sender: str,
    recipient: str,
    control_ref: str,
    sender_qualifier: str | None = None,
    recipient_qualifier: str | None = None,
    syntax_id: str = "UNOC",
    syntax_version: str = "3",
    delimiters: Delimiters | None = None,
    prepared: datetime | None = None,
    application_ref: str | None = None,
    ack_request: bool = False,
    test: bool = False,
    una: bool | None = None,
    newline: bool = False,
) -> bytes:
    """An interchange holding ``messages`` (each UNH … UNT, see :func:`message_segments`), encoded.

    Args:
        messages: the messages' segments.
        sender, recipient: UNB S002/S003 identifications, with their 0007 qualifiers.
        control_ref: UNB/UNZ 0020, allocated by the caller.
        syntax_id, syntax_version: UNB S001; the syntax identifier also selects the encoding.
        delimiters: the service characters (defaults, with ``*`` for repetitions in syntax 4).
        prepared: UNB date and time (default: now, UTC).
        application_ref, ack_request, test: UNB 0026, 0031 (= 1) and 0035 (= 1).
        una: write UNA (default: only when the delimiters are not the defaults).
        newline: a line break after each segment (readable; the reader accepts both).

    Raises:
        DocumentRejected: a value has characters the syntax identifier cannot encode (located).
    """
    d = delimiters or (Delimiters(repetition="*") if syntax_version == "4" else DEFAULT_DELIMITERS)
    when = prepared or datetime.now(UTC)
    date = when.strftime("%Y%m%d" if syntax_version == "4" else "%y%m%d")
    unb: list[list[str]] = [
        [syntax_id, syntax_version],
        [sender] + ([sender_qualifier] if sender_qualifier else []),
        [recipient] + ([recipient_qualifier] if recipient_qualifier else []),
        [date, when.strftime("%H%M")],
        [control_ref],
        [""],
        [application_ref or ""],
        [""],
        ["1" if ack_request else ""],
        [""],
        ["1" if test else ""],
    ]
    segments = [
        Segment("UNB", unb),
        *(s for m in messages for s in m),
        Segment("UNZ", [[str(len(messages))], [control_ref]]),
    ]
    default_like = (d.component, d.element, d.decimal, d.release, d.terminator) == (":", "+", ".", "?", "'") and (
        d.repetition == ("*" if syntax_version == "4" else " ")
    )
    head = d.una if (una if una is not None else not default_like) else ""
    plain = write_segments(segments, d)
    data = _encode(head + plain, syntax_id, segments)
    if not newline:
        return data
    charset = charset_for(syntax_id)
    readable = head + ("\n" if head else "") + write_segments(segments, d, newline=True)
    return readable.encode(charset.codec if charset is not None else "latin-1")  # checked above


def _encode(text: str, syntax_id: str, segments: list[Segment]) -> bytes:
    charset = charset_for(syntax_id)
    codec = charset.codec if charset is not None else "latin-1"
    try:
        data = text.encode(codec)
    except UnicodeEncodeError:
        data = b""
    if data and not any(c in text for c in "\r\n\t") and (charset is None or not charset.any_invalid(data)):
        return data
    problems: list[GatewayError] = []
    for seg in segments:
        for e, comps in enumerate(seg.elements, start=1):
            for c, value in enumerate(comps, start=1):
                if _writable(value, codec, charset):
                    continue
                problems.append(
                    CharacterSetError(
                        f"{seg.tag} element {e} component {c}: {value!r} cannot be written in {syntax_id} ({codec})",
                        location=seg.location(e, c),
                        hint="control characters are never allowed; for other characters agree on a wider syntax "
                        "identifier with the partner (UNOC, UNOW/UNOY for UTF-8)",
                    )
                )
    raise DocumentRejected(problems or [CharacterSetError(f"the interchange cannot be written in {syntax_id}")])


def _writable(value: str, codec: str, charset: Charset | None) -> bool:
    try:
        raw = value.encode(codec)
    except UnicodeEncodeError:
        return False
    return not any(c in value for c in "\r\n\t") and (charset is None or not charset.any_invalid(raw))
