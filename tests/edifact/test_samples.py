"""Every public sample is read, or rejected with a located error matching its documented defect
(``../shared/samples/SOURCES.md``, including "Defects found on a second look")."""

from __future__ import annotations

import pytest

from b2b_gateway.errors import GatewayError
from b2b_gateway.formats.edifact.reader import read
from tests.edifact.conftest import WARN, errors, everything, sample, sample_names


def _codes(found: list[GatewayError]) -> set[tuple[str, str | None, int | None, int | None]]:
    return {(e.code, e.location.segment, e.location.element, e.location.component) for e in found}


def _assert_located(found: list[GatewayError]) -> None:
    for e in found:
        loc = e.location
        assert loc.offset is not None and loc.line is not None and loc.segment, f"unlocated: {e!r}"


@pytest.mark.parametrize("name", sample_names())
def test_every_sample_reads_without_crashing_and_every_finding_is_located(name: str) -> None:
    result = read(sample(name))
    assert result.interchanges, name
    found = everything(result)
    _assert_located(found)
    for ic in result.interchanges:
        data = sample(name)
        for msg in ic.messages:
            for seg in msg.segments:
                assert data[seg.offset : seg.offset + 3].decode("latin-1") == seg.tag
                assert seg.line == data[: seg.offset].count(b"\n") + 1


CLEAN = [
    "BerryWorksSoftware_edireader__ORDERS-D01B-UNOC.edi",
    "bots-edi_bots-plugins__orders02.edi",
    "nerdocs_pydifact__invoice1.edi",
    "nerdocs_pydifact__wikipedia_en.edi",
    "smooks_smooks-edi-cartridge__invoic.edi",
    "php-edifact_edifact__example_order_ok.edi",
]


@pytest.mark.parametrize("name", CLEAN)
def test_samples_without_documented_syntax_defects_read_cleanly(name: str) -> None:
    result = read(sample(name))
    assert result.ok, [str(e) for e in result.findings]


def test_berryworks_ordrsp_d01b_validates_cleanly() -> None:
    result = read(sample("BerryWorksSoftware_edireader__ORDERS-D01B-UNOC.edi"))
    msg = result.interchanges[0].messages[0]
    assert (msg.type, msg.directory, msg.association) == ("ORDRSP", "D01B", "EAN008")
    assert errors(everything(result)) == []
    assert "Lörém" in msg.segments[1].value(1, 4)  # UNOC: latin-1 umlauts


def test_bots_orders02_holds_24_interchanges_of_one_order_each() -> None:
    result = read(sample("bots-edi_bots-plugins__orders02.edi"))
    assert len(result.interchanges) == 24 and all(len(ic.messages) == 1 for ic in result.interchanges)
    assert all(ic.test for ic in result.interchanges)
    found = everything(result)
    assert errors(found) == []  # EANCOM-only codes (BGM 1001 50E) are warnings
    assert ("CODE_LIST", "BGM", 1, 1) in _codes(found)


def test_smooks_syntax4_repetition_separator() -> None:
    ic = read(sample("smooks_smooks-edi-cartridge__invoic.edi")).interchanges[0]
    assert ic.syntax_version == "4" and ic.delimiters.repetition == "*"
    cux = ic.messages[0].find("CUX")
    assert cux is not None and cux.occurrences(1) == [["3"], ["1"]]
    imd = ic.messages[0].find("IMD")
    text = "Collectors edition of The Hobbit with Tolkien's original colours on sleeve"
    assert imd is not None and imd.value(3, 5) == text


def test_wikipedia_iatb_paores_reads_and_is_not_validated_for_lack_of_a_directory() -> None:
    result = read(sample("nerdocs_pydifact__wikipedia_en.edi"))
    assert result.ok and result.interchanges[0].syntax_id == "IATB"
    found = everything(result)
    assert [e.code for e in found] == ["UNKNOWN_DOCUMENT_TYPE"] and found[0].severity == "warning"


def test_release_characters_are_read_with_parity() -> None:
    result = read(sample("php-edifact_edifact__example_release_character.edi"), WARN)
    ift = [s.elements for s in result.interchanges[0].messages[0].segments if s.tag == "IFT"]
    assert [["3"], ["NO MORE FLIGHTS 2?"]] in ift
    assert [["3"], ["NO MORE ' FLIGHTS 3"]] in ift
    assert [["3"], ["NO MORE ?' FLIGHTS 3"]] in ift
    assert [["3"], ["FIELD 1?+FIELD 2"]] in ift
    assert [["3"], ["FIELD 1?"], ["FIELD 2"]] in ift


# --- documented defects -----------------------------------------------------------------------------


def test_aperak_unt_count_is_refused_by_default_and_warned_with_warn_policy() -> None:
    strict = read(sample("nerdocs_pydifact__aperak.edi"))
    assert ("CONTROL_COUNT", "UNT", 1, None) in _codes(errors(strict.findings))
    unt = errors(strict.findings)[0]
    assert unt.location.message == "1" and unt.location.segment_index == 7 and unt.location.line == 9
    assert unt.details == {"declared": "8", "received": 7}
    loose = read(sample("nerdocs_pydifact__aperak.edi"), WARN)
    assert loose.ok and any(e.code == "CONTROL_COUNT" and e.severity == "warning" for e in loose.findings)
    assert errors(everything(loose)) == []


