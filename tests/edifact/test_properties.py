"""Hypothesis properties: escaping and tokenizing round-trip for any values and any delimiters."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from b2b_gateway.formats.edifact.model import Delimiters, Segment
from b2b_gateway.formats.edifact.reader import read
from b2b_gateway.formats.edifact.tokenizer import tokenize
from b2b_gateway.formats.edifact.writer import (
    escape,
    message_segments,
    render_segment,
    write_interchange,
    write_segments,
)

_SPECIAL_POOL = ":+.?'*|^!~#"
values = st.text(alphabet=st.characters(codec="latin-1", exclude_categories=("Cc",)), max_size=12)
components = st.lists(values, min_size=1, max_size=4)
elements = st.lists(components, min_size=0, max_size=5)
tags = st.from_regex(r"[A-Z][A-Z0-9]{2}", fullmatch=True).filter(lambda t: not t.startswith("UN"))


@st.composite
def delimiters(draw: st.DrawFn) -> Delimiters:
    chars = draw(st.permutations(list(":+?'*|^!~#")))
    comp, elem, rel, term, rep = chars[:5]
    return Delimiters(comp, elem, draw(st.sampled_from(".,")), rel, rep, term, explicit=True)


def _unescape(text: str, d: Delimiters) -> str:
    out, i = [], 0
    while i < len(text):
        if text[i] == d.release:
            i += 1
        out.append(text[i])
        i += 1
    return "".join(out)


@given(values, delimiters())
def test_escape_then_unescape_is_identity(value: str, d: Delimiters) -> None:
    escaped = escape(value, d)
    assert _unescape(escaped, d) == value
    for i, c in enumerate(escaped):
        if c in d.specials and c != d.release:
            assert escaped[i - 1] == d.release


@settings(max_examples=300)
@given(st.lists(st.tuples(tags, elements), min_size=1, max_size=8), delimiters())
def test_written_segments_tokenize_back_to_the_same_values(items: list[tuple[str, list[list[str]]]],
                                                            d: Delimiters) -> None:
    segments = [Segment(tag, els) for tag, els in items]
    text = write_segments(segments, d, newline=True)
    scan = tokenize(text, 0, d)
    assert not [e for e in scan.errors if e.severity == "error"], scan.errors
    assert [s.tag for s in scan.segments] == [s.tag for s in segments]
    assert [s.trimmed() for s in scan.segments] == [s.trimmed() for s in segments]


@settings(max_examples=150)
@given(st.lists(st.tuples(tags, elements), min_size=0, max_size=6), delimiters(), st.booleans())
def test_written_interchanges_read_back_with_counts_and_offsets(items: list[tuple[str, list[list[str]]]],
                                                                 d: Delimiters, newline: bool) -> None:
    body = [Segment(tag, els) for tag, els in items]
    data = write_interchange(
        [message_segments("1", "ORDERS", "D", "96A", "UN", None, body)],
        sender="S", recipient="R", control_ref="7", delimiters=d, syntax_version="4", newline=newline,
    )
    result = read(data)
    assert result.ok, [str(e) for e in result.findings]
    msg = result.interchanges[0].messages[0]
    assert [s.trimmed() for s in msg.body] == [s.trimmed() for s in body]
    for seg in msg.segments:
        assert data[seg.offset : seg.offset + 3].decode("latin-1") == seg.tag


def _reference_render(seg: Segment, d: Delimiters) -> str:
    """The writer's rendering spelled out character by character (the oracle of the compiled one)."""

    def esc(value: str) -> str:
        return "".join(d.release + c if c in d.specials else c for c in value)

    def trim(items: list[str]) -> list[str]:
        while items and items[-1] == "":
            items = items[:-1]
        return items

    elements = []
    for index, comps in enumerate(seg.elements):
        occurrences = (seg.repetitions or {}).get(index) if d.repetition.strip() else None
        parts = [d.component.join(esc(c) for c in trim(list(o))) for o in (occurrences or [comps])]
        elements.append(d.repetition.join(trim(parts)) if occurrences else parts[0])
    body = d.element.join(trim(elements))
    return f"{seg.tag}{d.element}{body}{d.terminator}" if body else f"{seg.tag}{d.terminator}"


@st.composite
def any_delimiters(draw: st.DrawFn) -> Delimiters:
    """Service characters from regular-expression metacharacters and the backslash too; repetition optional."""
    comp, elem, rel, term, rep = draw(st.permutations(list(":+?'*\\^]-[.|$")))[:5]
    return Delimiters(comp, elem, ".", rel, draw(st.sampled_from([rep, " "])), term, explicit=True)


@settings(max_examples=300)
@given(
    st.lists(st.tuples(tags, elements, st.dictionaries(st.integers(0, 5), st.lists(components, max_size=3)))),
    any_delimiters(),
)
def test_rendering_is_the_reference_rendering(
    items: list[tuple[str, list[list[str]], dict[int, list[list[str]]]]], d: Delimiters
) -> None:
    segments = [Segment(tag, els, repetitions=reps or None) for tag, els, reps in items]
    assert write_segments(segments, d) == "".join(_reference_render(s, d) for s in segments)
    for seg in segments:
        assert render_segment(seg, d) == _reference_render(seg, d)
    assert escape("a\\b+c?", Delimiters(release="\\")) == "a\\\\b\\+c?"
