"""The inbound engine makes a mapping into functions once, and reads plain values at their first hit."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from b2b_gateway.mapping import engine
from b2b_gateway.mapping.engine import map_inbound
from b2b_gateway.mapping.plan import CompiledMapping
from tests.partners.conftest import compile_text, edifact_tree

MAPPING = textwrap.dedent("""
    document: order
    format: edifact
    direction: inbound
    message: ORDERS
    directory: D96A
    fields:
      document_number: {path: BGM/1004, required: true}
      issue_date: {path: "DTM[C507/2005=137]/C507/2380", date: {format_at: C507/2379}, default: "20260101"}
      first_party: SG2/NAD/C080/3036
      every_party: {path: SG2/NAD/C080/3036, all: true}
      buyer:
        scope: "SG2[NAD/3035=BY]"
        fields:
          name: NAD/C080/3036
          scheme: {const: "0088"}
      carrier:
        scope: "SG2[NAD/3035=CA]"
        fields:
          scheme: {const: "0088"}
      lines:
        each: SG25
        fields:
          line_id: {path: LIN/1082, required: true}
          quantity: {path: "QTY[C186/6063=21]/C186/6060", type: decimal}
""").lstrip()

ORDERS = """UNA:+.? '
UNB+UNOC:3+ACME:ZZZ+US:ZZZ+260301:1200+9'
UNH+1+ORDERS:D:96A:UN'
BGM+220+{number}+9'
NAD+BY+X::9++Buyer One'
NAD+SU+Y::9++Seller Two'
LIN+1++123:EN'
QTY+21:4:PCE'
LIN+++124:EN'
UNS+S'
UNT+9+1'
UNZ+1+9'
"""


def compiled(tmp_path: Path) -> CompiledMapping:
    return compile_text(tmp_path, MAPPING)


def tree_of(mapping: CompiledMapping, number: str) -> Any:
    return edifact_tree(mapping, ORDERS.replace("{number}", number).encode())


def test_a_mapping_is_made_into_functions_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[str] = []
    real = engine._reader

    def counting(node: Any, syntax: Any) -> Any:
        made.append(node.field)
        return real(node, syntax)

    monkeypatch.setattr(engine, "_reader", counting)
    mapping = compiled(tmp_path)
    first, _ = map_inbound(mapping, tree_of(mapping, "PO-1"))
    assert "lines.quantity" in made and "buyer.name" in made
    count = len(made)
    second, _ = map_inbound(mapping, tree_of(mapping, "PO-2"))
    assert len(made) == count, "the second document used the functions made for the first"
    assert (first["document_number"], second["document_number"]) == ("PO-1", "PO-2")


def test_what_the_made_functions_read(tmp_path: Path) -> None:
    mapping = compiled(tmp_path)
    line_id = next(i for i, line in enumerate(MAPPING.splitlines(), start=1) if "line_id:" in line)
    data, run = map_inbound(mapping, tree_of(mapping, "PO-1"))
    assert data == {
        "document_number": "PO-1",
        "issue_date": "2026-01-01",  # the default, in the default format (no DTM to read 2379 beside)
        "first_party": "Buyer One",  # a plain value is its first hit
        "every_party": "Buyer One Seller Two",
        "buyer": {"name": "Buyer One", "scheme": "0088"},  # no carrier: a group of constants only is left out
        "lines": [{"line_id": "1", "quantity": "4"}],
        "document_type": "order",
    }
    assert [e.message for e in run.errors] == ["required value lines[1].line_id is missing: nothing at LIN/1082"]
    assert run.errors[0].location.segment == "LIN" and run.errors[0].location.mapping == f"m.yaml:{line_id}:7"
    first = run.source("/first_party")
    assert first is not None and (first.segment, first.element, first.component) == ("NAD", 4, 1)
    assert first.segment_index == 3
    assert run.source("/buyer/scheme") is None  # a constant was read nowhere
