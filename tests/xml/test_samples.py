"""Every public sample in ../shared/samples/xml and /json: accepted, or rejected for a documented reason.

SOURCES.md labels the XML samples "XSD ok" (and "EN16931: PASS" for invoices): the official XSD and the
CEN rules accept all of them, and so does the gateway's codec. Two EN 16931 examples (the UBL and the
CII form of the same invoice) carry a line whose net amount is -109.98 for 6 × 18.33; the CEN rules do
not check line arithmetic; the gateway's own rule GW-LIN-01 does and, since only the sign differs (a
return line), accepts the document with a warning naming that line. The
BR-CO-15 file is a VEFA ``testSet`` (a wrapper holding several test invoices, see test_cen_rules.py),
not a business document: the gateway refuses it as an unknown format.
"""

from __future__ import annotations

import pytest

from b2b_gateway.canonical.rules import check_business_rules
from b2b_gateway.errors import UnknownFormatError
from b2b_gateway.mapping.codec import CodecOptions
from b2b_gateway.mapping.registry import CodecRegistry
from tests.conftest import SHARED

OPTIONS = CodecOptions()
XML = SHARED / "samples" / "xml"
JSON = SHARED / "samples" / "json"
#: sample -> (codec, document type, root element, document number)
ACCEPTED = {
    "OpenPEPPOL_peppol-bis-invoice-3__base-example.xml": ("ubl", "invoice", "Invoice", "Snippet1"),
    "OpenPEPPOL_peppol-bis-invoice-3__Allowance-example.xml": ("ubl", "invoice", "Invoice", "Snippet1"),
    "OpenPEPPOL_peppol-bis-invoice-3__base-creditnote-correction.xml": ("ubl", "invoice", "CreditNote", "Snippet1"),
    "OpenPEPPOL_poacc-upgrade-3__Order_Example.xml": ("ubl", "order", "Order", "34"),
    "OpenPEPPOL_poacc-upgrade-3__OrderResponse_Example.xml": ("ubl", "order_response", "OrderResponse", "101"),
    "OpenPEPPOL_poacc-upgrade-3__DespatchAdvice_Example.xml": ("ubl", "despatch_advice", "DespatchAdvice", "565899"),
    "kduvekot_ubl-release-package__UBL-Order-2.1-Example.xml": ("ubl", "order", "Order", "34"),
    "Tradeshift_tradeshift-ubl-jsonschema__UBL-Order-2.1-Example.json": ("ubl-json", "order", "Order", "34"),
}
LINE_20_DEFECT = {
    "ConnectingEurope_eInvoicing-EN16931__ubl-tc434-example1.xml": (
        "ubl",
        "/Invoice/cac:InvoiceLine[20]/cbc:LineExtensionAmount",
    ),
    "ConnectingEurope_eInvoicing-EN16931__CII_example1.xml": (
        "cii",
        "/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem[20]"
        "/ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount",
    ),
}


def test_every_sample_is_covered() -> None:
    names = {p.name for p in XML.iterdir()} | {p.name for p in JSON.iterdir()}
    assert names == set(ACCEPTED) | set(LINE_20_DEFECT) | {"ConnectingEurope_eInvoicing-EN16931__BR-CO-15.xml"}


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_sample_is_accepted(name: str, registry: CodecRegistry) -> None:
    data = (XML / name if name.endswith(".xml") else JSON / name).read_bytes()
    fmt, kind, root, number = ACCEPTED[name]
    codec = registry.detect(data)
    assert codec.name == fmt
    assert codec.envelope(data, OPTIONS).document_type == kind
    [unit] = codec.split(data, OPTIONS)
    assert unit.document_type == kind and unit.native.getroot().tag.endswith("}" + root)
    assert [str(e) for e in codec.validate(unit, OPTIONS)] == []  # XSD (and EN 16931 for invoices) clean
    doc = codec.to_canonical(unit, OPTIONS)
    assert doc.document_number == number
    assert [str(e) for e in check_business_rules(doc)] == []


@pytest.mark.parametrize("name", sorted(LINE_20_DEFECT))
def test_en16931_example_passes_with_a_line_sign_warning(name: str, registry: CodecRegistry) -> None:
    data = (XML / name).read_bytes()
    fmt, xpath = LINE_20_DEFECT[name]
    codec = registry.detect(data)
    assert codec.name == fmt
    [unit] = codec.split(data, OPTIONS)
    assert codec.validate(unit, OPTIONS) == []  # official XSD and CEN rules: PASS, as labelled
    doc = codec.to_canonical(unit, OPTIONS)
    assert doc.document_number in ("TOSL108", "12115118")
    errors = check_business_rules(doc)
    locate = codec.locate
    locate(errors, unit)
    assert [(e.code, e.severity) for e in errors] == [("GW-LIN-01", "warning")]
    err = errors[0]
    assert "only the sign differs" in err.message
    assert "-109.98" in err.message and "6 × price 18.33" in err.message
    assert err.location.field == "lines[19].net_amount" and err.location.xpath == xpath and err.location.line


def test_br_co_15_test_set_is_not_a_business_document(registry: CodecRegistry) -> None:
    data = (XML / "ConnectingEurope_eInvoicing-EN16931__BR-CO-15.xml").read_bytes()
    with pytest.raises(UnknownFormatError, match="XML but no installed format"):
        registry.detect(data)
