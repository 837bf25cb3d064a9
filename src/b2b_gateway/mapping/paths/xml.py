"""XPath for XML documents, with the namespace prefixes a mapping file declares.

Reading uses XPath 1.0 (lxml), relative to the current element (the document element at the top):
``cac:BuyerCustomerParty/cac:Party/cac:PartyIdentification/cbc:ID[@schemeID='0088']``.

Writing (outbound) understands the subset that designates one place: steps ``prefix:name``, each with
optional predicates ``[n]`` or ``[relative/path='literal']``, ending in an element, ``@attribute`` or
``text()``. Predicates are written too: ``cac:PartyTaxScheme[cac:TaxScheme/cbc:ID='VAT']/cbc:CompanyID``
creates the ``TaxScheme/ID`` of ``VAT``. Elements are created in the order the mapping writes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lxml import etree

from b2b_gateway.errors import Location, MappingConfigError
from b2b_gateway.mapping.paths.base import Hit, split_top

__all__ = ["XmlPath", "XmlSyntax"]

_PREFIX = re.compile(r"(?<![:\w@'\"-])([A-Za-z_][\w.-]*):(?![:])(?=[A-Za-z_*])")
_STEP = re.compile(r"^(?P<name>@?[\w.:-]+|text\(\)|\.)(?P<preds>(\[.*\])*)$")


@dataclass(frozen=True, slots=True)
class _Pred:
    index: int | None = None
    path: tuple[_WStep, ...] = ()
    literal: str | None = None


@dataclass(frozen=True, slots=True)
class _WStep:
    tag: str
    """Clark notation ``{ns}local``; ``@name`` for an attribute; ``text()``; ``.``."""
    preds: tuple[_Pred, ...] = ()


@dataclass(frozen=True, slots=True)
class XmlPath:
    text: str
    xpath: etree.XPath
    steps: tuple[_WStep, ...] | None
    """The writable form, or ``None`` when the path uses XPath beyond the writable subset."""


class XmlSyntax:
    """XPath reading and subset writing, with ``namespaces`` (prefix -> URI) and the root element."""

    name = "xml"

    def __init__(self, namespaces: dict[str, str], root: str | None = None) -> None:
        self.namespaces = dict(namespaces)
        self.root = root

    def clark(self, qname: str) -> str:
        """``prefix:local`` -> ``{uri}local``. Raises MappingConfigError for an undeclared prefix."""
        if qname.startswith("@"):
            return "@" + self.clark(qname[1:]) if ":" in qname else qname
        if ":" not in qname:
            return qname
        prefix, local = qname.split(":", 1)
        if prefix not in self.namespaces:
            raise MappingConfigError(
                f"namespace prefix {prefix!r} is not declared",
                hint=f"declare it under 'namespaces:' (declared: {', '.join(self.namespaces) or 'none'})",
            )
        return f"{{{self.namespaces[prefix]}}}{local}"

    def compile(self, text: str, scope: Any) -> tuple[XmlPath, Any]:
        for prefix in _PREFIX.findall(text):
            self.clark(f"{prefix}:x")
        try:
            compiled = etree.XPath(text, namespaces=self.namespaces)
        except etree.XPathSyntaxError as exc:
            raise MappingConfigError(f"bad XPath {text!r}: {exc}") from None
        try:
            steps: tuple[_WStep, ...] | None = self._steps(text)
        except MappingConfigError:
            steps = None
        return XmlPath(text, compiled, steps), None

    def _steps(self, text: str) -> tuple[_WStep, ...]:
        out = []
        for raw in split_top(text.strip().strip("/"), "/"):
            m = _STEP.match(raw.strip())
            if m is None:
                raise MappingConfigError(f"XPath step {raw!r} cannot be written")
            preds = tuple(self._pred(p) for p in re.findall(r"\[((?:[^\[\]]|\[[^\]]*\])*)\]", m.group("preds")))
            name = m.group("name")
            tag = name if name in ("text()", ".") else self.clark(name)
            out.append(_WStep(tag, preds))
        return tuple(out)

    def _pred(self, text: str) -> _Pred:
        text = text.strip()
        if text.isdigit():
            return _Pred(index=int(text))
        m = re.fullmatch(r"(.+?)\s*=\s*(['\"])(.*)\2", text)
        if m is None:
            raise MappingConfigError(f"XPath predicate [{text}] cannot be written")
        return _Pred(path=self._steps(m.group(1)), literal=m.group(3))

    # -- reading -----------------------------------------------------------------------------------

    def _eval(self, context: Any, path: XmlPath) -> list[Any]:
        try:
            result = path.xpath(context)
        except etree.XPathEvalError as exc:
            raise MappingConfigError(f"XPath {path.text!r} cannot be evaluated: {exc}") from None
        if isinstance(result, list):
            return result
        return [] if result is None or result == "" else [result]

    def nodes(self, context: Any, path: XmlPath) -> list[Any]:
        return [n for n in self._eval(context, path) if isinstance(n, etree._Element)]

    def values(self, context: Any, path: XmlPath) -> list[Hit]:
        hits = []
        for item in self._eval(context, path):
            if isinstance(item, etree._Element):
                text = (item.text or "").strip()
                loc, holder = self.locate(item), item.getparent()
            else:
                text = str(item).strip()
                parent = getattr(item, "getparent", lambda: None)()
                loc = self.locate(parent) if parent is not None else Location(xpath=path.text)
                holder = parent
                if getattr(item, "is_attribute", False):
                    loc = Location(xpath=f"{loc.xpath}/@{item.attrname}", line=loc.line)
            if text:
                hits.append(Hit(text, loc, holder))
        return hits

    def locate(self, node: Any) -> Location:
        if not isinstance(node, etree._Element):
            return Location()
        reverse = {uri: prefix for prefix, uri in self.namespaces.items()}
        parts = []
        el: Any = node
        while el is not None and isinstance(el, etree._Element):
            q = etree.QName(el)
            name = f"{reverse[q.namespace]}:{q.localname}" if q.namespace in reverse else q.localname
            parent = el.getparent()
            if parent is not None:
                same = [c for c in parent if c.tag == el.tag]
                if len(same) > 1:
                    name += f"[{same.index(el) + 1}]"
            parts.append(name)
            el = parent
        return Location(xpath="/" + "/".join(reversed(parts)), line=node.sourceline)

    # -- writing -----------------------------------------------------------------------------------

    def new_document(self) -> Any:
        if not self.root:
            raise MappingConfigError("an XML mapping needs 'message:' (the document element, e.g. ubl:Order)")
        tag = self.clark(self.root)
        uri = tag[1:].split("}")[0] if tag.startswith("{") else None
        nsmap: dict[str | None, str] = {p: u for p, u in self.namespaces.items() if u != uri}
        if uri is not None:
            nsmap[None] = uri
        return etree.Element(tag, nsmap=nsmap)

    def _writable(self, path: XmlPath) -> tuple[_WStep, ...]:
        if path.steps is None:
            raise MappingConfigError(f"XPath {path.text!r} reads, but cannot be written (outbound)")
        return path.steps

    def scope(self, context: Any, path: XmlPath, *, new: bool) -> Any:
        steps = self._writable(path)
        node = context
        for i, step in enumerate(steps):
            node = self._child(node, step, new=new and i == len(steps) - 1)
        return node

    def _child(self, node: Any, step: _WStep, *, new: bool) -> Any:
        if step.tag == ".":
            return node
        if not new:
            candidates = [c for c in node if c.tag == step.tag and all(self._holds(c, p) for p in step.preds)]
            index = next((p.index for p in step.preds if p.index is not None), None)
            if index is not None and len(candidates) >= index:
                return candidates[index - 1]
            if index is None and candidates:
                return candidates[0]
        child = etree.SubElement(node, step.tag)
        for pred in step.preds:
            if pred.literal is not None:
                self._put(child, pred.path, pred.literal)
        return child

    def _holds(self, node: Any, pred: _Pred) -> bool:
        if pred.literal is None:
            return True
        current = node
        for step in pred.path[:-1]:
            found = next((c for c in current if c.tag == step.tag), None)
            if found is None:
                return False
            current = found
        last = pred.path[-1]
        if last.tag.startswith("@"):
            return bool(current.get(last.tag[1:]) == pred.literal)
        target = current if last.tag == "text()" else next((c for c in current if c.tag == last.tag), None)
        return target is not None and (target.text or "") == pred.literal

    def _put(self, node: Any, steps: tuple[_WStep, ...], value: str) -> None:
        last = steps[-1]
        for step in steps[:-1]:
            node = self._child(node, step, new=False)
        if last.tag.startswith("@"):
            node.set(last.tag[1:], value)
        elif last.tag == "text()" or last.tag == ".":
            node.text = value
        else:
            self._child(node, last, new=False).text = value

    def write(self, context: Any, path: XmlPath, value: str) -> None:
        self._put(context, self._writable(path), value)

    def append(self, context: Any, path: XmlPath, value: str) -> None:
        steps = self._writable(path)
        node = context
        for step in steps[:-1]:
            node = self._child(node, step, new=False)
        last = steps[-1]
        if last.tag.startswith("@") or last.tag in ("text()", "."):
            self._put(node, (last,), value)
        else:
            self._child(node, last, new=True).text = value

    def holder(self, context: Any, path: XmlPath) -> Any:
        steps = self._writable(path)
        node = context
        for step in steps[:-1]:
            node = self._child(node, step, new=False)
        return node

    def read(self, context: Any, path: XmlPath) -> str | None:
        hits = self.values(context, path)
        return hits[0].value if hits else None
