"""The reader on hand-made interchanges: UNA, defaults, whitespace, banners, wrapping, syntax versions,
groups, several interchanges, control checks, character sets, release parity, locations."""

from __future__ import annotations

import pytest

from b2b_gateway.errors import DocumentRejected
from b2b_gateway.formats.edifact.reader import ReaderOptions, parse, read, read_header

UNB = "UNB+UNOC:3+SENDER:14+RECEIVER:14+240102:0304+REF1'"
MSG = "UNH+1+ORDERS:D:96A:UN:EAN008'BGM+220+PO-1+9'DTM+137:20240102:102'UNS+S'UNT+5+1'"
UNZ = "UNZ+1+REF1'"


def ic_of(text: str | bytes, **options: object):  # type: ignore[no-untyped-def]
    data = text.encode("latin-1") if isinstance(text, str) else text
    result = read(data, ReaderOptions(**options))  # type: ignore[arg-type]
    assert result.ok, [str(e) for e in result.findings]
    return result.interchanges[0]


def codes(text: str | bytes, **options: object) -> list[tuple[str, str, str | None, int | None]]:
    data = text.encode("latin-1") if isinstance(text, str) else text
    return [(e.code, e.severity, e.location.segment, e.location.element)
            for e in read(data, ReaderOptions(**options)).findings]  # type: ignore[arg-type]


def test_defaults_without_una() -> None:
    ic = ic_of(UNB + MSG + UNZ)
    assert not ic.delimiters.explicit and ic.delimiters.decimal == "."
    assert (ic.sender, ic.sender_qualifier, ic.recipient, ic.control_ref) == ("SENDER", "14", "RECEIVER", "REF1")
    msg = ic.messages[0]
    assert (msg.ref, msg.type, msg.version, msg.release, msg.agency, msg.association) == (
        "1", "ORDERS", "D", "96A", "UN", "EAN008")
    assert [s.position for s in msg.segments] == [1, 2, 3, 4, 5]
    assert msg.raw == MSG.encode()


def test_una_is_positional_and_every_separator_can_change() -> None:
    text = "UNA|^,!_~" + (UNB + MSG + UNZ).replace("+", "^").replace(":", "|").replace("'", "~")
    text = text.replace("PO-1", "PO!^1!~2")
    ic = ic_of(text)
    d = ic.delimiters
    # syntax 3: the repetition position is reserved, so '_' is ignored (with a warning)
    assert (d.component, d.element, d.decimal, d.release, d.repetition, d.terminator) == ("|", "^", ",", "!", " ", "~")
    assert ic.messages[0].segments[1].value(2) == "PO^1~2"


def test_una_with_space_in_the_repetition_position_and_syntax4_default_repetition() -> None:
    ic = ic_of("UNA:+.? '" + UNB.replace("UNOC:3", "UNOC:4").replace("240102", "20240102") + MSG + UNZ)
    assert ic.delimiters.repetition == " " and ic.syntax_version == "4"
    ic4 = ic_of(UNB.replace("UNOC:3", "UNOC:4").replace("240102", "20240102") + MSG.replace("PO-1", "A*B") + UNZ)
    assert ic4.delimiters.repetition == "*"
    assert ic4.messages[0].segments[1].occurrences(2) == [["A"], ["B"]]


def test_bom_and_whitespace_between_segments() -> None:
    text = "\ufeff".encode() + ("  \r\n" + UNB + "\r\n" + MSG.replace("'", "'\r\n  ") + "\n\t" + UNZ + "\n\n").encode()
    ic = ic_of(text)
    assert len(ic.messages[0].segments) == 5 and ic.trailer is not None


def test_banner_needs_the_partner_s_permission() -> None:
    text = "*** MAILBOX 42: 1 file ***\r\n" + UNB + MSG + UNZ
    assert codes(text)[0][:3] == ("EDIFACT_SYNTAX", "error", None)
    assert codes(text, allow_banner=True) == [("EDIFACT_SYNTAX", "warning", None, None)]


def test_hard_wrapped_lines_need_the_partner_s_permission() -> None:
    flat = UNB + MSG + UNZ
    wrapped = "\r\n".join(flat[i : i + 20] for i in range(0, len(flat), 20))
    strict = read(wrapped.encode())
    assert not strict.ok
    ic = ic_of(wrapped, allow_wrapped_lines=True)
    assert ic.messages[0].segments[1].elements == [["220"], ["PO-1"], ["9"]]
    seg = ic.messages[0].segments[2]
    assert wrapped.encode()[seg.offset : seg.offset + 3] == b"DTM"
    assert seg.line == wrapped[: seg.offset].count("\n") + 1


