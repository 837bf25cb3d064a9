"""Hardened XML parsing: no DTD, no entities, no network, no XInclude; limits on size, depth and count.

Every document goes through :func:`parse_xml`. A DOCTYPE (and with it every entity declaration: external
entities, parameter entities, billion laughs, quadratic blowup) is refused as soon as the parser meets
it, before any entity could be expanded or fetched; an element in the XInclude namespace is refused
(XInclude is never processed). Nothing from outside the bytes is ever read, so no local file content
can reach an error message or a log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from io import BytesIO

from lxml import etree

from b2b_gateway.errors import (
    CharacterSetError,
    ForbiddenXmlConstructError,
    InputTooLargeError,
    Location,
    XmlSyntaxError,
)

__all__ = ["XINCLUDE_NS", "XmlLimits", "element_xpath", "parse_xml"]

XINCLUDE_NS = ("http://www.w3.org/2001/XInclude", "http://www.w3.org/2003/XInclude")


@dataclass(frozen=True, slots=True)
class XmlLimits:
    """Input limits for one XML document (from ``LimitSettings``)."""

    max_bytes: int = 64 * 1024 * 1024
    max_depth: int = 256
    max_elements: int = 2_000_000


_HINT_FORBIDDEN = (
    "the gateway never loads DTDs, expands entities, fetches external references or processes XInclude; "
    "send the document without a DOCTYPE, entity declarations or xi:include elements"
)


def _forbidden(what: str, line: int | None) -> ForbiddenXmlConstructError:
    return ForbiddenXmlConstructError(
        f"{what} is not allowed in a business document; it was refused, not expanded or fetched",
        location=Location(line=line),
        hint=_HINT_FORBIDDEN,
    )


_PARSER_DEPTH = re.compile(r"[Ee]xcessive depth in document: (\d+)")


def _syntax_error(exc: etree.XMLSyntaxError) -> XmlSyntaxError | InputTooLargeError | ForbiddenXmlConstructError:
    msg = str(exc.msg or exc).strip()
    line, column = exc.position if exc.position else (exc.lineno, None)
    if not line:  # iterparse reports a generic message; the log holds the real first error
        last = exc.error_log.last_error
        if last is not None:
            msg, line, column = last.message, last.line, last.column
    msg = msg.replace(", try XML_PARSE_HUGE", "")
    where = Location(line=line or None, column=column or None)
    low = msg.lower()
    depth = _PARSER_DEPTH.search(msg)
    if depth is not None:  # libxml2's own depth limit (256 without XML_PARSE_HUGE), met while reading ahead
        return InputTooLargeError(
            f"XML nested deeper than {depth.group(1)} levels (the parser's own limit)",
            location=where,
            hint="nesting this deep is refused whatever limits.max_xml_depth says",
        )
    if "huge" in low or "too long" in low or "resource limit" in low or "excessive depth" in low or "amplif" in low:
        return InputTooLargeError(
            f"XML document over the parser's limits: {msg}",
            location=where,
            hint="text nodes are limited to 10 MB and nesting to the configured depth",
        )
    if "entity" in low and ("not defined" in low or "undeclared" in low):
        return ForbiddenXmlConstructError(
            f"entity reference refused: {msg}", location=where, hint="use characters or numeric references (&#233;)"
        )
    return XmlSyntaxError(
        f"the XML is not well-formed: {msg}",
        location=where,
        hint="check the line and column given; the document must be well-formed XML (UTF-8 unless declared)",
    )


_PROLOG_SCAN = 64 * 1024
"""How much of the document's start :func:`_doctype_line` looks at for a DOCTYPE (the prolog is short)."""


def _doctype_line(data: bytes) -> int | None:
    """The line of a DOCTYPE in the document's prolog (``None`` when there is none), found before any parser
    runs: libxml2 reads ahead and would meet the entity declarations (and fail on their amplification) before
    the first element is handed over. The prolog is the XML declaration, comments, processing instructions
    and white space (XML 1.0 §2.8); its markup is ASCII in every ASCII-compatible encoding, and UTF-16 is
    told by its byte-order mark."""
    head = data[:_PROLOG_SCAN]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head.decode("utf-16", "replace")  # the byte-order mark is consumed
    else:
        text = head.decode("latin-1").removeprefix("\xef\xbb\xbf")
    pos = 0
    while True:
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        for opening, closing in (("<?", "?>"), ("<!--", "-->")):
            if text.startswith(opening, pos):
                end = text.find(closing, pos + len(opening))
                if end < 0:
                    return None  # the parser reports the unclosed construct
                pos = end + len(closing)
                break
        else:
            if text.startswith("<!DOCTYPE", pos):
                return text.count("\n", 0, pos) + 1
            return None


