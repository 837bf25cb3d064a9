"""CONTRL content (action codes, 0085 codes, UCS/UCD positions), when one is due, reading inbound CONTRL
and APERAK, and matching them to what was sent."""

from __future__ import annotations

from datetime import datetime

import pytest

from b2b_gateway.errors import BusinessRuleError, GatewayError
from b2b_gateway.formats.edifact.acks import (
    AperakReport,
    ContrlReport,
    acknowledgments_in,
    match_acknowledgment,
    read_aperak,
    read_contrl,
)
from b2b_gateway.formats.edifact.aperak import AperakItem, aperak_message
from b2b_gateway.formats.edifact.contrl import build_contrl, contrl_wanted
from b2b_gateway.formats.edifact.model import Interchange, Segment
from b2b_gateway.formats.edifact.reader import read
from b2b_gateway.formats.edifact.validator import validate_message
from b2b_gateway.formats.edifact.writer import write_interchange
from tests.edifact.conftest import everything, sample

UNB = "UNB+UNOC:3+SENDER:14+RECEIVER:14+240102:0304+REF1++++1'"
ORDER = ("UNH+{ref}+ORDERS:D:96A:UN:EAN008'BGM+220+PO-1+9'DTM+137:20240102:102'NAD+BY+5412345000013::9'"
         "UNS+S'UNT+6+{ref}'")


def _contrl_of(text: str) -> tuple[Interchange, list[Segment]]:
    result = read(text.encode())
    ic = result.interchanges[0]
    data = build_contrl(ic, everything(result), control_ref="C1", message_ref="M1", prepared=datetime(2024, 1, 2))
    answer = read(data)
    assert answer.ok, [str(e) for e in answer.findings]
    reply = answer.interchanges[0]
    assert (reply.sender, reply.recipient, reply.control_ref) == ("RECEIVER", "SENDER", "C1")
    msg = reply.messages[0]
    assert (msg.type, msg.version, msg.release) == ("CONTRL", "D", "3")
    assert [e for e in validate_message(msg, reply) if e.severity == "error"] == []
    return ic, msg.body


def _rows(body: list[Segment]) -> list[str]:
    return [f"{s.tag}+" + "+".join(":".join(c) for c in s.trimmed()) for s in body]


def test_accepted_interchange_gets_uci_7_and_ucm_7() -> None:
    _, body = _contrl_of(UNB + ORDER.format(ref="1") + "UNZ+1+REF1'")
    assert _rows(body) == ["UCI+REF1+SENDER:14+RECEIVER:14+7", "UCM+1+ORDERS:D:96A:UN:EAN008+7"]


def test_element_errors_become_ucs_and_ucd_with_positions() -> None:
    bad = ORDER.format(ref="1").replace("PO-1", "P" * 40).replace("::9'", "::9+X+Y+Z+Q+R+S+T+U+V+W'")
    _, body = _contrl_of(UNB + bad + "UNZ+1+REF1'")
    assert _rows(body) == [
        "UCI+REF1+SENDER:14+RECEIVER:14+7",
        "UCM+1+ORDERS:D:96A:UN:EAN008+4",
        "UCS+2",
        "UCD+39+2",  # BGM element 2 (1004) too long
        "UCS+4",
        "UCD+16+10",  # NAD: too many data elements, from element 10
    ]


def test_missing_segment_and_unt_count() -> None:
    text = UNB + ORDER.format(ref="1").replace("BGM+220+PO-1+9'", "").replace("UNT+6", "UNT+9") + "UNZ+1+REF1'"
    _, body = _contrl_of(text)
    assert _rows(body) == [
        "UCI+REF1+SENDER:14+RECEIVER:14+7",
        "UCM+1+ORDERS:D:96A:UN:EAN008+4+29+UNT+1",  # UNT count
        "UCS+2+13",  # BGM missing, noticed at segment 2 (DTM)
    ]


def test_interchange_level_error_rejects_at_uci() -> None:
    _, body = _contrl_of(UNB + ORDER.format(ref="1") + "UNZ+5+REF1'")
    assert _rows(body)[0] == "UCI+REF1+SENDER:14+RECEIVER:14+4+29+UNZ+1"


def test_groups_get_ucf() -> None:
    text = (UNB + "UNG+ORDERS+S:14+R:14+240102:0304+G1+UN+D:96A'" + ORDER.format(ref="1") + "UNE+2+G1'UNZ+1+REF1'")
    _, body = _contrl_of(text)
    assert _rows(body) == [
        "UCI+REF1+SENDER:14+RECEIVER:14+7",
        "UCF+G1+S:14+R:14+4+29+UNE+1",
        "UCM+1+ORDERS:D:96A:UN:EAN008+7",
    ]


def test_application_errors_and_warnings_do_not_reject_in_contrl() -> None:
    result = read((UNB + ORDER.format(ref="1") + "UNZ+1+REF1'").encode())
    ic = result.interchanges[0]
    rule = BusinessRuleError("totals do not add up", code="BR-CO-15", location=ic.messages[0].segments[1].location())
    rule.at(ic.messages[0].location())
    warning = GatewayError("just so", severity="warning").at(ic.messages[0].location())
    data = build_contrl(ic, [rule, warning], control_ref="1")
    assert b"UCM+1+ORDERS:D:96A:UN:EAN008+7'" in data