def test_line_break_inside_data_is_a_character_finding() -> None:
    found = codes(UNB + MSG.replace("PO-1", "PO\n1") + UNZ)
    assert ("CHARSET", "error", "BGM", 2) in found


@pytest.mark.parametrize(("version", "date", "ok"), [("1", "240102", True), ("2", "240102", True),
                                                     ("3", "240102", True), ("4", "20240102", True),
                                                     ("3", "20240102", True), ("3", "241302", False),
                                                     ("5", "240102", False)])
def test_syntax_versions_and_dates(version: str, date: str, ok: bool) -> None:
    text = UNB.replace("UNOC:3", f"UNOC:{version}").replace("240102", date) + MSG + UNZ
    result = read(text.encode())
    assert result.ok is ok, [str(e) for e in result.findings]


def test_groups_and_several_message_types_in_one_interchange() -> None:
    inv = MSG.replace("ORDERS", "INVOIC").replace("UNH+1", "UNH+2").replace("UNT+5+1", "UNT+5+2")
    text = (UNB + "UNG+ORDERS+S:14+R:14+240102:0304+G1+UN+D:96A'" + MSG + "UNE+1+G1'"
            + "UNG+INVOIC+S:14+R:14+240102:0304+G2+UN+D:96A'" + inv + "UNE+1+G2'" + "UNZ+2+REF1'")
    ic = ic_of(text)
    assert [g.ref for g in ic.groups] == ["G1", "G2"]
    assert [m.type for m in ic.messages] == ["ORDERS", "INVOIC"] and ic.messages[1].group_ref == "G2"


def test_several_interchanges_each_with_its_own_una() -> None:
    second = "UNA:+,? '" + UNB.replace("REF1", "REF2") + MSG + UNZ.replace("REF1", "REF2")
    result = read((UNB + MSG + UNZ + "\n" + second).encode())
    assert result.ok and [ic.control_ref for ic in result.interchanges] == ["REF1", "REF2"]
    assert result.interchanges[1].delimiters.decimal == ","


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (UNB + MSG.replace("UNT+5", "UNT+4") + UNZ, ("CONTROL_COUNT", "UNT", 1)),
        (UNB + MSG.replace("UNT+5+1", "UNT+5+9") + UNZ, ("CONTROL_REFERENCE", "UNT", 2)),
        (UNB + MSG + "UNZ+2+REF1'", ("CONTROL_COUNT", "UNZ", 1)),
        (UNB + MSG + "UNZ+1+REF9'", ("CONTROL_REFERENCE", "UNZ", 2)),
        (UNB + "UNG+ORDERS+S+R+240102:0304+G1+UN+D:96A'" + MSG + "UNE+2+G1'UNZ+1+REF1'", ("CONTROL_COUNT", "UNE", 1)),
        (UNB + MSG, ("MISSING", "UNZ", None)),
    ],
)
def test_control_checks_reject_or_warn_per_policy(text: str, expected: tuple[str, str, int | None]) -> None:
    strict = [(c, s, seg, el) for c, s, seg, el in codes(text) if s == "error"]
    assert (expected[0], "error", expected[1], expected[2]) in strict
    loose = read(text.encode(), ReaderOptions(control_counts="warn"))
    assert loose.ok


def test_message_without_unt_is_always_an_error() -> None:
    found = codes(UNB + MSG.replace("UNT+5+1'", "") + UNZ, control_counts="warn")
    assert ("MISSING", "error", "UNT", None) in found


def test_segments_outside_messages_and_bad_tags() -> None:
    found = codes(UNB + "BGM+1'" + MSG.replace("DTM+", "dtm+") + UNZ)
    assert ("UNEXPECTED", "error", "BGM", None) in found
    assert ("EDIFACT_SYNTAX", "error", "dtm", None) in found


def test_truncated_input_and_garbage_after_unz() -> None:
    assert ("EDIFACT_SYNTAX", "error", "UNZ", None) in codes(UNB + MSG + "UNZ+1+REF1")
    assert ("EDIFACT_SYNTAX", "error", None, None) in codes(UNB + MSG + UNZ + "HELLO")


