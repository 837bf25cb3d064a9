"""The writer: escaping, UNA when needed, counts, long texts, character sets; its output passes the validator."""

from __future__ import annotations

from datetime import datetime

import pytest

from b2b_gateway.errors import DocumentRejected
from b2b_gateway.formats.edifact.model import Delimiters, Segment
from b2b_gateway.formats.edifact.reader import read
from b2b_gateway.formats.edifact.validator import validate_message
from b2b_gateway.formats.edifact.writer import (
    escape,
    message_segments,
    render_segment,
    split_text,
    write_interchange,
)

WHEN = datetime(2024, 1, 2, 3, 4)


def _order_body(note: str) -> list[Segment]:
    ftx = [Segment("FTX", [["PUR"], [""], [""], part]) for part in split_text(note, 70, 5)]
    return [
        Segment("BGM", [["220"], ["PO+1:2?3'4"], ["9"]]),
        Segment("DTM", [["137", "20240102", "102"]]),
        *ftx,
        Segment("NAD", [["BY"], ["5412345000013", "", "9"]]),
        Segment("NAD", [["SU"], ["5412345000020", "", "9"]]),
        Segment("LIN", [["1"], [""], ["5412345000037", "EN"]]),
        Segment("QTY", [["21", "12.5"]]),
        Segment("UNS", [["S"]]),
    ]


def test_escaping_and_trailing_empties() -> None:
    assert escape("a+b:c?d'e") == "a?+b?:c??d?'e"
    assert escape("3*4", Delimiters(repetition="*")) == "3?*4" and escape("3*4") == "3*4"
    assert render_segment(Segment("NAD", [["BY"], ["1", "", ""], [""], [""]])) == "NAD+BY+1'"
    assert render_segment(Segment("UNS")) == "UNS'"


def test_written_orders_pass_the_validator_with_counts_and_references() -> None:
    note = "Deliver between 8 and 12 o'clock: ring twice + wait. " * 10
    messages = [message_segments(str(n), "ORDERS", "D", "96A", "UN", "EAN008", _order_body(note)) for n in (1, 2)]
    data = write_interchange(messages, sender="5412345000013", sender_qualifier="14", recipient="5412345000020",
                             recipient_qualifier="14", control_ref="1001", prepared=WHEN, ack_request=True)
    result = read(data)
    assert result.ok
    ic = result.interchanges[0]
    assert (ic.control_ref, ic.ack_request, ic.date, ic.time) == ("1001", True, "240102", "0304")
    assert ic.trailer is not None and ic.trailer.value(1) == "2"
    for msg in ic.messages:
        assert validate_message(msg, ic) == []
        assert msg.segments[1].value(2) == "PO+1:2?3'4"
        ftx = msg.find_all("FTX")
        assert len(ftx) == 2 and "".join(c for s in ftx for c in s.element(4)) == note
        assert msg.trailer is not None and msg.trailer.value(1) == str(len(msg.segments))


def test_una_only_when_needed() -> None:
    plain = write_interchange([], sender="S", recipient="R", control_ref="1", prepared=WHEN)
    assert plain.startswith(b"UNB+UNOC:3+S+R+240102:0304+1'")
    comma = write_interchange([], sender="S", recipient="R", control_ref="1", prepared=WHEN,
                              delimiters=Delimiters(decimal=","))
    assert comma.startswith(b"UNA:+,? 'UNB")
    four = write_interchange([], sender="S", recipient="R", control_ref="1", prepared=WHEN, syntax_version="4")
    assert four.startswith(b"UNB+UNOC:4+S+R+20240102:0304+1'")
    forced = write_interchange([], sender="S", recipient="R", control_ref="1", prepared=WHEN, una=True)
    assert forced.startswith(b"UNA:+.? 'UNB")


def test_syntax4_repetitions_are_written_and_read_back() -> None:
    body = [Segment("BGM", [["220"], ["X"]]), Segment("CUX", [["2", "EUR"]], {0: [["2", "EUR"], ["3", "USD"]]})]
    data = write_interchange([message_segments("1", "INVOIC", "D", "01B", "UN", None, body)], sender="S",
                             recipient="R", control_ref="1", syntax_version="4", prepared=WHEN)
    assert b"CUX+2:EUR*3:USD'" in data
    cux = read(data).interchanges[0].messages[0].find("CUX")
    assert cux is not None and cux.occurrences(1) == [["2", "EUR"], ["3", "USD"]]


@pytest.mark.parametrize(("syntax", "value", "ok"), [("UNOA", "ÄPFEL", False), ("UNOC", "Äpfel", True),
                                                      ("UNOC", "€ 5", False), ("UNOY", "€ 5 äpfel 中", True),
                                                      ("UNOC", "line\nbreak", False), ("UNOC", "bell\x07", False)])
def test_character_sets_are_enforced_on_writing(syntax: str, value: str, ok: bool) -> None:
    body = [Segment("FTX", [["AAI"], [""], [""], [value]])]
    messages = [message_segments("1", "ORDERS", "D", "96A", "UN", None, body)]
    if not ok:
        with pytest.raises(DocumentRejected) as caught:
            write_interchange(messages, sender="S", recipient="R", control_ref="1", syntax_id=syntax)
        assert caught.value.errors[0].location.segment == "FTX" and caught.value.errors[0].location.element == 4
        return
    data = write_interchange(messages, sender="S", recipient="R", control_ref="1", syntax_id=syntax)
    result = read(data)
    assert result.ok and result.interchanges[0].messages[0].find("FTX").value(4) == value  # type: ignore[union-attr]


def test_split_text_keeps_every_character() -> None:
    assert split_text("", 35, 2) == [[""]]
    parts = split_text("x" * 200, 35, 2)
    assert [len(p) for p in parts] == [2, 2, 2] and sum(len(c) for p in parts for c in p) == 200
