"""The official EN 16931 rules (CEN XSLT through saxonche) and the BR-CO-15 test set of the CEN project.

The BR-CO-15 sample is a VEFA ``testSet``: each ``test`` holds a fragment of an invoice and says whether
BR-CO-15 must fire (``<error>``) or not (``<success>``). Each fragment is run through the rules on its own.
"""

from __future__ import annotations

from lxml import etree

from b2b_gateway.errors import BusinessRuleError
from b2b_gateway.formats.xml.cen import readable_xpath, svrl_errors
from b2b_gateway.formats.xml.parser import parse_xml
from b2b_gateway.formats.xml.xsd import PREFIXES, OfficialValidators
from tests.conftest import SHARED

VEFA = "{http://difi.no/xsd/vefa/validator/1.0}"
INVOICE = "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice"


def test_br_co_15_test_set_behaves_as_labelled(validators: OfficialValidators) -> None:
    rules = validators.cen("ubl")
    assert rules is not None
    test_set = parse_xml(
        (SHARED / "samples" / "xml" / "ConnectingEurope_eInvoicing-EN16931__BR-CO-15.xml").read_bytes()
    )
    outcomes = []
    for test in test_set.getroot().iter(f"{VEFA}test"):
        expected = "error" if test.find(f"{VEFA}assert/{VEFA}error") is not None else "success"
        fragment = test.find(INVOICE)
        assert fragment is not None
        errors = rules.run(parse_xml(etree.tostring(fragment)), PREFIXES)
        fired = [e for e in errors if e.code == "BR-CO-15"]
        outcomes.append((expected, bool(fired)))
        for err in fired:
            assert isinstance(err, BusinessRuleError) and err.severity == "error"
            assert err.details["flag"] == "fatal" and err.location.xpath == "/Invoice[1]" and err.location.line == 1
            assert "BR-CO-15" in err.message and "amount with VAT" in err.message
    assert outcomes == [("success", False)] * 4 + [("error", True)] * 4


def test_svrl_failed_asserts_become_located_errors() -> None:
    svrl = b"""<svrl:schematron-output xmlns:svrl="http://purl.oclc.org/dsdl/svrl">
      <svrl:failed-assert id="BR-05" flag="fatal" test="cbc:DocumentCurrencyCode"
          location="/*:Invoice[namespace-uri()='urn:oasis:names:specification:ubl:schema:xsd:Invoice-2'][1]">
        <svrl:text>[BR-05]-An Invoice shall have an Invoice currency code (BT-5).</svrl:text>
      </svrl:failed-assert>
      <svrl:failed-assert id="BR-CL-10" flag="warning" test="x"
          location="/*:Invoice[namespace-uri()='urn:oasis:names:specification:ubl:schema:xsd:Invoice-2'][1]/*:ID[namespace-uri()='urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2'][1]">
        <svrl:text>Scheme unknown</svrl:text>
      </svrl:failed-assert>
    </svrl:schematron-output>"""
    tree = parse_xml(
        b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"\n'
        b' xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">\n'
        b"<cbc:ID>1</cbc:ID></Invoice>"
    )
    first, second = svrl_errors(svrl, tree=tree, prefixes=PREFIXES)
    assert first.code == "BR-05" and first.severity == "error" and first.location.line == 2
    assert first.message == "BR-05: An Invoice shall have an Invoice currency code (BT-5)."
    assert (
        second.severity == "warning" and second.location.xpath == "/Invoice[1]/cbc:ID[1]" and second.location.line == 3
    )
    assert readable_xpath("/*:A[namespace-uri()='x'][1]", {}) == "/A[1]"


def test_broken_invoice_is_reported_with_rule_severity_and_location(validators: OfficialValidators) -> None:
    rules = validators.cen("ubl")
    assert rules is not None
    data = (SHARED / "samples" / "xml" / "OpenPEPPOL_peppol-bis-invoice-3__base-example.xml").read_bytes()
    broken = data.replace(b'<cbc:PayableAmount currencyID="EUR">', b'<cbc:PayableAmount currencyID="EUR">9', 1)
    assert broken != data
    errors = rules.run(parse_xml(broken), PREFIXES)
    codes = {e.code for e in errors}
    assert "BR-CO-16" in codes
    err = next(e for e in errors if e.code == "BR-CO-16")
    assert (
        err.location.xpath and err.location.xpath.startswith("/Invoice[1]/cac:LegalMonetaryTotal") and err.location.line
    )
