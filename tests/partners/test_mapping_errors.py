"""Every kind of mapping error names the mapping file's line and the place in the source document."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from b2b_gateway.errors import DocumentRejected, GatewayError, MappingConfigError, MappingError
from b2b_gateway.formats.edifact.model import EdifactMessage
from b2b_gateway.formats.edifact.reader import parse
from b2b_gateway.mapping.catalog import MappingCatalog, PartnerMappings
from b2b_gateway.mapping.codec import CodecOptions
from b2b_gateway.mapping.edifact_mapping import EdifactMapper
from b2b_gateway.mapping.loader import load_mapping
from b2b_gateway.mapping.plan import CompiledMapping
from b2b_gateway.partners.profile import PartnerProfile
from tests.partners.conftest import write

HEAD = textwrap.dedent("""
    document: order
    format: edifact
    direction: inbound
    message: ORDERS
    directory: D96A
""").lstrip()

GOOD = (
    HEAD
    + textwrap.dedent("""
    tables:
      units: {PCE: C62}
    fields:
      document_number: {path: BGM/1004, required: true}
      issue_date: {path: "DTM[C507/2005=137]/C507/2380", date: "102", required: true}
      buyer:
        scope: "SG2[NAD/3035=BY]"
        required: true
        fields:
          name: {path: NAD/C080/3036, required: true}
      seller:
        scope: "SG2[NAD/3035=SU]"
        fields: {name: NAD/C080/3036}
      lines:
        each: SG25
        fields:
          line_id: {path: LIN/1082, required: true}
          quantity: {path: "QTY[C186/6063=21]/C186/6060", type: decimal, required: true}
          unit: {path: "QTY[C186/6063=21]/C186/6411", table: units, required: true}
""").lstrip()
)


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line containing ``needle``."""
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


ORDERS = """UNA:+.? '
UNB+UNOC:3+ACME:ZZZ+US:ZZZ+260301:1200+9'
UNH+1+ORDERS:D:96A:UN'
BGM+220+PO-1+9'
DTM+137:20260301:102'
NAD+SU+X::9++Seller'
LIN+1++123:EN'
QTY+21:1O:PCE'
LIN+2++124:EN'
QTY+21:5:KGM'
UNS+S'
UNT+10+1'
UNZ+1+9'
"""


def compiled(tmp_path: Path, text: str) -> tuple[CompiledMapping | None, list[GatewayError]]:
    path = write(tmp_path / "m.yaml", text)
    return load_mapping(path, display="m.yaml")


def only(errors: list[GatewayError]) -> GatewayError:
    assert len(errors) == 1, errors
    return errors[0]


def test_an_unknown_path_is_a_configuration_error_at_its_line(tmp_path: Path) -> None:
    _, errors = compiled(tmp_path, HEAD + "fields:\n  document_number: NAD/C082/3039\n")
    err = only(errors)
    assert isinstance(err, MappingConfigError)
    assert "segment NAD is not in ORDERS" in err.message and "SG2" in (err.hint or "")
    assert (err.location.file, err.location.line, err.location.column) == ("m.yaml", 7, 20)
    assert HEAD.count("\n") == 5


def test_an_unknown_element_names_what_the_segment_has(tmp_path: Path) -> None:
    _, errors = compiled(tmp_path, HEAD + "fields:\n  document_number: BGM/C106/1004\n")
    err = only(errors)
    assert "segment BGM has no element C106" in err.message and "1004" in err.message
    assert err.location.line == 7


def test_a_bad_qualifier_is_a_configuration_error_at_its_line(tmp_path: Path) -> None:
    _, errors = compiled(
        tmp_path, HEAD + 'fields:\n  buyer:\n    scope: "SG2[NAD/3035=BUYER]"\n    fields: {name: NAD/C080/3036}\n'
    )
    err = only(errors)
    assert "BUYER is not a code of data element 3035" in err.message
    assert (err.location.line, err.location.column) == (8, 12)


def test_an_unknown_key_is_located(tmp_path: Path) -> None:
    _, errors = compiled(tmp_path, HEAD + "fields:\n  document_number: {path: BGM/1004, requird: true}\n")
    err = only(errors)
    assert "requird" in (err.location.field or "") and "unknown key" in err.message
    assert (err.location.line, err.location.column) == (7, 37)


def _map(tmp_path: Path, text: str) -> DocumentRejected:
    mapping, errors = compiled(tmp_path, text)
    assert mapping is not None, errors
    catalog = MappingCatalog(
        {"ACME": PartnerMappings("ACME", {("order", "inbound"): "edifact"}, {("order", "inbound"): mapping})}
    )
    message: EdifactMessage = parse(ORDERS.encode())[0].messages[0]
    with pytest.raises(DocumentRejected) as caught:
        EdifactMapper(catalog).to_canonical(message, CodecOptions(partner=PartnerProfile(id="ACME")))
    return caught.value


def test_runtime_mapping_errors_carry_the_rule_and_the_segment(tmp_path: Path) -> None:
    rejected = _map(tmp_path, GOOD)
    errors = {e.message.split(":")[0]: e for e in rejected.errors}
    assert all(isinstance(e, MappingError) for e in errors.values()), rejected.errors

    missing = next(e for e in rejected.errors if e.message.startswith("required buyer is missing"))
    assert "SG2[NAD/3035=BY]" in missing.message
    assert missing.location.mapping == f"m.yaml:{line_of(GOOD, 'buyer:')}:3"
    assert missing.location.message == "1"

    assert len(rejected.errors) == 3

    wrong = next(e for e in rejected.errors if "wrong type" in e.message)
    assert "'1O' is not a number" in wrong.message and wrong.location.field == "lines[0].quantity"
    assert (wrong.location.segment, wrong.location.segment_index, wrong.location.element, wrong.location.component) == (
        "QTY",
        6,
        1,
        2,
    )
    assert wrong.location.mapping == f"m.yaml:{line_of(GOOD, 'quantity:')}:7"

    code = next(e for e in rejected.errors if "not in table" in e.message)
    assert "'KGM'" in code.message and code.location.field == "lines[1].unit"
    assert (code.location.segment, code.location.element, code.location.component) == ("QTY", 1, 3)
    assert code.location.mapping == f"m.yaml:{line_of(GOOD, 'unit:')}:7"
    assert f"mapping rule {code.location.mapping}" in str(code.location) and "segment 8 (QTY)" in str(code.location)
