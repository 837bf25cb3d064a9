"""A partner that exists only in a temporary directory (profile, mapping, code table, sample) is
onboarded, and its documents are translated both ways through the pipeline."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from b2b_gateway.canonical.documents import document_from_data
from b2b_gateway.formats.edifact.reader import parse
from b2b_gateway.pipeline import Message, Pipeline, State
from b2b_gateway.runtime.context import build_context, load_repository
from b2b_gateway.runtime.golden import run_case
from b2b_gateway.settings import Settings
from tests.partners.conftest import write

PROFILE = """
    id: ACME
    name: Acme Parts
    identifiers:
      - {value: "4000001000005", kind: gln}
      - {value: ACME, kind: edifact, qualifier: ZZZ}
    documents:
      - {document: order, direction: inbound, format: json, mapping: order.yaml}
      - {document: order, direction: outbound, format: json, mapping: order.yaml}
      - {document: invoice, direction: outbound, format: edifact, version: D96A, mapping: invoic.yaml}
"""

ORDER_MAPPING = """
    document: order
    format: json
    direction: both
    match: {path: purchaseOrder, exists: true}
    envelope: {sender: buyerGln, reference: purchaseOrder}
    tables:
      units: tables/units.yaml
    fields:
      document_number: {path: purchaseOrder, required: true}
      issue_date: {path: orderDate, date: "102", required: true}
      buyer:
        fields:
          name: buyerName
          identifiers:
            - fields: {value: buyerGln, scheme: {const: "0088"}}
      seller:
        fields:
          name: {path: sellerName, default: Eurodis}
      lines:
        each: rows
        required: true
        fields:
          line_id: {path: no, required: true}
          quantity: {path: qty, type: decimal, decimal: ",", required: true}
          unit: {path: uom, table: units, required: true}
          item:
            fields:
              name: {path: text, required: true}
"""

INVOIC_MAPPING = """
    document: invoice
    format: edifact
    direction: outbound
    message: INVOIC
    directory: D96A
    tables:
      units: tables/units.yaml
    fields:
      invoice_type_code: BGM/C002/1001
      document_number: {path: BGM/1004, required: true}
      issue_date: {path: "DTM[C507/2005=137]/C507/2380", date: {format: "102", format_at: C507/2379}}
      currency: "SG7[CUX/C504/6347=2]/CUX/C504/6345"
      seller:
        scope: "SG2[NAD/3035=SU]"
        fields:
          name: {paths: [NAD/C080/3036, "NAD/C080/3036#2"], text: {width: 35}}
      buyer:
        scope: "SG2[NAD/3035=BY]"
        fields:
          identifiers:
            - fields: {value: NAD/C082/3039}
      lines:
        each: SG25
        fields:
          line_id: LIN/1082
          quantity: {path: "QTY[C186/6063=47]/C186/6060", type: decimal, decimal: ","}
          unit: {path: "QTY[C186/6063=47]/C186/6411", table: units}
      totals:
        fields:
          payable: {path: "SG48[MOA/C516/5025=9]/MOA/C516/5004", type: decimal}
"""

UNITS = """
    # ACME's units <-> Recommendation 20
    inbound: {ST: C62, KG: KGM}
    outbound: {C62: ST, KGM: KG}
