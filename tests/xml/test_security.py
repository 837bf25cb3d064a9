"""Hostile XML: external entities (file and network), parameter entities, billion laughs, quadratic
blowup, XInclude, huge text nodes and deep nesting are refused, and no local file content ever reaches
an error, the output or a log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from b2b_gateway.errors import (
    CharacterSetError,
    ForbiddenXmlConstructError,
    GatewayError,
    InputTooLargeError,
    XmlSyntaxError,
)
from b2b_gateway.formats.xml.parser import XmlLimits, parse_xml
from tests.conftest import CliRunner

SECRET = "TOP-SECRET-1c0ffee"
UBL = b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">'


def _laughs(levels: int = 10) -> bytes:
    ents = b'<!ENTITY l0 "lol">' + b"".join(
        b'<!ENTITY l%d "%s">' % (i, b"&l%d;" % (i - 1) * 10) for i in range(1, levels)
    )
    return b'<?xml version="1.0"?><!DOCTYPE r [' + ents + b"]><r>&l%d;</r>" % (levels - 1)


def hostile(secret: Path) -> dict[str, bytes]:
    uri = secret.as_uri().encode()
    docs = {
        "xxe-file": b'<?xml version="1.0"?><!DOCTYPE Invoice [<!ENTITY x SYSTEM "'
        + uri
        + b'">]>'
        + UBL
        + b"&x;</Invoice>",
        "xxe-network": b'<!DOCTYPE r [<!ENTITY x SYSTEM "http://127.0.0.1:9/evil.dtd">]><r>&x;</r>',
        "external-dtd": b'<!DOCTYPE r SYSTEM "' + uri + b'"><r/>',
        "parameter-entity": b'<!DOCTYPE r [<!ENTITY % p SYSTEM "' + uri + b'"> %p;]><r/>',
        "billion-laughs": _laughs(),
        "quadratic-blowup": b'<!DOCTYPE r [<!ENTITY a "' + b"x" * 50_000 + b'">]><r>' + b"&a;" * 50_000 + b"</r>",
        "xinclude": b'<r xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="' + uri + b'" parse="text"/></r>',
    }
    root = b'Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"'
    return {  # every document looks like a UBL invoice, so that the gateway really parses it
        name: data.replace(b"<r>", b"<" + root + b">")
        .replace(b"<r/>", b"<" + root + b"/>")
        .replace(b"<r ", b"<" + root + b" ")
        .replace(b"</r>", b"</Invoice>")
        for name, data in docs.items()
    }


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET)
    return path


@pytest.mark.parametrize(
    "case",
    ["xxe-file", "xxe-network", "external-dtd", "parameter-entity", "billion-laughs", "quadratic-blowup", "xinclude"],
)
def test_forbidden_constructs_are_refused(case: str, secret: Path) -> None:
    with pytest.raises(ForbiddenXmlConstructError) as info:
        parse_xml(hostile(secret)[case])
    err = info.value
    assert SECRET not in str(err) and SECRET not in json.dumps(err.to_dict())
    assert err.location.line == 1 and "refused" in err.message and err.hint


def test_undeclared_entity_is_refused_not_resolved() -> None:
    with pytest.raises(ForbiddenXmlConstructError, match="foo"):
        parse_xml(b"<r>&foo;</r>")


def test_huge_text_node_is_too_large() -> None:
    with pytest.raises(InputTooLargeError, match="Text node too long"):
        parse_xml(b"<r>" + b"x" * (11 * 1024 * 1024) + b"</r>")


def test_deep_nesting_and_element_count_and_size_limits() -> None:
    with pytest.raises(InputTooLargeError, match="deeper than 256"):
        parse_xml(b"<a>" * 100_000 + b"</a>" * 100_000)
    with pytest.raises(InputTooLargeError, match="deeper than 10"):
        parse_xml(b"<a>" * 11 + b"</a>" * 11, XmlLimits(max_depth=10))
    with pytest.raises(InputTooLargeError, match="more than 100 elements"):
        parse_xml(b"<r>" + b"<a/>" * 200 + b"</r>", XmlLimits(max_elements=100))
    with pytest.raises(InputTooLargeError, match="over the limit of 10 bytes"):
        parse_xml(b"<r>0123456789</r>", XmlLimits(max_bytes=10))


@pytest.mark.parametrize(
    ("data", "error", "text"),
    [
        (b"<r><a></r>", XmlSyntaxError, "Opening and ending tag mismatch"),
        (b"", XmlSyntaxError, "empty"),
        (b"<r>\xe9</r>", CharacterSetError, "not UTF-8"),
    ],
)
def test_syntax_errors_are_located(data: bytes, error: type[GatewayError], text: str) -> None:
    with pytest.raises(error, match=text) as info:
        parse_xml(data)
    assert info.value.location.line == 1 or not data


def test_declared_latin1_is_read() -> None:
    tree = parse_xml(b'<?xml version="1.0" encoding="ISO-8859-1"?><r>\xe9</r>')
    assert tree.getroot().text == "é"


@pytest.mark.parametrize("case", ["xxe-file", "parameter-entity", "xinclude", "external-dtd"])
def test_cli_never_shows_local_file_content(case: str, secret: Path, cli: CliRunner, tmp_path: Path) -> None:
    doc = tmp_path / f"{case}.xml"
    doc.write_bytes(hostile(secret)[case])
    for args in (("validate", str(doc)), ("translate", str(doc), "--json-errors"), ("validate", str(doc), "--json")):
        r = cli(*args, env={"B2B_LOGGING__LEVEL": "DEBUG"})
        assert r.returncode == 1, r.stderr
        assert SECRET not in r.stdout and SECRET not in r.stderr
        assert "Traceback" not in r.stderr
    assert "XML_FORBIDDEN" in cli("validate", str(doc)).stderr


@pytest.mark.parametrize(
    "data",
    [
        b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- a <r/> in a comment -->\n<?pi x?>\n'
        b'<!DOCTYPE r [<!ENTITY a "b">]><r>&a;</r>',
        '<?xml version="1.0" encoding="UTF-16"?>\n\n<!DOCTYPE r SYSTEM "x.dtd"><r/>'.encode("utf-16"),
    ],
    ids=["after-bom-declaration-comment-pi", "utf-16"],
)
def test_a_doctype_anywhere_in_the_prolog_is_refused_before_the_parser_reads_it(data: bytes) -> None:
    """libxml2 reads ahead: the DOCTYPE is found in the prolog first, so no entity declaration is ever parsed."""
    with pytest.raises(ForbiddenXmlConstructError, match="DOCTYPE") as info:
        parse_xml(data)
    assert info.value.location.line == data.decode("utf-16" if data[:2] == b"\xff\xfe" else "utf-8").count("\n") + 1


def test_a_doctype_named_in_a_comment_or_after_the_root_is_not_a_prolog_doctype() -> None:
    assert parse_xml(b"<!-- <!DOCTYPE r> --><r/>").getroot().tag == "r"
    with pytest.raises(XmlSyntaxError):
        parse_xml(b"<r/><!DOCTYPE r>")


def test_nesting_past_the_parser_s_own_limit_says_how_deep() -> None:
    with pytest.raises(InputTooLargeError, match="deeper than 256 levels") as info:
        parse_xml(b"<a>" * 300 + b"</a>" * 300, XmlLimits(max_depth=1000))
    assert info.value.location.line == 1


def test_utf16_with_its_byte_order_mark_needs_no_declaration() -> None:
    tree = parse_xml('<r a="é">ü</r>'.encode("utf-16"))
    assert tree.getroot().text == "ü" and tree.getroot().get("a") == "é"