def _check_encoding(data: bytes) -> None:
    """XML without BOM or declaration must be UTF-8; catch the common Latin-1 mistake with a clear error."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return  # UTF-16, told by its byte-order mark (the parser decodes the rest)
    if data.startswith(b"\xef\xbb\xbf") or data.lstrip().startswith(b"<?xml"):
        head = data.lstrip()[:200]
        if b"encoding" in head.split(b"?>", 1)[0]:
            return
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CharacterSetError(
            f"byte {data[exc.start]:#04x} at offset {exc.start} is not UTF-8 and no other encoding is declared",
            location=Location(offset=exc.start, line=data.count(b"\n", 0, exc.start) + 1),
            hint='declare the encoding (<?xml version="1.0" encoding="ISO-8859-1"?>) or send UTF-8',
        ) from None


def parse_xml(data: bytes, limits: XmlLimits | None = None) -> etree._ElementTree:
    """Parse ``data`` safely and return the tree (with line numbers on every element).

    Raises:
        InputTooLargeError: over the size, depth or element-count limit, or a text node over 10 MB.
        ForbiddenXmlConstructError: a DOCTYPE, an entity declaration or reference, or an XInclude element.
        CharacterSetError: bytes that do not decode in the declared (or default UTF-8) encoding.
        XmlSyntaxError: not well-formed, with line and column.
    """
    lim = limits or XmlLimits()
    if len(data) > lim.max_bytes:
        raise InputTooLargeError(
            f"XML document of {len(data)} bytes is over the limit of {lim.max_bytes} bytes",
            hint="raise limits.max_document_bytes if this partner really sends such documents",
        )
    if not data.strip():
        raise XmlSyntaxError("the document is empty", location=Location(line=1))
    _check_encoding(data)
    doctype = _doctype_line(data)
    if doctype is not None:
        raise _forbidden("a DOCTYPE declaration (DTD, entities)", doctype)
    events = etree.iterparse(
        BytesIO(data),
        events=("start", "end"),
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        strip_cdata=False,
    )
    depth = count = 0
    first = True
    root: etree._Element | None = None
    try:
        for event, element in events:
            if event == "end":
                depth -= 1
                continue
            if first:
                first = False
                info = element.getroottree().docinfo
                if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
                    raise _forbidden("a DOCTYPE declaration (DTD, entities)", element.sourceline)
                root = element
            depth += 1
            count += 1
            if depth > lim.max_depth:
                raise InputTooLargeError(
                    f"XML nested deeper than {lim.max_depth} levels",
                    location=Location(line=element.sourceline),
                    hint="raise limits.max_xml_depth if this partner really sends such documents",
                )
            if count > lim.max_elements:
                raise InputTooLargeError(
                    f"XML document has more than {lim.max_elements} elements",
                    location=Location(line=element.sourceline),
                    hint="raise limits.max_xml_elements if this partner really sends such documents",
                )
            tag = element.tag
            if isinstance(tag, str) and tag.startswith("{") and tag[1:].split("}", 1)[0] in XINCLUDE_NS:
                raise _forbidden("an XInclude element (xi:include)", element.sourceline)
            if not isinstance(tag, str):  # an entity reference left unexpanded
                raise _forbidden("an entity reference", element.sourceline)
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc) from None
    except UnicodeError as exc:  # a declared encoding the bytes do not follow
        raise CharacterSetError(f"the document does not decode as declared: {exc}") from None
    except LookupError as exc:  # an unknown declared encoding
        raise CharacterSetError(f"unknown encoding declared: {exc}") from None
    if root is None:
        raise XmlSyntaxError("the document has no root element", location=Location(line=1))
    return root.getroottree()


def element_xpath(element: etree._Element, prefixes: dict[str, str] | None = None) -> str:
    """A readable XPath to ``element`` with prefixes (``/Invoice/cac:InvoiceLine[2]/cbc:ID``).

    Args:
        element: any element of a parsed tree.
        prefixes: namespace URI -> prefix; the root's default namespace is written without prefix.
    """
    known = prefixes or {}
    steps: list[str] = []
    node: etree._Element | None = element
    while node is not None:
        qname = etree.QName(node)
        prefix = known.get(qname.namespace or "")
        name = f"{prefix}:{qname.localname}" if prefix else qname.localname
        parent = node.getparent()
        if parent is not None:
            same = [c for c in parent if c.tag == node.tag]
            if len(same) > 1:
                name += f"[{same.index(node) + 1}]"
        steps.append(name)
        node = parent
    return "/" + "/".join(reversed(steps))
