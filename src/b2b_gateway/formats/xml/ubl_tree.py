"""Small tools over UBL element trees: namespaced lookups, typed text, building, schema-order sorting.

The element order of every UBL aggregate comes from ``ubl_tables.json`` (generated from the official
XSDs by ``scripts/generate_ubl_tables.py``), so writers may add children in any order and call
:func:`sort_children` once at the end.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from lxml import etree

__all__ = ["NS", "UBL_DOC", "doc_namespace", "new_document", "sort_children", "sub", "tables"]

UBL_DOC = "urn:oasis:names:specification:ubl:schema:xsd:"
NS = {
    "cac": f"{UBL_DOC}CommonAggregateComponents-2",
    "cbc": f"{UBL_DOC}CommonBasicComponents-2",
    "ext": f"{UBL_DOC}CommonExtensionComponents-2",
}


def doc_namespace(root: str) -> str:
    """The namespace of a UBL document root (``Invoice`` -> ``…:Invoice-2``)."""
    return f"{UBL_DOC}{root}-2"


@cache
def tables() -> dict[str, Any]:
    """The generated UBL tables (types, elements, basic, attributes)."""
    text = resources.files("b2b_gateway.formats.xml").joinpath("ubl_tables.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _clark(qname: str) -> str:
    prefix, local = qname.split(":")
    return f"{{{NS[prefix]}}}{local}"


@cache
def _order(type_name: str) -> dict[str, int]:
    return {_clark(q): i for i, q in enumerate(tables()["types"].get(type_name, []))}


def new_document(root: str) -> etree._Element:
    """An empty UBL document root with the usual prefixes."""
    nsmap: dict[str | None, str] = {None: doc_namespace(root)}
    nsmap.update(NS)
    return etree.Element(f"{{{doc_namespace(root)}}}{root}", nsmap=nsmap)


def sub(parent: etree._Element, qname: str, text: object = None, **attributes: str | None) -> etree._Element:
    """Append ``cbc:Name``/``cac:Name`` to ``parent`` with ``text`` and the non-empty ``attributes``."""
    el = etree.SubElement(parent, _clark(qname))
    if text is not None:
        el.text = text if isinstance(text, str) else _text(text)
    for key, value in attributes.items():
        if value is not None:
            el.set(key, value)
    return el


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    if hasattr(value, "as_tuple"):
        return format(value, "f")
    return str(value)


def sort_children(element: etree._Element, type_name: str | None = None) -> None:
    """Reorder every descendant's children into UBL schema order (stable for repeats).

    Raises:
        ValueError: a child the schema does not allow under its parent (a writer bug).
    """
    types = tables()["elements"]
    if type_name is None:
        type_name = types.get(etree.QName(element).localname)
    if type_name is None:
        return
    order = _order(type_name)
    kids = list(element)
    for kid in kids:
        if str(kid.tag) not in order:
            raise ValueError(f"{etree.QName(kid).localname} is not allowed in {type_name}")
    kids.sort(key=lambda k: order[str(k.tag)])
    element[:] = kids
    for kid in kids:
        qname = etree.QName(kid)
        if qname.namespace == NS["cac"]:
            sort_children(kid, types.get(f"cac:{qname.localname}"))
