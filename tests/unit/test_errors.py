"""The exception tree: drawn in the docstring, one code per class, every leaf mapped to its acknowledgments."""

from __future__ import annotations

import re

import pytest

from b2b_gateway import errors
from b2b_gateway.errors import (
    Ack,
    BusinessRuleError,
    ContentTamperedError,
    ControlCountError,
    DecryptionError,
    DocumentRejected,
    DuplicateDocumentError,
    GatewayError,
    Location,
    StoreUnavailableError,
    TransientError,
    UnknownPartnerError,
    ValueTooLongError,
    error_from_dict,
)


def _classes() -> list[type[GatewayError]]:
    return [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, GatewayError)]


def _tree_from_docstring() -> dict[str, str | None]:
    """Child -> parent as drawn in the module docstring."""
    doc = errors.__doc__ or ""
    block = doc.split("The tree")[1].split("::", 1)[1].split("\n\n", 2)[1]
    parents: dict[int, str] = {}
    out: dict[str, str | None] = {}
    lines = [line for line in block.splitlines() if line.strip()]
    base = len(lines[0]) - len(lines[0].lstrip())
    for line in lines:
        m = re.search(r"(\w+)$", line)
        assert m and re.fullmatch(r"[\s│├└─]*\w+", line), f"unparsable docstring line {line!r}"
        depth = (m.start() - base) // 4
        parents[depth] = m.group(1)
        out[m.group(1)] = parents.get(depth - 1) if depth else None
    return out


def test_docstring_draws_the_real_tree() -> None:
    drawn = _tree_from_docstring()
    real = {c.__name__: (c.__bases__[0].__name__ if c is not GatewayError else None) for c in _classes()}
    assert drawn == real


def test_codes_are_unique_and_stable() -> None:
    codes = [c.code for c in _classes()]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"[A-Z][A-Z0-9_]+", c) for c in codes)


@pytest.mark.parametrize("cls", _classes(), ids=lambda c: c.__name__)
def test_every_class_knows_its_acknowledgments(cls: type[GatewayError]) -> None:
    assert isinstance(cls.ack, Ack)
    assert 400 <= cls.ack.http < 600
    assert cls.ack.contrl is None or cls.ack.contrl.isdigit()
    assert cls.ack.mdn is None or re.fullmatch(r"(error|warning): [a-z-]+", cls.ack.mdn)
    assert cls.retryable is issubclass(cls, TransientError)
    assert cls.__doc__


@pytest.mark.parametrize(
    ("error", "contrl", "mdn", "http"),
    [
        (ControlCountError("x"), "29", None, 422),
        (ValueTooLongError("x"), "39", None, 422),
        (DuplicateDocumentError("x"), "26", "warning: duplicate-document", 409),
        (DecryptionError("x"), "27", "error: decryption-failed", 400),
        (ContentTamperedError("x"), "27", "error: integrity-check-failed", 403),
        (UnknownPartnerError("x"), "23", "error: unknown-trading-partner", 403),
        (BusinessRuleError("x"), None, None, 422),
        (StoreUnavailableError("x"), None, "error: unexpected-processing-error", 503),
    ],
)
def test_leaf_to_acknowledgment_mapping(error: GatewayError, contrl: str | None, mdn: str | None, http: int) -> None:
    assert (error.ack.contrl, error.ack.mdn, error.ack.http) == (contrl, mdn, http)
    assert error.ack.contrl_action == ("4" if contrl else "7")


def test_transient_errors_are_retryable_and_documents_are_not() -> None:
    assert StoreUnavailableError("db locked").retryable
    assert not BusinessRuleError("x").retryable


def test_error_carries_location_and_round_trips() -> None:
    err = ValueTooLongError(
        "element 3036 is 40 characters, at most 35",
        location=Location(segment="NAD", segment_index=7, element=4, component=1, line=9, column=12),
        hint="shorten the name",
    )
    text = str(err)
    assert "[TOO_LONG]" in text and "segment 7 (NAD)" in text and "element 4" in text and "line 9, column 12" in text
    back = error_from_dict(err.to_dict())
    assert type(back) is ValueTooLongError
    assert back.location == err.location and back.hint == "shorten the name" and back.ack == err.ack


def test_instance_code_and_contrl_override() -> None:
    err = BusinessRuleError("totals", code="BR-CO-15")
    assert err.code == "BR-CO-15" and BusinessRuleError.code == "BUSINESS_RULE"
    assert ControlCountError("x", contrl="5").ack.contrl == "5"
    assert ControlCountError.ack.contrl == "29"


def test_rejected_collects_every_error_and_takes_the_first_ack() -> None:
    many = [BusinessRuleError("a", severity="warning"), ControlCountError("b"), BusinessRuleError("c")]
    rejected = DocumentRejected(many)
    assert rejected.errors == many
    assert rejected.ack.contrl == "29"
    assert "2 error(s)" in rejected.message


def test_location_merge_keeps_own_fields() -> None:
    a = Location(segment="QTY", line=4)
    merged = a.merge(Location(segment="XXX", message="M1", file="f.edi"))
    assert merged == Location(segment="QTY", line=4, message="M1", file="f.edi")
