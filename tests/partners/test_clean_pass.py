"""An EDIFACT inbound mapping's clean pass (written out as Python) reads what the engine reads.

The clean pass is kept only for a document it maps without error, so what must hold is: it finds an
error exactly when the engine does, and it makes the same data. Checked on every shipped EDIFACT
inbound mapping against every EDIFACT sample (shipped and shared), and against variants of each
message with one segment left out or one element changed.
"""

from __future__ import annotations

import linecache
import textwrap
from pathlib import Path
from typing import Any

import pytest

from b2b_gateway.errors import DocumentRejected
from b2b_gateway.formats.edifact.model import Segment
from b2b_gateway.formats.edifact.reader import read
from b2b_gateway.mapping import mapped
from b2b_gateway.mapping.clean_pass import clean_reader
from b2b_gateway.mapping.engine import MappingRun, map_inbound
from b2b_gateway.mapping.mapped import canonical_from_tree
from b2b_gateway.mapping.paths.edifact import EdifactSyntax, build_tree
from b2b_gateway.mapping.plan import CompiledMapping
from b2b_gateway.partners.repository import PartnerRepository
from tests.conftest import ROOT, SHARED
from tests.partners.conftest import compile_text, edifact_tree


def edifact_mappings() -> list[CompiledMapping]:
    catalog = PartnerRepository.load(ROOT / "mappings", quiet=True).catalog()
    found = [m for _pid, m in catalog.inbound("edifact")]
    found += [m for (fmt, _doc), m in catalog.standards.items() if fmt == "edifact" and m.serves("inbound")]
    assert len(found) >= 6, [m.file for m in found]
    return found


def samples() -> list[Path]:
    shipped = sorted((ROOT / "mappings").glob("*/samples/*/*.edi"))
    paths = shipped + sorted((SHARED / "samples" / "edifact").glob("*.edi"))
    assert len(paths) >= 20
    return paths


def both(mapping: CompiledMapping, tree: Any) -> tuple[dict[str, Any], bool]:
    """The engine's data, and whether it had errors, after checking the clean pass agrees."""
    data, run = map_inbound(mapping, tree)
    clean = clean_reader(mapping)
    assert clean is not None
    clean_run = MappingRun(mapping)
    made = clean(clean_run, tree) or {}
    made.setdefault("document_type", mapping.document)
    assert bool(clean_run.errors) == bool(run.errors), [e.message for e in run.errors]
    assert made == data
    return data, bool(run.errors)


def variants(segments: list[Segment]) -> list[list[Segment]]:
    """The message with each segment left out, and with each element's first component changed (a long
    message cut to its first 60 segments first)."""
    if len(segments) > 61:
        segments = segments[:60] + segments[-1:]
    out = []
    for i in range(1, len(segments) - 1):
        out.append(segments[:i] + segments[i + 1 :])
        for e in range(len(segments[i].elements)):
            for junk in ("X", ""):
                elements = [list(c) for c in segments[i].elements]
                elements[e][0] = junk
                out.append([*segments[:i], Segment(segments[i].tag, elements), *segments[i + 1 :]])
    return out


def test_every_shipped_mapping_reads_every_sample_and_its_variants_as_the_engine_does() -> None:
    mappings = edifact_mappings()
    checked = clean = failing = 0
    for path in samples():
        result = read(path.read_bytes())
        for ic in result.interchanges:
            for message in ic.messages:
                for mapping in (m for m in mappings if m.spec.message == message.type):
                    syntax = mapping.syntax
                    assert isinstance(syntax, EdifactSyntax)
                    original, _ = both(mapping, build_tree(message.segments, syntax.message))
                    for segments in variants(message.segments):
                        data, errors = both(mapping, build_tree(segments, syntax.message))
                        checked += 1
                        clean += not errors
                        failing += errors and data != original
    assert checked > 5_000 and clean > 1_000 and failing > 500, (checked, clean, failing)


