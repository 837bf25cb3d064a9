"""Partner narrowing: refused when it widens the directory, applied (located) when it narrows it."""

from __future__ import annotations

import pytest

from b2b_gateway.errors import PartnerConfigError
from b2b_gateway.formats.edifact.directory import load_directory
from b2b_gateway.formats.edifact.narrowing import NarrowingRule, check_rules, parse_path
from b2b_gateway.formats.edifact.reader import read
from b2b_gateway.formats.edifact.validator import validate_message
from b2b_gateway.mapping.edifact.policy import narrowing_problems
from b2b_gateway.partners.profile import Narrowing, PartnerProfile

TEXT = ("UNB+UNOC:3+S:14+R:14+240102:0304+1'UNH+1+ORDERS:D:96A:UN'BGM+220+PO-1+9'DTM+137:20240102:102'"
        "NAD+BY+5412345000013::9'NAD+SU+5412345000020::9'NAD+DP+5412345000037::9'"
        "LIN+1++5412345000044:EN'QTY+21:12'UNS+S'UNT+10+1'UNZ+1+1'")


def _findings(*rules: NarrowingRule) -> list[tuple[str, str | None, int | None]]:
    ic = read(TEXT.encode()).interchanges[0]
    return [(e.code, e.location.segment, e.location.segment_index) for e in validate_message(ic.messages[0], ic,
                                                                                              rules=list(rules))]


def test_paths() -> None:
    assert parse_path("SG2/NAD[3035=SU]/C082/3039") == parse_path("SG2/NAD[3035=SU]/C082/3039")
    p = parse_path("SG2/NAD[3035=SU]/C082/3039")
    assert (p.groups, p.segment, p.qualifier, p.element) == (("SG2",), "NAD", ("3035", "SU"), "C082/3039")
    assert parse_path("SG25").segment is None
    with pytest.raises(PartnerConfigError):
        parse_path("SG2/nad")


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        (NarrowingRule("ORDERS", "BGM/C002/1001", codes=("220", "ZZZZ")), "ZZZZ"),
        (NarrowingRule("ORDERS", "BGM/1004", max_length=99), "max_length 99"),
        (NarrowingRule("ORDERS", "SG2", max_repeats=1000), "max_repeats 1000"),
        (NarrowingRule("ORDERS", "BGM", forbid=True), "mandatory"),
        (NarrowingRule("ORDERS", "SG2/NAD/3035", forbid=True), "mandatory"),
        (NarrowingRule("ORDERS", "SG2/FOO"), "FOO"),
        (NarrowingRule("ORDERS", "SG99"), "SG99"),
        (NarrowingRule("ORDERS", "BGM/C999"), "C999"),
        (NarrowingRule("NOSUCH", "BGM"), "NOSUCH"),
        (NarrowingRule("ORDERS", "FTX", require=True, forbid=True), "requires and forbids"),
    ],
)
def test_widening_or_unknown_rules_are_refused(rule: NarrowingRule, problem: str) -> None:
    found = check_rules([rule], load_directory("D96A"))
    assert found and problem in found[0].message and found[0].code == "CONFIG_PARTNER"


def test_narrowing_rules_are_accepted_and_applied() -> None:
    assert _findings() == []
    rules = [
        NarrowingRule("ORDERS", "BGM/C002/1001", codes=("221",)),
        NarrowingRule("ORDERS", "SG2/NAD[3035=SU]/C082/3039", max_length=5),
        NarrowingRule("ORDERS", "SG2", max_repeats=2),
        NarrowingRule("ORDERS", "FTX", require=True),
        NarrowingRule("ORDERS", "SG25/QTY", forbid=True),
        NarrowingRule("INVOIC", "BGM", require=False),
    ]
    assert check_rules(rules, load_directory("D96A")) == []
    assert sorted(_findings(*rules), key=str) == sorted([
        ("CODE_LIST", "BGM", 2),
        ("TOO_LONG", "NAD", 5),
        ("TOO_MANY", "NAD", 6),
        ("MISSING", "UNT", 10),
        ("UNEXPECTED", "QTY", 8),
    ], key=str)


def test_profile_narrowing_is_checked_against_the_partner_s_directories() -> None:
    good = PartnerProfile(id="P1", narrowing=[Narrowing(message="ORDERS", path="BGM/C002/1001", codes=["220"])])
    assert narrowing_problems(good) == []
    bad = PartnerProfile(id="P2", narrowing=[Narrowing(message="ORDERS", path="BGM/C002/1001", codes=["XYZ"])],
                         parsing={"charset_fallback": "no-such-codec"})
    problems = narrowing_problems(bad)
    assert len(problems) == 3  # the codec, and the code in both shipped directories
    assert all("partner P2" in p.message for p in problems)