def test_syntax4_contrl_is_4_1() -> None:
    text = (UNB.replace("UNOC:3", "UNOC:4").replace("240102", "20240102") + ORDER.format(ref="1") + "UNZ+1+REF1'")
    ic = read(text.encode()).interchanges[0]
    reply = read(build_contrl(ic, [], control_ref="1")).interchanges[0]
    assert (reply.syntax_version, reply.messages[0].version, reply.messages[0].release) == ("4", "4", "1")
    assert validate_message(reply.messages[0], reply) == []


def test_when_a_contrl_is_due() -> None:
    asked = read((UNB + ORDER.format(ref="1") + "UNZ+1+REF1'").encode()).interchanges[0]
    quiet = read((UNB.replace("++++1'", "'") + ORDER.format(ref="1") + "UNZ+1+REF1'").encode()).interchanges[0]
    problem = [GatewayError("x")]
    assert contrl_wanted("on_request", asked, []) and not contrl_wanted("on_request", quiet, [])
    assert contrl_wanted("always", quiet, []) and not contrl_wanted("never", asked, [])
    assert contrl_wanted("on_error", quiet, problem) and not contrl_wanted("on_error", asked, [])
    contrl = read(build_contrl(asked, [], control_ref="2")).interchanges[0]
    assert not contrl_wanted("always", contrl, problem)  # never a CONTRL for a CONTRL


def test_reading_a_contrl_and_matching_it() -> None:
    text = UNB + ORDER.format(ref="1").replace("PO-1", "P" * 40) + ORDER.format(ref="2") + "UNZ+2+REF1'"
    result = read(text.encode())
    data = build_contrl(result.interchanges[0], everything(result), control_ref="7")
    report = read_contrl(read(data).interchanges[0].messages[0])
    assert isinstance(report, ContrlReport)
    assert (report.interchange_ref, report.action, report.status) == ("REF1", "7", "rejected")
    first, second = report.messages
    assert (first.ref, first.action, second.ref, second.action) == ("1", "4", "2", "7")
    assert [(e.code, e.segment_position, e.element) for e in first.errors] == [("39", 2, 2)]
    sent = {("REF1", None): "interchange row", ("REF1", "1"): "message row 1"}
    match = match_acknowledgment(report, lambda i, m: sent.get((i, m)))
    assert match.interchange == "interchange row" and match.messages == [("1", "message row 1")]
    assert [e.details for e in match.unmatched] == [{"interchange": "REF1", "message": "2"}]
    assert match.unmatched[0].location.segment == "UCM"
    never = match_acknowledgment(report, lambda i, m: None)
    assert len(never.unmatched) == 3 and never.interchange is None


def test_aperak_round_trip_and_match() -> None:
    msg = aperak_message("5", document_number="AP-1", answered_ref="17",
                         errors=[AperakItem("BR-CO-15", "totals do not add up " * 6)], answered_document=("ON", "PO-1"),
                         sender="5412345000013", recipient="5412345000020", prepared=datetime(2024, 1, 2))
    data = write_interchange([msg], sender="S", recipient="R", control_ref="3")
    ic = read(data).interchanges[0]
    assert validate_message(ic.messages[0], ic) == []
    [report] = acknowledgments_in(ic)
    assert isinstance(report, AperakReport)
    assert (report.status, report.reference("ACW"), report.reference("ON")) == ("rejected", "17", "PO-1")
    assert report.errors[0].code == "BR-CO-15" and report.errors[0].text.startswith("totals do not add up")
    assert match_acknowledgment(report, lambda i, m: m == "17" or None).messages == [("17", True)]
    assert match_acknowledgment(report, lambda i, m: None).unmatched[0].code == "UNMATCHED_ACK"


def test_the_pydifact_aperak_sample_reads_as_accepted() -> None:
    from b2b_gateway.formats.edifact.reader import ReaderOptions

    ic = read(sample("nerdocs_pydifact__aperak.edi"), ReaderOptions(control_counts="warn")).interchanges[0]
    report = read_aperak(ic.messages[0])
    assert report.reference("ACW") == "PO123456" and report.errors[0].code == "1"
    assert report.errors[0].text == "Message accepted without errors"


@pytest.mark.parametrize("name", ["xlate_staedi__invoic_d97b_bad.edi", "php-edifact_edifact__example_order_error.edi"])
def test_contrl_for_broken_samples_validates(name: str) -> None:
    result = read(sample(name))
    ic = result.interchanges[0]
    reply = read(build_contrl(ic, everything(result), control_ref="1"))
    assert reply.ok
    assert b"UCM" in build_contrl(ic, everything(result), control_ref="1")


def test_a_contrl_for_many_messages_shares_what_every_ucm_repeats() -> None:
    """A CONTRL answering 100,000 messages holds 100,000 UCMs: their S009 and 0083 are one list each."""
    from b2b_gateway.formats.edifact.contrl import contrl_segments
    from b2b_gateway.formats.edifact.model import EdifactMessage

    ic = read(b"UNA:+.? 'UNB+UNOC:3+A:ZZ+B:14+260301:1200+IC1'UNZ+0+IC1'").interchanges[0]
    ic.messages = [EdifactMessage(ref=str(i), type="ORDERS", version="D", release="96A", agency="UN") for i in range(3)]
    ucms = [s for s in contrl_segments(ic, []) if s.tag == "UCM"]
    assert [u.elements[0] for u in ucms] == [["0"], ["1"], ["2"]]
    assert ucms[0].elements[1] == ["ORDERS", "D", "96A", "UN"] and ucms[0].elements[2] == ["7"]
    assert all(u.elements[1] is ucms[0].elements[1] and u.elements[2] is ucms[0].elements[2] for u in ucms)
