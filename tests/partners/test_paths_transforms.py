"""Addressing (EDIFACT paths, XPath, JSON paths) and the value transforms, both ways."""

from __future__ import annotations

from decimal import Decimal

import pytest
from lxml import etree

from b2b_gateway.errors import MappingConfigError, MappingError
from b2b_gateway.formats.edifact.directory import load_directory
from b2b_gateway.formats.edifact.model import Segment
from b2b_gateway.mapping.paths.edifact import EdifactSyntax, build_tree
from b2b_gateway.mapping.paths.json import JsonSyntax
from b2b_gateway.mapping.paths.xml import XmlSyntax
from b2b_gateway.mapping.transforms import (
    CodeTable,
    date_in,
    date_out,
    date_pattern_in,
    date_pattern_out,
    decimal_in,
    decimal_out,
    split_text,
    unit_factor,
)

UBL = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "ord": "urn:oasis:names:specification:ubl:schema:xsd:Order-2",
}


def seg(text: str) -> Segment:
    tag, *elements = text.split("+")
    return Segment(tag, [e.split(":") for e in elements])


def orders() -> EdifactSyntax:
    d96a = load_directory("D96A")
    return EdifactSyntax(d96a, d96a.message("ORDERS"))


def test_edifact_paths_read_like_the_standard() -> None:
    syntax = orders()
    segments = [
        seg(s)
        for s in [
            "UNH+1+ORDERS:D:96A:UN",
            "BGM+220+PO-1+9",
            "DTM+137:20260301:102",
            "NAD+SU+111::9",
            "NAD+BY+222::9",
            "RFF+VA:DE1",
            "LIN+1++4000:EN",
            "QTY+21:3:PCE",
            "LIN+2++4001:EN",
            "QTY+21:4:PCE",
            "UNS+S",
            "UNT+10+1",
        ]
    ]
    tree = build_tree(segments, syntax.message)
    gln, _ = syntax.compile("SG2[NAD/3035=BY]/NAD/C082/3039", None)
    vat, _ = syntax.compile("SG2[NAD/3035=BY]/SG3[RFF/C506/1153=VA]/RFF/C506/1154", None)
    assert [h.value for h in syntax.values(tree, gln)] == ["222"]
    assert syntax.values(tree, gln)[0].location.segment == "NAD"
    assert [h.value for h in syntax.values(tree, vat)] == ["DE1"]
    lines, scope = syntax.compile("SG25", None)
    qty, _ = syntax.compile("QTY[C186/6063=21]/C186/6060", scope)
    assert [syntax.values(line, qty)[0].value for line in syntax.nodes(tree, lines)] == ["3", "4"]
    second, _ = syntax.compile("SG2[2]/NAD/3035", None)
    assert [h.value for h in syntax.values(tree, second)] == ["BY"]


def test_edifact_paths_are_checked_against_the_structure_and_code_lists() -> None:
    syntax = orders()
    with pytest.raises(MappingConfigError, match="SG3 directly in ORDERS"):
        syntax.compile("SG3/RFF/C506/1154", None)
    with pytest.raises(MappingConfigError, match="XX is not a code of data element 2005"):
        syntax.compile("DTM[C507/2005=XX]/C507/2380", None)
    with pytest.raises(MappingConfigError, match="no component 9999"):
        syntax.compile("BGM/C002/9999", None)


def test_edifact_writing_creates_groups_segments_and_qualifiers_in_structure_order() -> None:
    syntax = orders()
    tree = syntax.new_document()
    syntax.write(tree, syntax.compile("CNT[C270/6069=2]/C270/6066", None)[0], "1")
    syntax.write(tree, syntax.compile("SG2[NAD/3035=BY]/NAD/C082/3039", None)[0], "222")
    syntax.write(tree, syntax.compile("BGM/1004", None)[0], "PO-1")
    syntax.write(tree, syntax.compile("DTM[C507/2005=137]/C507/2380", None)[0], "20260301")
    syntax.write(tree, syntax.compile("SG2[NAD/3035=BY]/NAD/C080/3036", None)[0], "Buyer")
    rendered = [(s.tag, s.trimmed()) for s in tree.walk()]
    assert rendered == [
        ("BGM", [[], ["PO-1"]]),
        ("DTM", [["137", "20260301"]]),
        ("NAD", [["BY"], ["222"], [], ["Buyer"]]),
        ("CNT", [["2", "1"]]),
    ]


