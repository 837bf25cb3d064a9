"""The OASIS UBL 2.1 JSON alternative representation <-> UBL element trees.

In that form (``{"_D": "<document namespace>", "_A": "<cac>", "_B": "<cbc>", "Order": [{…}]}``) every
element is a key holding a list of objects; a basic element's object holds its value under
``<Type>Content`` (``IdentifierContent``, ``AmountContent`` …) and its attributes under their CCTS
names (``IdentificationSchemeIdentifier`` = ``schemeID``). Converting to a tree lets UBL-JSON go through
the same XSD, rules and mapping as UBL XML. Each element's ``sourceline`` is set to its 1-based index
in the returned pointer list, so errors located on the tree can be turned into JSON pointers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from functools import cache
from typing import Any

from lxml import etree

from b2b_gateway.errors import Location, SchemaError
from b2b_gateway.formats.xml.ubl_tree import NS, UBL_DOC, tables

__all__ = ["dump_ubl_json", "is_ubl_json", "tree_to_ubl_json", "ubl_json_to_tree"]

_NUMERIC = ("Amount", "Quantity", "Numeric", "Measure")
_NUMBER = re.compile(r'"\\u0000(-?[0-9.]+(?:[eE][-+]?[0-9]+)?)"')


def is_ubl_json(value: Any) -> bool:
    """Whether a parsed JSON value is a UBL-JSON document (has ``_D`` naming a UBL document namespace)."""
    return isinstance(value, dict) and str(value.get("_D", "")).startswith(UBL_DOC)


@cache
def _json_to_attr() -> dict[str, dict[str, str]]:
    return {kind: {v: k for k, v in attrs.items()} for kind, attrs in tables()["attributes"].items()}


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _fail(message: str, pointer: str) -> SchemaError:
    return SchemaError(f"UBL-JSON: {message}", location=Location(json_pointer=pointer))


def _items(value: Any, pointer: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if not isinstance(value, list):
        raise _fail("every element is a list of objects", pointer)
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise _fail("every element is a list of objects", f"{pointer}/{i}")
        yield f"{pointer}/{i}", item


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "as_tuple"):
        return format(value, "f")
    return value if isinstance(value, str) else str(value)


def _fill(parent: etree._Element, obj: dict[str, Any], pointer: str, pointers: list[str]) -> None:
    content = [k for k in obj if k.endswith("Content")]
    if content:
        key = content[0]
        value = obj[key]
        if isinstance(value, dict | list):
            raise _fail(f"{key} must be a plain value", f"{pointer}/{_escape(key)}")
        parent.text = _scalar(value)
        kind = key.removesuffix("Content")
        names = _json_to_attr().get(kind, {})
        for name, attr_value in obj.items():
            if name == key:
                continue
            attr = names.get(name)
            if attr is None:
                raise _fail(f"{name} is not an attribute of a {kind} value", f"{pointer}/{_escape(name)}")
            parent.set(attr, _scalar(attr_value))
        return
    for name, value in obj.items():
        for child_pointer, item in _items(value, f"{pointer}/{_escape(name)}"):
            if name == "UBLExtensions":
                ns = NS["ext"]
            else:
                ns = NS["cbc"] if any(k.endswith("Content") for k in item) else NS["cac"]
            child = etree.SubElement(parent, f"{{{ns}}}{name}")
            pointers.append(child_pointer)
            setattr(child, "sourceline", len(pointers))  # noqa: B010 - the stubs call it read-only; lxml allows it
            _fill(child, item, child_pointer, pointers)


def ubl_json_to_tree(value: Any) -> tuple[etree._ElementTree, list[str]]:
    """A UBL-JSON document as an element tree, with the JSON pointer of each element.

    Raises:
        SchemaError: not the UBL-JSON shape (with the JSON pointer of the first problem).
    """
    if not is_ubl_json(value):
        raise _fail('the document must be an object with "_D" naming a UBL document namespace', "")
    namespace = str(value["_D"])
    roots = [k for k in value if not k.startswith("_")]
    if len(roots) != 1:
        raise _fail(f"exactly one document element is expected, found {len(roots)}", "")
    name = roots[0]
    items = list(_items(value[name], f"/{_escape(name)}"))
    if len(items) != 1:
        raise _fail("the document element holds exactly one object", f"/{_escape(name)}")
    pointers = [items[0][0]]
    nsmap: dict[str | None, str] = {None: namespace}
    nsmap.update(NS)
    root = etree.Element(f"{{{namespace}}}{name}", nsmap=nsmap)
    setattr(root, "sourceline", 1)  # noqa: B010
    _fill(root, items[0][1], items[0][0], pointers)
    return etree.ElementTree(root), pointers


def _value(el: etree._Element) -> list[dict[str, Any]] | dict[str, Any]:
    q = etree.QName(el)
    if q.namespace == NS["cbc"]:
        kind = tables()["basic"].get(q.localname, "Text")
        names = tables()["attributes"].get(kind, {})
        text = el.text or ""
        value: Any = text
        if kind == "Indicator" and text in ("true", "false"):
            value = text == "true"
        elif kind in _NUMERIC:
            try:
                value = Decimal(text)
            except ArithmeticError:
                value = text
        out: dict[str, Any] = {f"{kind}Content": value}
        for attr, value in el.attrib.items():
            out[names.get(str(attr), str(attr))] = value
        return out
    obj: dict[str, Any] = {}
    for child in el:
        obj.setdefault(etree.QName(child).localname, []).append(_value(child))
    return obj


def tree_to_ubl_json(root: etree._Element) -> dict[str, Any]:
    """A UBL element tree in the UBL-JSON form (keys ``_D``, ``_A``, ``_B``, then the document)."""
    q = etree.QName(root)
    return {"_D": q.namespace, "_A": NS["cac"], "_B": NS["cbc"], q.localname: [_value(root)]}


def _tokens(value: Any) -> Any:
    if isinstance(value, Decimal):
        return "\x00" + format(value, "f")
    if isinstance(value, dict):
        return {k: _tokens(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_tokens(v) for v in value]
    return value


def dump_ubl_json(value: dict[str, Any]) -> bytes:
    """UBL-JSON bytes; amounts, quantities and numbers are JSON numbers written exactly (never via float)."""
    text = json.dumps(_tokens(value), indent=1, ensure_ascii=False)
    return _NUMBER.sub(r"\1", text).encode("utf-8")
