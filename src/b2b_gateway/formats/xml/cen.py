"""The official EN 16931 business rules: the CEN Schematron compiled to XSLT 2, run through saxonche.

:func:`svrl_errors` is pure: it turns the SVRL report (every ``svrl:failed-assert``) into
:class:`~b2b_gateway.errors.BusinessRuleError` values with the rule id (``BR-CO-15``), its flag
(``fatal`` is an error, ``warning`` a warning) and the XPath and line of the node it fired on.
:class:`CenRules` holds one compiled stylesheet; :func:`compile_rules` compiles (and caches) it from a
file. saxonche is optional (the ``rules`` extra): :func:`saxon_available` says whether it is installed.
"""

from __future__ import annotations

import importlib.util
import re
from functools import cache
from typing import Any

from lxml import etree

from b2b_gateway.errors import BusinessRuleError, GatewayError, Location, OfficialSchemaError

__all__ = ["CenRules", "compile_rules", "readable_xpath", "saxon_available", "svrl_errors"]

SVRL = "http://purl.oclc.org/dsdl/svrl"
_STEP = re.compile(r"\*:([\w.-]+)\[namespace-uri\(\)='([^']*)'\]")


def saxon_available() -> bool:
    """Whether the XSLT 2 processor (saxonche, the ``rules`` extra) is installed."""
    return importlib.util.find_spec("saxonche") is not None


def readable_xpath(location: str, prefixes: dict[str, str]) -> str:
    """``/*:Invoice[namespace-uri()='…'][1]/*:ID[namespace-uri()='…'][1]`` -> ``/Invoice[1]/cbc:ID[1]``."""

    def step(m: re.Match[str]) -> str:
        prefix = prefixes.get(m.group(2))
        return f"{prefix}:{m.group(1)}" if prefix else m.group(1)

    return _STEP.sub(step, location)


def _lxml_xpath(location: str) -> str:
    """The SVRL location in XPath 1.0 (lxml), without a trailing attribute step."""
    path = _STEP.sub(lambda m: f"*[local-name()='{m.group(1)}'][namespace-uri()='{m.group(2)}']", location)
    return re.sub(r"/@[\w:.-]+$", "", path)


def _line(tree: etree._ElementTree | None, location: str) -> int | None:
    if tree is None or not location.startswith("/"):
        return None
    try:
        found = tree.xpath(_lxml_xpath(location))
    except etree.XPathError:
        return None
    if isinstance(found, list) and found and isinstance(found[0], etree._Element):
        line = found[0].sourceline
        return int(line) if line else None
    return None


def svrl_errors(
    svrl: bytes, *, tree: etree._ElementTree | None = None, prefixes: dict[str, str] | None = None
) -> list[GatewayError]:
    """Every failed assertion of an SVRL report as a located error (``warning`` flags as warnings).

    Args:
        svrl: the SVRL output of the rules.
        tree: the validated document, to find the line of each location.
        prefixes: namespace URI -> prefix for readable XPaths.
    """
    report = etree.fromstring(svrl, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    out: list[GatewayError] = []
    for fail in report.iter(f"{{{SVRL}}}failed-assert", f"{{{SVRL}}}successful-report"):
        rule = fail.get("id") or "EN16931"
        flag = fail.get("flag") or "fatal"
        text_el = fail.find(f"{{{SVRL}}}text")
        text = " ".join((text_el.text or "").split()) if text_el is not None else ""
        location = fail.get("location") or ""
        out.append(
            BusinessRuleError(
                f"{rule}: {text.removeprefix(f'[{rule}]-').strip()}",
                location=Location(xpath=readable_xpath(location, prefixes or {}) or None, line=_line(tree, location)),
                severity="warning" if flag == "warning" else "error",
                code=rule,
                details={"rule": rule, "flag": flag, "test": fail.get("test"), "source": "EN 16931 (CEN XSLT)"},
            )
        )
    return out


@cache
def _processor() -> Any:
    from saxonche import PySaxonProcessor

    return PySaxonProcessor(license=False)


class CenRules:
    """One compiled EN 16931 stylesheet (UBL or CII)."""

    def __init__(self, executable: Any, processor: Any, name: str) -> None:
        self._executable = executable
        self._processor = processor
        self.name = name

    def run(self, tree: etree._ElementTree, prefixes: dict[str, str] | None = None) -> list[GatewayError]:
        """Run the rules on a parsed (already hardened) document; every failed assertion, located."""
        text = etree.tostring(tree, encoding="unicode")
        try:
            node = self._processor.parse_xml(xml_text=text)
            svrl = self._executable.transform_to_string(xdm_node=node)
        except Exception as exc:  # saxonche raises its own PySaxonApiError
            raise OfficialSchemaError(f"the EN 16931 rules ({self.name}) could not run: {exc}") from None
        return svrl_errors(svrl.encode("utf-8"), tree=tree, prefixes=prefixes)


@cache
def compile_rules(path: str) -> CenRules:
    """Compile the stylesheet at ``path`` once per process (a few seconds for the CEN rules).

    Raises:
        OfficialSchemaError: saxonche is not installed, or the stylesheet does not compile.
    """
    if not saxon_available():
        raise OfficialSchemaError(
            "the EN 16931 rules need saxonche (an XSLT 2 processor), which is not installed",
            hint="pip install 'b2b-gateway[rules]'",
        )
    processor = _processor()
    try:
        executable = processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=path)
    except Exception as exc:  # PySaxonApiError
        raise OfficialSchemaError(f"cannot compile the EN 16931 rules: {exc}", location=Location(file=path)) from None
    return CenRules(executable, processor, path.rsplit("/", 1)[-1])