def test_xpath_reads_with_namespaces_and_writes_its_subset() -> None:
    syntax = XmlSyntax(UBL, "ord:Order")
    doc = etree.fromstring(
        b'<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2" '
        b'xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" '
        b'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">\n'
        b"<cbc:ID>PO-9</cbc:ID>\n<cac:BuyerCustomerParty><cac:Party><cac:PartyIdentification>"
        b'<cbc:ID schemeID="0088">4000</cbc:ID></cac:PartyIdentification></cac:Party></cac:BuyerCustomerParty>\n'
        b"</Order>"
    )
    gln, _ = syntax.compile("cac:BuyerCustomerParty/cac:Party/cac:PartyIdentification/cbc:ID[@schemeID='0088']", None)
    hit = syntax.values(doc, gln)[0]
    assert hit.value == "4000" and hit.location.line == 3
    assert hit.location.xpath == "/ord:Order/cac:BuyerCustomerParty/cac:Party/cac:PartyIdentification/cbc:ID"
    with pytest.raises(MappingConfigError, match="prefix 'xx' is not declared"):
        syntax.compile("xx:Foo", None)
    out = syntax.new_document()
    syntax.write(out, syntax.compile("cbc:ID", None)[0], "PO-9")
    syntax.write(out, syntax.compile("cac:PartyTaxScheme[cac:TaxScheme/cbc:ID='VAT']/cbc:CompanyID", None)[0], "DE1")
    syntax.write(out, syntax.compile("cbc:Amount/@currencyID", None)[0], "EUR")
    text = etree.tostring(out).decode()
    assert "<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme><cbc:CompanyID>DE1</cbc:CompanyID>" in text
    assert '<cbc:Amount currencyID="EUR"/>' in text


def test_json_paths_pointer_and_dotted_with_filters() -> None:
    syntax = JsonSyntax()
    doc = {"parties": [{"role": "seller", "id": "S"}, {"role": "buyer", "id": "B"}], "lines": [{"q": 1}, {"q": 2}]}
    assert syntax.values(doc, syntax.compile("parties[role=buyer].id", None)[0])[0].value == "B"
    hit = syntax.values(doc, syntax.compile("/lines/1/q", None)[0])[0]
    assert hit.value == "2" and hit.location.json_pointer == "/lines/1/q"
    assert len(syntax.nodes(doc, syntax.compile("lines", None)[0])) == 2
    out: dict[str, object] = {}
    syntax.write(out, syntax.compile("parties[role=buyer].id", None)[0], "B")
    syntax.put(out, syntax.compile("total.amount", None)[0], Decimal("1.50"))
    assert out == {"parties": [{"role": "buyer", "id": "B"}], "total": {"amount": Decimal("1.50")}}


@pytest.mark.parametrize(
    ("text", "fmt", "part", "iso"),
    [
        ("20260301", "102", "date", "2026-03-01"),
        ("202603011230", "203", "date", "2026-03-01"),
        ("202603011230", "203", "time", "12:30:00"),
        ("20260301123045", "204", "time", "12:30:45"),
        ("20260301-20260305", "718", "end", "2026-03-05"),
        ("2026-03-01T09:15:00+01:00", "iso", "date", "2026-03-01"),
        ("20260301", "auto", "date", "2026-03-01"),
    ],
)
def test_dates_in_edifact_formats(text: str, fmt: str, part: str, iso: str) -> None:
    assert date_in(text, fmt, part) == iso


def test_dates_in_a_partner_layout() -> None:
    assert date_pattern_in("10.03.2026", "%d.%m.%Y") == "2026-03-10"
    assert date_pattern_out("2026-03-10", "%d.%m.%Y") == "10.03.2026"
    with pytest.raises(MappingError, match="not a date like"):
        date_pattern_in("2026-03-10", "%d.%m.%Y")


def test_dates_back_and_bad_dates() -> None:
    assert date_out("2026-03-01", "102") == "20260301"
    assert date_out("2026-03-01", "203") == "202603010000"
    assert date_out("2026-03-05", "718", "end", "20260301-") == "20260301-20260305"
    with pytest.raises(MappingError, match="not a date in format 102"):
        date_in("20261301", "102")


def test_decimals_with_either_mark_tables_units_and_text() -> None:
    assert decimal_in("1.234,50") == "1234.50"
    assert decimal_in("1,234.50") == "1234.50"
    assert decimal_in("2,5", ",") == "2.5"
    assert decimal_out(Decimal("2.5"), ",") == "2,5"
    with pytest.raises(MappingError, match="not a number"):
        decimal_in("12a")
    table = CodeTable.build("units", {"PCE": "C62", "EA": "C62"}, {"C62": "PCE"})
    assert table.translate("EA", reverse=False, unknown="error") == "C62"
    assert table.translate("C62", reverse=True, unknown="error") == "PCE"
    assert table.translate("XX", reverse=False, unknown="keep") == "XX"
    with pytest.raises(MappingError, match="not in table 'units'"):
        table.translate("XX", reverse=False, unknown="error")
    assert unit_factor("GRM", "KGM") == Decimal("0.001")
    with pytest.raises(MappingConfigError, match="cannot convert"):
        unit_factor("KGM", "MTR")
    assert split_text("Mounting bracket, stainless steel, 50 mm", 20) == [
        "Mounting bracket,",
        "stainless steel, 50",
        "mm",
    ]
