"""Routing rules from a file: matching by sender, receiver, type, test flag and content; unroutable is parked."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from b2b_gateway.errors import RoutingConfigError
from b2b_gateway.partners import DocumentExchange, PartnerDirectory, PartnerProfile
from b2b_gateway.pipeline import Direction, Message, Pipeline, PipelineContext, State
from b2b_gateway.routing import RulesRouter, load_routes
from b2b_gateway.store import MemoryStore
from tests.delivery.conftest import order

ROUTES = """
routes:
  - name: test-orders
    when: {document_type: order, test: true}
    to: [{exchange: b2b.erp.test, routing_key: order.test}]
  - name: big-orders-from-acme-archived-too
    when:
      direction: inbound
      sender: ACME
      receiver: EURODIS
      document_type: [order]
      content:
        - {path: totals.payable, op: gt, value: "100"}
        - {path: /buyer/name, op: matches, value: "^Hyper"}
    to: [erp, {directory: /srv/big}]
    continue: true
  - name: acme-orders
    when: {sender: ACME, document_type: order}
    to: [erp]
  - name: erp-to-partners
    when: {direction: outbound}
    to: [partner, {partner: AUDIT, channel: copies, format: canonical-json}]
"""

PARTNERS = PartnerDirectory(
    [
        PartnerProfile(
            id="ACME", documents=[DocumentExchange(document="order", direction="outbound", format="edifact")]
        ),
        PartnerProfile(id="AUDIT"),
    ]
)


@pytest.fixture
def router(tmp_path: Path) -> RulesRouter:
    path = tmp_path / "routes.yaml"
    path.write_text(ROUTES)
    return RulesRouter(path, PARTNERS, company_id="EURODIS", check_every_s=0)


async def _mapped(raw: bytes, **fields: object) -> Message:
    m = Message(raw=raw, channel="test")
    for key, value in fields.items():
        setattr(m, key, value)
    return await Pipeline(PipelineContext()).run(m, stop_after="check")


def _doc(number: str, payable: str, buyer: str, test: bool = False) -> bytes:
    data = json.loads(order(number))
    data["totals"]["payable"] = payable
    data["buyer"]["name"] = buyer
    data["test"] = test
    return json.dumps(data).encode()


async def test_rules_match_by_sender_receiver_type_and_content(router: RulesRouter) -> None:
    big = await _mapped(_doc("PO-1", "150.00", "Hypermarket Nord"), partner_id="ACME")
    assert [d.name for d in router.route(big)] == ["erp", "dir:/srv/big"]
    small = await _mapped(_doc("PO-2", "50.00", "Hypermarket Nord"), partner_id="ACME")
    assert [d.name for d in router.route(small)] == ["erp"]
    other_buyer = await _mapped(_doc("PO-3", "500.00", "Corner Shop"), partner_id="ACME")
    assert [d.name for d in router.route(other_buyer)] == ["erp"]


async def test_test_documents_and_outbound_destinations(router: RulesRouter) -> None:
    test_doc = await _mapped(_doc("PO-4", "10.00", "x", test=True), partner_id="ACME")
    (dest,) = router.route(test_doc)
    assert dest.kind == "queue" and dest.address == "b2b.erp.test/order.test"
    outbound = await _mapped(order("PO-5"), partner_id="ACME", direction=Direction.OUTBOUND)
    dests = router.route(outbound)
    assert [(d.name, d.format) for d in dests] == [
        ("partner:ACME", "edifact"),
        ("partner:AUDIT/copies", "canonical-json"),
    ]


async def test_a_document_no_rule_matches_is_parked_with_the_reason(router: RulesRouter) -> None:
    store = MemoryStore()
    msg = await Pipeline(PipelineContext(router=router, store=store)).run(
        Message(raw=order("PO-6"), partner_id="NOBODY")
    )
    assert msg.state is State.PARKED and msg.errors[0].code == "UNROUTABLE"
    assert "no routing rule matches order from NOBODY" in msg.errors[0].message
    assert store.get(msg.id) is msg


def test_invalid_routes_are_located(tmp_path: Path) -> None:
    path = tmp_path / "routes.yaml"
    path.write_text("routes:\n  - name: x\n    when: {document_type: order\n")
    with pytest.raises(RoutingConfigError) as info:
        load_routes(path)
    assert info.value.location.file == str(path) and info.value.location.line is not None
    path.write_text("routes:\n  - name: x\n    to: [erp]\n    when: {colour: red}\n")
    with pytest.raises(RoutingConfigError, match=r"routes\.0\.when\.colour"):
        load_routes(path)


async def test_a_changed_file_is_reloaded_and_a_broken_one_keeps_the_rules(router: RulesRouter) -> None:
    msg = await _mapped(order("PO-7"), partner_id="ACME")
    router.path.write_text("routes:\n  - name: all\n    to: [{directory: /x}]\n")
    os.utime(router.path, ns=(1, 1))
    assert [d.name for d in router.route(msg)] == ["dir:/x"]
    router.path.write_text("routes: [")
    os.utime(router.path, ns=(2, 2))
    assert [d.name for d in router.route(msg)] == ["dir:/x"]


async def test_a_canonical_json_destination_gets_the_very_bytes_that_are_signed_and_stored(
    router: RulesRouter,
) -> None:
    """A canonical JSON output is the message's own canonical JSON (made once), not a second rendering."""
    msg = await Pipeline(PipelineContext(router=router, store=MemoryStore())).run(
        Message(raw=order("PO-7"), partner_id="ACME")
    )
    assert msg.state is State.ROUTED and [(o.destination, o.format) for o in msg.outputs] == [("erp", "canonical-json")]
    assert msg.outputs[0].payload is msg.canonical_json()