@pytest.mark.parametrize(
    ("syntax", "raw", "value", "ok"),
    [
        ("UNOY", "Grüße €".encode(), "Grüße €", True),
        ("UNOW", "Grüße".encode(), "Grüße", True),
        ("UNOC", "Grüße".encode("latin-1"), "Grüße", True),
        ("UNOD", "Łódź".encode("iso8859-2"), "Łódź", True),
        ("UNOE", "Привет".encode("iso8859-5"), "Привет", True),
        ("UNOY", b"Gr\xfc\xdfe", "Grüße", False),
        ("UNOA", b"GR\xdcSSE", "GRÜSSE", False),
    ],
)
def test_character_sets_decode_or_fall_back_flagged(syntax: str, raw: bytes, value: str, ok: bool) -> None:
    data = UNB.replace("UNOC", syntax).encode() + MSG.replace("PO-1", "@@").encode().replace(b"@@", raw) + UNZ.encode()
    result = read(data)
    assert result.ok is ok, [str(e) for e in result.findings]
    assert result.interchanges[0].messages[0].segments[1].value(2) == value
    if not ok:
        bad = next(e for e in result.findings if e.code == "CHARSET")
        first = data.index(raw) + next(i for i, b in enumerate(raw) if b > 0x7F)
        assert (bad.location.segment, bad.location.element, bad.location.offset) == ("BGM", 2, first)
        assert read(data, ReaderOptions(charset_violations="warn")).ok


def test_unoa_lower_case_is_only_a_warning_and_unknown_syntax_is_unsupported() -> None:
    assert codes(UNB.replace("UNOC", "UNOA") + MSG.replace("PO-1", "po-1") + UNZ) == [
        ("CHARSET", "warning", "BGM", 2)]
    assert ("UNSUPPORTED_SYNTAX", "error", "UNB", 1) in codes(UNB.replace("UNOC", "ABCD") + MSG + UNZ)


def test_no_input_raises_for_garbage() -> None:
    for data in (b"", b"\x00\xff", b"UNA", b"UNA:+.? ", b"UNB", b"UNB+", b"'", b"UNH+1'", b"UNA:+.? 'UNZ'"):
        result = read(data)
        assert not result.ok and all(e.location is not None for e in result.findings)


def test_parse_raises_document_rejected_and_read_header_is_cheap() -> None:
    with pytest.raises(DocumentRejected):
        parse((UNB + MSG).encode())
    assert len(parse((UNB + MSG + UNZ).encode())) == 1
    ic = read_header(("banner\n" + UNB + MSG).encode())
    assert ic.sender == "SENDER" and ic.messages == []
    with pytest.raises(DocumentRejected):
        read_header(b"nothing here")


_ODD_POOL = ["BGM+220+PO-1+9", "DTM+137:20240102:102", "dtm+1", "", "BGM:1+2", "FTX+AAI+++a?'b", "FTX+??+?:x",
             "AB+1", "ABCD+1", "QTY+21:3", "RFF", "NAD+BY+1?+2::9", "1AB+x", "FTX+AAI+++?'?'?'"]


def _findings(text: str) -> tuple[list[tuple[str, list[list[str]]]], list[tuple[str, str, str | None, int | None]]]:
    result = read(text.encode("latin-1"), ReaderOptions(control_counts="warn"))
    segments = [(s.tag, s.trimmed()) for ic in result.interchanges for m in ic.messages for s in m.segments]
    found = [(e.code, e.severity, e.location.segment, e.location.segment_index) for e in result.findings]
    return segments, found


@pytest.mark.parametrize("release_everywhere", [False, True])
def test_every_layout_finds_the_same_odd_segments(release_everywhere: bool) -> None:
    """Regular layouts (one ``'``, ``'\\n`` or ``'\\r\\n`` after every segment) find odd segments (bad tags,
    empty segments, no data separator, release characters, rare or in every segment) in one pass over the
    text; irregular ones look at each segment: both must agree, segment for segment and finding for finding."""
    plain = ["QTY+21:3"] * (0 if release_everywhere else 100)  # release characters rare, or in every segment
    body = [*plain, *(s + ("+?+" if release_everywhere else "") for s in _ODD_POOL), *plain] * 3
    segments = [UNB.rstrip("'"), "UNH+1+ORDERS:D:96A:UN", *body, f"UNT+{len(body) + 2}+1", UNZ.rstrip("'")]
    layouts = {sep: sep.join(segments) + "'" for sep in ("'", "'\n", "'\r\n")}
    layouts["irregular"] = "'\n".join(segments[:3]) + "'  \n " + "'\n".join(segments[3:]) + "'"
    expected = _findings(layouts["'"])
    assert ("EDIFACT_SYNTAX", "error", "dtm", len(plain) + 4) in expected[1]
    assert [tag for tag, _ in expected[0]].count("") == 3
    extra = [["+"]] if release_everywhere else []
    assert ("FTX", [["AAI"], [], [], ["a'b"], *extra]) in expected[0]
    assert ("FTX", [["AAI"], [], [], ["'''"], *extra]) in expected[0]
    assert ("NAD", [["BY"], ["1+2", "", "9"], *extra]) in expected[0]
    assert ("FTX", [["?"], [":x"], *extra]) in expected[0]
    for name, text in layouts.items():
        assert _findings(text) == expected, name
