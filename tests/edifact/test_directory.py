"""The generated definitions are current; the directory API addresses elements by id."""

from __future__ import annotations

import doctest
import importlib
import subprocess
import sys

import pytest

from b2b_gateway.errors import MappingConfigError
from b2b_gateway.formats.edifact.directory import load_directory, resolve_directory
from tests.conftest import ROOT, SHARED


def test_committed_definitions_are_current() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "generate_edifact_schemas.py"), "--shared", str(SHARED), "--check"],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr + "\nrun: python scripts/generate_edifact_schemas.py"


@pytest.mark.parametrize("name", ["D96A", "D01B"])
def test_every_message_and_segment_is_defined(name: str) -> None:
    d = load_directory(name)
    assert sorted(d.messages) == ["APERAK", "DESADV", "INVOIC", "ORDCHG", "ORDERS", "ORDRSP", "RECADV"]
    for mdef in d.messages.values():
        tags = [c.tag for c in mdef.root.children if hasattr(c, "tag")]
        assert tags[0] == "UNH" and tags[-1] == "UNT"
        for group in mdef.group_names():
            assert d.find_segment(mdef.group(group).trigger) is not None
    if name == "D01B":  # the source drops components the generator restores from D96A
        c819 = d.segment("NAD").element("C819")
        assert c819 is not None and [c.id for c in c819.components] == ["3229", "1131", "3055", "3228"]


def test_addressing_by_id() -> None:
    d = load_directory("D01B")
    nad = d.segment("NAD")
    assert nad.locate("3035") == (1, 1) and nad.locate("C082/3039") == (2, 1) and nad.locate("C080/3036#2") == (4, 2)
    assert nad.locate("NAD/C082/3055") == (2, 3) and nad.locate("2/3") == (2, 3)
    assert str(nad.element("3035").representation) == "an..3"  # type: ignore[union-attr]
    assert d.code_list("3035") is not None and "BY" in d.code_list("3035")  # type: ignore[operator]
    assert d.segment("UNH").element("S009").component("0057").position == 5  # type: ignore[union-attr]
    for bad in ("C999", "C082/9999", "3035/1", "1/2/3", "99"):
        with pytest.raises(MappingConfigError):
            nad.locate(bad)
    with pytest.raises(MappingConfigError):
        d.message("PRICAT")


def test_directory_choice() -> None:
    assert resolve_directory("D", "96A", "UN") == (load_directory("D96A"), False)
    assert resolve_directory("D", "97B", "UN")[0].name == "D96A"  # type: ignore[union-attr]
    assert resolve_directory("D", "03B", "UN")[1] is True
    assert resolve_directory("D", "3", "UN")[0].name == "S3"  # type: ignore[union-attr]
    assert resolve_directory("4", "1", "UN")[0].name == "S4"  # type: ignore[union-attr]
    assert resolve_directory("93", "1", "IA") == (None, False)
    assert resolve_directory("D", "XYZ", "UN") == (None, False)


@pytest.mark.parametrize("module", ["model", "directory", "reader", "writer", "validator"])
def test_docstring_examples(module: str) -> None:
    mod = importlib.import_module(f"b2b_gateway.formats.edifact.{module}")
    result = doctest.testmod(mod)
    assert result.failed == 0 and result.attempted > 0