MAPPING = textwrap.dedent("""
    document: order
    format: edifact
    direction: inbound
    message: ORDERS
    directory: D96A
    fields:
      document_number: {path: BGM/1004, required: true}
      issue_date: {path: "DTM[C507/2005=137]/C507/2380", date: {format_at: C507/2379}, required: true}
      currency: {path: "SG7[CUX/C504/6347=2]/CUX/C504/6345", default: EUR}
      buyer:
        scope: "SG2[NAD/3035=BY]"
        fields:
          name: NAD/C080/3036
      seller:
        scope: "SG2[NAD/3035=SU]"
        required: true
        fields:
          name: NAD/C080/3036
      extensions:
        fields:
          "it's \\"quoted\\"\\nand two lines": BGM/C002/1001
      lines:
        each: SG25
        required: true
        fields:
          line_id: {path: LIN/1082, required: true}
          item:
            fields:
              sellers_id: "LIN[C212/7143=VP]/C212/7140"
          quantity: {path: "QTY[C186/6063=21]/C186/6060", type: decimal, required: true}
          unit: {path: "QTY[C186/6063=21]/C186/6411", default: C62}
""").lstrip()

ORDERS = """UNA:+.? '
UNB+UNOC:3+ACME:ZZZ+US:ZZZ+260301:1200+9'
UNH+1+ORDERS:D:96A:UN'
BGM+220+PO-1+9'
DTM+137:20260301:102'
NAD+BY+X::9++Buyer One'
NAD+SU+Y::9++Seller Two'
LIN+1++A-1:VP'
QTY+21:{quantity}'
UNS+S'
UNT+9+1'
UNZ+1+9'
"""


def compiled(tmp_path: Path) -> CompiledMapping:
    return compile_text(tmp_path, MAPPING)


def tree(mapping: CompiledMapping, quantity: str) -> Any:
    return edifact_tree(mapping, ORDERS.replace("{quantity}", quantity).encode())


@pytest.fixture
def engine_runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One item each time ``canonical_from_tree`` maps a document with the engine."""
    calls: list[int] = []
    monkeypatch.setattr(mapped, "map_inbound", lambda *a, **k: calls.append(1) or map_inbound(*a, **k))
    return calls


def test_a_clean_document_is_mapped_by_the_clean_pass_alone(tmp_path: Path, engine_runs: list[int]) -> None:
    mapping = compiled(tmp_path)
    document = canonical_from_tree(mapping, tree(mapping, "4"), source={"format": "edifact"})
    assert engine_runs == [], "the engine did not map the document again"
    dumped = document.model_dump(mode="json", exclude_none=True)
    assert dumped["extensions"] == {'it\'s "quoted"\nand two lines': "220"}  # a field name is a literal
    assert (dumped["issue_date"], dumped["currency"], dumped["buyer"]["name"]) == ("2026-03-01", "EUR", "Buyer One")
    assert [(line["quantity"], line["unit"]) for line in dumped["lines"]] == [("4", "C62")]
    assert dumped["source"] == {"format": "edifact"}


def test_a_document_with_an_error_is_mapped_again_by_the_engine_and_located(
    tmp_path: Path, engine_runs: list[int]
) -> None:
    mapping = compiled(tmp_path)
    with pytest.raises(DocumentRejected) as caught:
        canonical_from_tree(mapping, tree(mapping, "4x"), source={"format": "edifact"})
    assert engine_runs == [1]
    (error,) = caught.value.errors
    assert "lines[0].quantity: wrong type" in error.message
    assert (error.location.segment, error.location.element, error.location.component) == ("QTY", 1, 2)
    assert error.location.mapping is not None and error.location.mapping.startswith("m.yaml:")


def test_a_document_the_canonical_model_rejects_is_located_by_the_engine(
    tmp_path: Path, engine_runs: list[int]
) -> None:
    mapping = compiled(tmp_path)
    with pytest.raises(DocumentRejected) as caught:
        canonical_from_tree(mapping, tree(mapping, "4:QQQ"), source={"format": "edifact"})
    assert engine_runs == [1], "the model's error sent the document to the engine"
    (error,) = caught.value.errors
    assert "lines[0].unit" in (error.location.field or "") and error.location.segment == "QTY"


def test_the_written_source_shows_in_tracebacks(tmp_path: Path) -> None:
    reader = clean_reader(compiled(tmp_path))
    assert reader is not None
    code = reader.__code__
    assert code.co_filename == "<clean pass of m.yaml>"
    assert linecache.getline(code.co_filename, code.co_firstlineno).startswith(f"def {code.co_name}(run, n):")
