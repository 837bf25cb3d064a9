"""EDIFACT paths compiled into functions select exactly what the steps and filters say.

The reference below interprets a compiled path step by step, as the engine did before paths became
functions (:mod:`b2b_gateway.mapping.paths.edifact_select`). Every path of every shipped inbound
EDIFACT mapping, read from its partner's golden sample in every scope the mapping reads it in, must
reach the same nodes, in the same order, through both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from b2b_gateway.errors import Location
from b2b_gateway.formats.edifact.directory import load_directory
from b2b_gateway.formats.edifact.model import Group, Segment
from b2b_gateway.formats.edifact.reader import read
from b2b_gateway.formats.edifact.validator import validate_message
from b2b_gateway.mapping.edifact_mapping import DOCUMENT_OF_MESSAGE, EdifactMapper
from b2b_gateway.mapping.paths.edifact import EdifactPath, EdifactSyntax, build_tree
from b2b_gateway.mapping.plan import PCondition, PList, PNode, PValue
from b2b_gateway.partners.repository import PartnerRepository

ROOT = Path(__file__).resolve().parents[2]


# -- the reference: the steps interpreted one by one ---------------------------------------------


def _holds(node: Any, flt: Any) -> bool:
    path = flt.path
    if not path.steps and path.element is not None:
        value = node.value(*path.element) if isinstance(node, Segment) else ""
        found = [value] if value else []
    else:
        found = _texts(node, path)
    if not flt.values:
        return bool(found)
    hit = any(v in flt.values for v in found)
    return not hit if flt.negate else hit


def _children(node: Any, step: Any) -> list[Any]:
    if not isinstance(node, Group):
        return []
    if step.deep:
        items: list[Any] = [s for s in node.walk() if s.tag == step.name]
    elif step.is_group:
        items = [c for c in node.children if isinstance(c, Group) and c.name == step.name]
    else:
        items = [c for c in node.children if isinstance(c, Segment) and c.tag == step.name]
    items = [c for c in items if all(_holds(c, f) for f in step.filters)]
    return items[step.index - 1 : step.index] if step.index is not None else items


def reference_nodes(context: Any, path: EdifactPath) -> list[Any]:
    current = [context]
    for step in path.steps:
        current = [c for node in current for c in _children(node, step)]
    return current


def _texts(context: Any, path: EdifactPath) -> list[str]:
    if path.element is None:
        return []
    found = (n.value(*path.element) for n in reference_nodes(context, path) if isinstance(n, Segment))
    return [v for v in found if v != ""]


def same(syntax: EdifactSyntax, context: Any, path: EdifactPath) -> None:
    expected = reference_nodes(context, path)
    assert [id(n) for n in syntax.nodes(context, path)] == [id(n) for n in expected], path.text
    if path.element is not None:
        assert [(h.value, id(h.holder)) for h in syntax.values(context, path)] == [
            (n.value(*path.element), id(n)) for n in expected if isinstance(n, Segment) and n.value(*path.element)
        ], path.text


# -- every path of the shipped mappings ------------------------------------------------------------


def _conditions(cond: PCondition | None) -> list[PCondition]:
    if cond is None:
        return []
    return [cond, *(c for sub in (*cond.all, *cond.any) for c in _conditions(sub))]


def _check(syntax: EdifactSyntax, node: PNode, context: Any, seen: list[str]) -> None:
    """Compare every path ``node`` reads in ``context``, then go where the engine goes."""
    if isinstance(node, PList):
        for item in node.items:
            _check(syntax, item, context, seen)
        return
    for cond in _conditions(node.when) if not isinstance(node, PList) else []:
        if cond.path is not None:
            same(syntax, context, cond.path)
            seen.append(cond.path.text)
    if isinstance(node, PValue):
        for path in node.paths:
            same(syntax, context, path)
            seen.append(path.text)
        return
    scopes = [context]
    if node.each is not None:
        same(syntax, context, node.each)
        seen.append(node.each.text)
        scopes = reference_nodes(context, node.each)
    elif node.scope is not None:
        same(syntax, context, node.scope)
        seen.append(node.scope.text)
        scopes = reference_nodes(context, node.scope)[:1]
    for scope in scopes:
        if node.value is not None:
            _check(syntax, node.value, scope, seen)
        for _key, child in node.fields:
            _check(syntax, child, scope, seen)


def _edifact_samples() -> list[Path]:
    found = []
    for sample in sorted(ROOT.glob("mappings/*/samples/*-in*/input.edi")):
        found.append(sample)
    return found


@pytest.fixture(scope="module")
def repository() -> PartnerRepository:
    return PartnerRepository.load(ROOT / "mappings", quiet=True)


@pytest.mark.parametrize("sample", _edifact_samples(), ids=lambda p: f"{p.parts[-4]}/{p.parts[-2]}")
def test_every_mapping_path_selects_what_its_steps_say(sample: Path, repository: PartnerRepository) -> None:
    ic = read(sample.read_bytes()).interchanges[0]
    message = ic.messages[0]
    validate_message(message, ic)
    assert message.root is not None
    partner = sample.parts[-4]
    mapping = EdifactMapper(repository).mapping(partner, DOCUMENT_OF_MESSAGE[message.type], "inbound", message.type)
    syntax = mapping.syntax
    assert isinstance(syntax, EdifactSyntax)
    seen: list[str] = []
    _check(syntax, mapping.root, message.root, seen)
    assert len(seen) > 25  # the whole mapping was walked, not only its head
    assert any("[" in text for text in seen)  # and filtered steps among them


# -- paths the shipped mappings do not use -----------------------------------------------------------


def seg(text: str) -> Segment:
    tag, *elements = text.split("+")
    return Segment(tag, [e.split(":") for e in elements])


ORDER = [
    "UNH+1+ORDERS:D:96A:UN",
    "BGM+220+PO-1+9",
    "DTM+137:20260301:102",
    "DTM+2:20260310:102",
    "FTX+AAI+++first",
    "NAD+SU+111::9",
    "NAD+BY+222::9",
    "RFF+VA:DE1",
    "RFF+IT:A1",
    "NAD+DP+333::9",
    "LIN+1++4000:EN",
    "QTY+21:3:PCE",
    "QTY+113:5:PCE",
    "FTX+AAO+++line note",
    "LIN+2++4001:EN",
    "QTY+21:4:PCE",
    "UNS+S",
    "UNT+18+1",
]

PATHS = [
    "DTM/C507/2380",
    "DTM[C507/2005=2]/C507/2380",
    "DTM[C507/2005!=2]/C507/2380",
    "DTM[C507/2005=2|137]/C507/2380",
    "DTM[2]/C507/2380",
    "DTM[C507/2005=137][1]/C507/2380",
    "SG2",
    "SG2[2]",
    "SG2[NAD/3035=BY]/NAD/C082/3039",
    "SG2[NAD/3035!=BY]/NAD/C082/3039",
    "SG2[SG3/RFF/C506/1153=IT]/NAD/3035",
    "SG2[SG3/RFF/C506/1153]/NAD/3035",
    "SG2/SG3/RFF/C506/1154",
    "SG2/SG3[RFF/C506/1153=VA]/RFF/C506/1154",
    "**/FTX/C108/4440",
    "**/FTX[4451=AAO]/C108/4440",
    "SG25/QTY[C186/6063=113]/C186/6060",
    "SG25[QTY/C186/6063=113]/LIN/1082",
    "SG25[2]/LIN/C212/7140",
    "CNT/C270/6066",
]
LINE_PATHS = ["QTY[C186/6063=21]/C186/6060", "QTY/C186/6060", "QTY[2]/C186/6411", "LIN/1082", "FTX/C108/4440"]


def orders() -> EdifactSyntax:
    d96a = load_directory("D96A")
    return EdifactSyntax(d96a, d96a.message("ORDERS"))


@pytest.mark.parametrize("text", PATHS)
def test_filters_indices_and_deep_steps_select_as_interpreted(text: str) -> None:
    syntax = orders()
    tree = build_tree([seg(s) for s in ORDER], syntax.message)
    path, _ = syntax.compile(text, None)
    same(syntax, tree, path)
    assert reference_nodes(tree, path) or text.startswith("CNT")  # CNT: a path that finds nothing


@pytest.mark.parametrize("text", LINE_PATHS)
def test_paths_inside_a_group_occurrence_select_as_interpreted(text: str) -> None:
    syntax = orders()
    tree = build_tree([seg(s) for s in ORDER], syntax.message)
    lines, scope = syntax.compile("SG25", None)
    path, _ = syntax.compile(text, scope)
    for line in reference_nodes(tree, lines):
        same(syntax, line, path)


def test_a_path_without_steps_reads_the_node_itself() -> None:
    syntax = orders()
    tree = build_tree([seg(s) for s in ORDER], syntax.message)
    line = syntax.nodes(tree, syntax.compile("SG25", None)[0])[0]
    qty_path, qty_scope = syntax.compile("QTY[C186/6063=21]", syntax.compile("SG25", None)[1])
    qty = syntax.nodes(line, qty_path)[0]
    own, _ = syntax.compile("C186/6060", qty_scope)
    assert own.steps == ()
    assert [h.value for h in syntax.values(qty, own)] == ["3"]
    assert syntax.nodes(qty, own) == [qty]


def test_nodes_are_the_callers_own_and_a_group_sees_children_added_later() -> None:
    syntax = orders()
    tree = build_tree([seg(s) for s in ORDER], syntax.message)
    dtm, _ = syntax.compile("DTM/C507/2005", None)
    syntax.nodes(tree, dtm).clear()
    assert [h.value for h in syntax.values(tree, dtm)] == ["137", "2"]
    tree.children.insert(4, seg("DTM+63:20260320:102"))  # after the index was made
    assert [h.value for h in syntax.values(tree, dtm)] == ["137", "2", "63"]
    assert [c.tag for c in tree.named("NAD")] == []  # NAD is in SG2, not in the root
    assert [g.name for g in tree.named("/SG2")] == ["SG2", "SG2", "SG2"]
    assert tree.named("SG2") == []  # a group is asked for as /SGn: a segment tag never clashes


def test_writing_after_reading_finds_the_new_groups() -> None:
    syntax = orders()
    tree = syntax.new_document()
    buyer, _ = syntax.compile("SG2[NAD/3035=BY]/NAD/C082/3039", None)
    assert syntax.values(tree, buyer) == []  # the root's index is made, empty
    syntax.write(tree, buyer, "222")
    syntax.write(tree, syntax.compile("SG2[NAD/3035=SU]/NAD/C082/3039", None)[0], "111")
    assert [h.value for h in syntax.values(tree, buyer)] == ["222"]
    assert len(tree.named("/SG2")) == 2


def test_location_fields_without_asdict() -> None:
    loc = Location(segment="QTY", element=1, line=4)
    assert loc.to_dict() == {"segment": "QTY", "element": 1, "line": 4}
    assert Location().is_empty() and not loc.is_empty()
    assert loc.merge(Location()) == loc
    assert Location().merge(loc) == loc