"""

ORDER = {
    "purchaseOrder": "A-77",
    "orderDate": "20260305",
    "buyerGln": "4000001000005",
    "buyerName": "Acme Parts",
    "rows": [
        {"no": "1", "qty": "2,5", "uom": "KG", "text": "Copper wire"},
        {"no": "2", "qty": "10", "uom": "ST", "text": "Plug"},
    ],
}


def onboard(root: Path) -> Path:
    write(root / "_self.yaml", "id: US\nidentifiers:\n  - {value: US-ID, kind: edifact, qualifier: ZZZ}\n")
    partner = root / "ACME"
    write(partner / "partner.yaml", PROFILE)
    write(partner / "order.yaml", ORDER_MAPPING)
    write(partner / "invoic.yaml", INVOIC_MAPPING)
    write(partner / "tables" / "units.yaml", UNITS)
    case = partner / "samples" / "order-in"
    case.mkdir(parents=True)
    (case / "input.json").write_text(json.dumps(ORDER), encoding="utf-8")
    return partner


def test_a_partner_from_a_temporary_directory_translates_both_ways(settings: Settings, mappings_dir: Path) -> None:
    onboard(mappings_dir)
    ctx = build_context(settings)
    message = Message(raw=json.dumps(ORDER).encode(), channel="test")
    asyncio.run(Pipeline(ctx).run(message, stop_after="check"))
    assert message.errors == []
    assert message.partner_id == "ACME"  # identified from the JSON by the mapping's envelope
    order = message.canonical
    assert order is not None and order.document_type == "order"
    assert [str(line.quantity) for line in order.lines] == ["2.5", "10"]
    assert [line.unit for line in order.lines] == ["KGM", "C62"]
    assert order.buyer.gln == "4000001000005"

    back = json.loads(ctx.codecs.get("json").from_canonical(order, ctx.options("ACME")))
    assert back["rows"][0] == {"no": "1", "qty": "2,5", "uom": "KG", "text": "Copper wire"}
    assert back["purchaseOrder"] == "A-77" and back["orderDate"] == "20260305"

    invoice = document_from_data(
        json.loads((Path(__file__).parents[1] / "fixtures/canonical/invoice.json").read_text())
    )
    edi = ctx.codecs.get("edifact").from_canonical(invoice, ctx.options("ACME", {"interchange": "7", "message": "1"}))
    messages = parse(edi)[0].messages
    segments = {s.tag: s for s in messages[0].segments}
    assert segments["UNH"].value(2, 1) == "INVOIC"
    assert next(s.value(1, 3) for s in messages[0].segments if s.tag == "QTY") in ("ST", "KG")
    assert messages[0].segments[-1].tag == "UNT"
    assert b"UNB+UNOC:3+US-ID:ZZZ+ACME:ZZZ+" in edi


def test_the_sample_of_a_temporary_partner_becomes_a_golden_test(settings: Settings, mappings_dir: Path) -> None:
    partner = onboard(mappings_dir)
    repo = load_repository(settings)
    assert repo.errors == []
    ctx = build_context(settings, repository=repo)
    case = partner / "samples" / "order-in"
    assert run_case(ctx, "ACME", case, update=True).ok
    assert (case / "canonical.json").exists() and (case / "output.json").exists()
    again = run_case(ctx, "ACME", case)
    assert again.ok and not again.updated
    (case / "canonical.json").write_text((case / "canonical.json").read_text().replace("A-77", "A-78"))
    failed = run_case(ctx, "ACME", case)
    assert not failed.ok
    assert '-  "document_number": "A-78"' in failed.diffs[0] and '+  "document_number": "A-77"' in failed.diffs[0]


def test_a_message_that_fails_its_mapping_is_rejected_with_located_errors(
    settings: Settings, mappings_dir: Path
) -> None:
    onboard(mappings_dir)
    ctx = build_context(settings)
    broken = dict(
        ORDER, rows=[{"no": "1", "qty": "lots", "uom": "KG", "text": "x"}, {"no": "2", "uom": "XX", "qty": "1"}]
    )
    message = Message(raw=json.dumps(broken).encode(), channel="test")
    asyncio.run(Pipeline(ctx).run(message, stop_after="check"))
    assert message.state is State.FAILED or message.errors
    errors = [e for e in message.errors for e in getattr(e, "errors", [e])]
    texts = {e.location.json_pointer: e for e in errors}
    assert "wrong type" in texts["/rows/0/qty"].message
    assert (
        texts["/rows/0/qty"].location.mapping
        and texts["/rows/0/qty"].location.mapping.endswith("order.yaml:24:7")
        and ":24:" in texts["/rows/0/qty"].location.mapping
    )
    assert "not in table 'units'" in texts["/rows/1/uom"].message
    missing = [e for e in errors if "required value lines[1].item.name is missing" in e.message]
    assert missing and missing[0].location.json_pointer == "/rows/1"


XML_MAPPING = """
    document: order
    format: xml
    direction: both
    message: po:PurchaseOrder
    namespaces: {po: "urn:example:po:1"}
    envelope: {sender: "po:Buyer/@gln", reference: "po:Number"}
    fields:
      document_number: {path: "po:Number", required: true}
      issue_date: {path: "po:Date", date: iso, required: true}
      buyer:
        scope: po:Buyer
        fields:
          name: po:Name
          identifiers:
            - fields: {value: "@gln", scheme: {const: "0088"}}
      seller:
        fields:
          name: {path: "po:Seller/po:Name", default: Eurodis}
      lines:
        each: po:Line
        required: true
        fields:
          line_id: {path: "@no", required: true}
          quantity: {path: "po:Qty", type: decimal, required: true}
          unit: {path: "po:Qty/@unit", default: C62}
          item:
            fields:
              name: {path: "po:Text", required: true}
"""

XML_ORDER = b"""<?xml version="1.0" encoding="UTF-8"?>
<PurchaseOrder xmlns="urn:example:po:1">
  <Number>X-1</Number>
  <Date>2026-03-07</Date>
  <Buyer gln="4000001000005"><Name>Acme Parts</Name></Buyer>
  <Line no="1"><Qty unit="KGM">2.5</Qty><Text>Copper wire</Text></Line>
  <Line no="2"><Qty>4</Qty></Line>
</PurchaseOrder>
"""


def test_a_partner_xml_document_maps_with_xpath_both_ways(settings: Settings, mappings_dir: Path) -> None:
    write(
        mappings_dir / "XMLCO" / "partner.yaml",
        """
        id: XMLCO
        identifiers: [{value: "4000001000005", kind: gln}]
        documents:
          - {document: order, direction: inbound, format: xml, mapping: order.yaml}
          - {document: order, direction: outbound, format: xml, mapping: order.yaml}
        """,
    )
    write(mappings_dir / "XMLCO" / "order.yaml", XML_MAPPING)
    ctx = build_context(settings)
    message = Message(raw=XML_ORDER, channel="test")
    asyncio.run(Pipeline(ctx).run(message, stop_after="check"))
    errors = [e for err in message.errors for e in getattr(err, "errors", [err])]
    assert message.partner_id == "XMLCO"
    missing = next(e for e in errors if "lines[1].item.name" in e.message)
    assert missing.location.xpath == "/po:PurchaseOrder/po:Line[2]" and missing.location.line == 7
    assert missing.location.mapping and missing.location.mapping.endswith("order.yaml:28:11")

    fixed = XML_ORDER.replace(b"<Qty>4</Qty>", b"<Qty>4</Qty><Text>Plug</Text>")
    message = Message(raw=fixed, channel="test")
    asyncio.run(Pipeline(ctx).run(message, stop_after="check"))
    assert message.errors == [] and message.canonical is not None
    out = ctx.codecs.get("xml").from_canonical(message.canonical, ctx.options("XMLCO")).decode()
    assert '<PurchaseOrder xmlns="urn:example:po:1">' in out
    assert '<Buyer gln="4000001000005">' in out and '<Line no="1">' in out and '<Qty unit="KGM">2.5</Qty>' in out