def test_order_without_unz_is_refused_by_default_and_read_with_warn_policy() -> None:
    strict = read(sample("nerdocs_pydifact__order.edi"))
    missing = [e for e in errors(strict.findings) if e.code == "MISSING"]
    assert missing and missing[0].location.segment == "UNZ" and missing[0].location.line == 18
    loose = read(sample("nerdocs_pydifact__order.edi"), WARN)
    assert loose.ok
    msg = loose.interchanges[0].messages[0]
    assert msg.type == "ORDERS" and msg.trailer is not None and loose.interchanges[0].delimiters.decimal == ","


@pytest.mark.parametrize(
    ("name", "declared", "received", "line"),
    [
        ("xlate_staedi__orders-with-group.edi", "21", 18, 20),
        ("php-edifact_edifact__example_release_character.edi", "14", 23, 25),
        ("indice-co_EDI.Net__edifact.ORDRSP.edi", "17", 31, 1),
        ("nerdocs_pydifact__aperak.edi", "8", 7, 9),
    ],
)
def test_unt_counts_found_on_a_second_look(name: str, declared: str, received: int, line: int) -> None:
    strict = read(sample(name))
    counts = [e for e in errors(strict.findings) if e.code == "CONTROL_COUNT" and e.location.segment == "UNT"]
    assert counts and counts[0].details == {"declared": declared, "received": received}
    assert counts[0].location.line == line
    loose = read(sample(name), WARN)
    assert loose.ok, [str(e) for e in loose.findings if e.severity == "error"]


def test_orders_with_group_reads_the_functional_group() -> None:
    ic = read(sample("xlate_staedi__orders-with-group.edi"), WARN).interchanges[0]
    assert len(ic.groups) == 1 and ic.groups[0].messages == ic.messages
    assert ic.test and ic.agreement == "EANCOM" and ic.ack_request is False
    assert ic.messages[0].group_ref == "1" and ic.messages[0].association == "EAN008B"


def test_indice_ordrsp_d10a_single_line_also_has_wrong_references() -> None:
    strict = read(sample("indice-co_EDI.Net__edifact.ORDRSP.edi"))
    codes = _codes(errors(strict.findings))
    assert ("CONTROL_REFERENCE", "UNT", 2, None) in codes and ("CONTROL_REFERENCE", "UNZ", 2, None) in codes
    assert all(e.location.line == 1 for e in strict.findings)


def test_desadv_with_version_0_is_rejected_at_unh_0052() -> None:
    found = errors(everything(read(sample("php-edifact_edifact__D96ADESADV.edi"))))
    assert ("CODE_LIST", "UNH", 2, 2) in _codes(found)


def test_order_error_unreleased_colon_in_imd_is_too_many_components() -> None:
    result = read(sample("php-edifact_edifact__example_order_error.edi"))
    released = [e for e in result.findings if e.code == "EDIFACT_SYNTAX"]
    assert len(released) == 4 and all(e.severity == "warning" and e.location.line == 85 for e in released)
    found = errors(everything(result))
    imd = [e for e in found if e.code == "TOO_MANY" and e.location.segment == "IMD"]
    assert imd and (imd[0].location.element, imd[0].location.component) == (3, 7)
    assert imd[0].ack.contrl == "16"


def test_order_ok_has_no_imd_problem_but_its_qty_units_are_too_long() -> None:
    """Not documented in SOURCES.md: QTY C186 6411 'GBND' exceeds an..3 in D01B (both _ok and _error)."""
    found = errors(everything(read(sample("php-edifact_edifact__example_order_ok.edi"))))
    assert {(e.code, e.location.segment) for e in found} == {("TOO_LONG", "QTY")}


def test_invoic_d97b_unoa_with_u_umlaut_is_a_charset_violation() -> None:
    strict = read(sample("xlate_staedi__invoic_d97b.edi"))
    charset = errors(strict.findings)
    assert [(e.code, e.location.segment, e.location.element, e.location.line, e.location.column) for e in charset] == [
        ("CHARSET", "NAD", 4, 7, 24)
    ]
    loose = read(sample("xlate_staedi__invoic_d97b.edi"), type(WARN)(charset_violations="warn"))
    assert loose.ok
    nad = loose.interchanges[0].messages[0].segments[5]
    assert nad.value(4) == "BÃ\x9cTTNER WIDGET COMPANY"  # UTF-8 bytes under UNOA: decoded by the latin-1 fallback


def test_invoic_d97b_bad_defects() -> None:
    found = everything(read(sample("xlate_staedi__invoic_d97b_bad.edi")))
    hard = _codes(errors(found))
    assert ("TOO_LONG", "NAD", 1, None) in hard  # NAD+BYZZ
    assert ("REPRESENTATION", "QTY", 1, 2) in hard  # 1020A
    assert ("REPRESENTATION", "PRI", 1, 2) in hard  # $1.179
    soft = _codes([e for e in found if e.severity == "warning"])
    assert ("TOO_MANY", "UNS", None, None) in soft  # the second UNS (D97B validated against D96A: a warning)
    assert ("CODE_LIST", "NAD", 1, None) in soft
    assert ("UNSUPPORTED_SYNTAX", "UNH", 2, 3) in soft
