"""A message shape walked without a finding is remembered: its next tree is built from the walk's steps."""

from __future__ import annotations

from typing import Any

import pytest

from b2b_gateway.formats.edifact import structure
from b2b_gateway.formats.edifact.directory import MessageDef, load_directory
from b2b_gateway.formats.edifact.model import Group, Segment
from b2b_gateway.formats.edifact.reader import read
from b2b_gateway.formats.edifact.structure import build_tree
from tests.conftest import ROOT
from tests.edifact.conftest import SAMPLES, sample_names

SAMPLE = (ROOT / "mappings" / "MOCKBUYER" / "samples" / "orders-in" / "input.edi").read_bytes()
LINE = (
    b"LIN+2++BRKT-050:VP'\nPIA+1+076123400041:UP'\nIMD+F++:::Mounting bracket, 50mm'\nQTY+21:40:PCE'\nPRI+AAA:4.15'\n"
)


def fresh(mdef: MessageDef) -> MessageDef:
    """The definition with nothing remembered (definitions are shared by the whole process)."""
    mdef.shapes.clear()
    return mdef


def dump(node: Group | Segment) -> Any:
    """The tree as nested (group name, children), segments by identity."""
    if isinstance(node, Segment):
        return id(node)
    return (node.name, [dump(c) for c in node.children])


def segments_of(data: bytes) -> list[Segment]:
    (ic,) = read(data).interchanges
    (msg,) = ic.messages
    return msg.segments


def orders_mdef() -> MessageDef:
    return fresh(load_directory("D96A").messages["ORDERS"])


def test_the_same_shape_is_walked_once_and_built_the_same() -> None:
    mdef = orders_mdef()
    first = segments_of(SAMPLE)
    walked, found = build_tree(first, mdef)
    assert found == [] and len(mdef.shapes) == 1
    second = segments_of(SAMPLE.replace(b"PO-9001", b"PO-9002"))
    replayed, found = build_tree(second, mdef)
    assert found == []
    assert dump(replayed) == dump(build_tree(second, fresh(mdef))[0]), "the replayed tree is the walked tree"
    assert dump(walked) != dump(replayed)  # the same shape, the new message's own segments
    assert [c.name for c in replayed.children if isinstance(c, Group)] == ["SG2", "SG2", "SG2", "SG7", "SG25", "SG25"]


def test_a_remembered_shape_skips_the_walk(monkeypatch: pytest.MonkeyPatch) -> None:
    mdef = orders_mdef()
    walks: list[int] = []
    real = structure._Walk.finish

    def finish(self: Any, where: Any) -> None:
        walks.append(len(self.steps))
        real(self, where)

    monkeypatch.setattr(structure._Walk, "finish", finish)
    for number in range(3):
        build_tree(segments_of(SAMPLE.replace(b"PO-9001", f"PO-{number}".encode())), mdef)
    assert walks == [21], "one walk of the 21 segments, then two trees from its steps"
    longer = SAMPLE.replace(b"UNS+S'", LINE + b"UNS+S'").replace(b"UNT+21+1'", b"UNT+26+1'")
    build_tree(segments_of(longer), mdef)
    assert walks == [21, 26], "another shape is walked"


def test_a_shape_with_findings_is_walked_and_reported_every_time() -> None:
    mdef = orders_mdef()
    broken = SAMPLE.replace(b"BGM+220+PO-9001+9'\n", b"")  # BGM is mandatory
    for _ in range(3):
        _, found = build_tree(segments_of(broken), mdef)
        assert [(e.code, e.details.get("missing")) for e in found] == [("MISSING", "BGM")], found
    assert mdef.shapes == {}


@pytest.mark.parametrize("name", sample_names())
def test_every_sample_builds_the_same_tree_from_a_remembered_shape(name: str) -> None:
    data = (SAMPLES / name).read_bytes()
    result = read(data)
    for ic in result.interchanges:
        for msg in ic.messages:
            if msg.type not in ("ORDERS", "ORDRSP", "DESADV", "INVOIC") or not msg.segments:
                continue
            directory = load_directory("D01B" if msg.version + msg.release == "D01B" else "D96A")
            mdef = directory.messages.get(msg.type)
            assert mdef is not None
            walked, found = build_tree(msg.segments, fresh(mdef))
            again, found_again = build_tree(msg.segments, mdef)
            assert dump(again) == dump(walked)
            assert [e.message for e in found_again] == [e.message for e in found]


def test_what_is_remembered_is_bounded_in_tags(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(structure, "_TAGS", 30)
    mdef = orders_mdef()
    build_tree(segments_of(SAMPLE), mdef)
    assert [len(s) for s in mdef.shapes] == [21]
    longer = SAMPLE.replace(b"UNS+S'", LINE + b"UNS+S'").replace(b"UNT+21+1'", b"UNT+26+1'")
    build_tree(segments_of(longer), mdef)
    assert [len(s) for s in mdef.shapes] == [26], "21 + 26 tags are over the bound: the older shape went"
    longest = longer.replace(b"UNS+S'", LINE + b"UNS+S'").replace(b"UNT+26+1'", b"UNT+31+1'")
    _, found = build_tree(segments_of(longest), mdef)
    assert found == [] and [len(s) for s in mdef.shapes] == [26], "a shape over the bound alone is not kept"
    steps = next(iter(mdef.shapes.values()))
    assert len({id(step) for step in steps}) < len(steps), "equal steps are one object"
