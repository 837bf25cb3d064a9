"""The native UN/EDIFACT model: segments, messages, functional groups, interchanges, segment groups.

This is the tree the reader produces, the validator annotates, the writer serialises and the mapping
engine addresses. It is stable: changes are additive only.

Positions and numbering (one convention everywhere):

* ``Segment.elements`` is a Python list, **0-based**: ``seg.elements[0]`` is the first data element
  after the tag. Each element is a list of its components (strings, release characters already
  removed), also 0-based. An empty element is ``[""]``; a simple element is a one-item list.
* Error locations and the helpers :meth:`Segment.value` / :meth:`Segment.component` use the
  standard's **1-based** positions (UCD 0098/0104): element 1 is the first element after the tag,
  component 1 is the first component of it.
* ``Segment.number`` counts segments in the interchange from UNB = 1; ``Segment.position`` counts
  them in their message from UNH = 1 (UCS 0096) and is 0 for segments outside a message.
* ``Segment.offset`` is the byte offset of the segment's first byte in the input; ``line`` and
  ``column`` are 1-based (columns count bytes).

Syntax version 4 repetitions (``*`` by default): ``seg.elements[i]`` holds the first occurrence, and
``seg.repetitions`` (when not ``None``) maps the element index to every occurrence, first included.

Example:
    >>> seg = Segment("NAD", [["BY"], ["5412345000013", "", "9"]])
    >>> seg.value(2, 1), seg.value(2, 3), seg.value(5)
    ('5412345000013', '9', '')
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import count, repeat
from typing import Any

from b2b_gateway.errors import GatewayError, Location

__all__ = [
    "DEFAULT_DELIMITERS",
    "Delimiters",
    "EdifactMessage",
    "FunctionalGroup",
    "Group",
    "Interchange",
    "Node",
    "Segment",
    "number_positions",
]


@dataclass(frozen=True, slots=True)
class Delimiters:
    """The service characters of an interchange (UNA, ISO 9735 §4).

    ``repetition`` is a space when the interchange has none (syntax versions 1-3, or a UNA whose
    fifth position is a space). ``explicit`` says whether the interchange carried a UNA segment.
    """

    component: str = ":"
    element: str = "+"
    decimal: str = "."
    release: str = "?"
    repetition: str = " "
    terminator: str = "'"
    explicit: bool = False

    @property
    def una(self) -> str:
        """The UNA segment announcing these characters, e.g. ``UNA:+.? '``."""
        return f"UNA{self.component}{self.element}{self.decimal}{self.release}{self.repetition}{self.terminator}"

    @property
    def specials(self) -> str:
        """Characters that must be released inside data (separators, terminator, release, repetition)."""
        chars = self.component + self.element + self.release + self.terminator
        return chars + (self.repetition if self.repetition.strip() else "")

    @property
    def is_default(self) -> bool:
        """Whether these are the ISO 9735 defaults (no UNA needed to announce them)."""
        return (self.component, self.element, self.decimal, self.release, self.terminator) == (
            ":",
            "+",
            ".",
            "?",
            "'",
        ) and not self.repetition.strip()


DEFAULT_DELIMITERS = Delimiters()
"""``UNA:+.? '``: what applies when an interchange has no UNA (decimal mark ``.``)."""


class Segment:
    """One segment: a tag and its data elements, each a list of components.

    Construct with ``Segment(tag, elements, repetitions, offset, line, column, number, position)``
    (all but ``tag`` optional). Segments the reader produces split their elements on first access
    and compute their line and column when asked (only located findings need them), so that reading
    stays fast; ``elements``, ``line``, ``column`` and ``position`` behave like plain attributes.
    """

    __slots__ = (
        "_body",
        "_column",
        "_elements",
        "_line",
        "_position",
        "_repetitions",
        "_src",
        "number",
        "offset",
        "tag",
    )

    tag: str
    offset: int
    """Byte offset of the segment's first byte in the input."""
    number: int
    """1-based count in the interchange (UNB = 1); 0 when the segment was built, not read."""
    _body: str
    _src: Source
    _elements: list[list[str]] | None
    """``None`` on a read segment until its elements are first asked for."""

    def __init__(
        self,
        tag: str,
        elements: list[list[str]] | None = None,
        repetitions: dict[int, list[list[str]]] | None = None,
        offset: int = 0,
        line: int = 1,
        column: int = 1,
        number: int = 0,
        position: int = 0,
    ) -> None:
        self.tag = tag
        self._elements = elements if elements is not None else []
        self._repetitions = repetitions
        self.offset = offset
        self._line = line
        self._column = column
        self.number = number
        self._position = position

    @property
    def elements(self) -> list[list[str]]:
        """The data elements, 0-based, each a list of components (release characters removed)."""
        elements = self._elements
        if elements is None:  # a read segment, not split yet
            src, text = self._src, self._body
            elements = [e.split(src.component) for e in text[4:].split(src.element)] if len(text) > 3 else []
            self._elements = elements
        return elements

    @elements.setter
    def elements(self, value: list[list[str]]) -> None:
        self._elements = value

    @property
    def repetitions(self) -> dict[int, list[list[str]]] | None:
        """Syntax 4: element index (0-based) -> every occurrence (lists of components), first included."""
        return getattr(self, "_repetitions", None)

    @repetitions.setter
    def repetitions(self, value: dict[int, list[list[str]]] | None) -> None:
        self._repetitions = value

    @property
    def position(self) -> int:
        """1-based count in its message (UNH = 1, UCS 0096); 0 outside a message."""
        return getattr(self, "_position", 0)

    @position.setter
    def position(self, value: int) -> None:
        self._position = value

    @property
    def line(self) -> int:
        """1-based line of the segment's first byte."""
        try:
            return self._line
        except AttributeError:
            self._line, self._column = self._src.position(self.offset)
            return self._line

    @line.setter
    def line(self, value: int) -> None:
        self._line = value

    @property
    def column(self) -> int:
        """1-based column (in bytes) of the segment's first byte."""
        try:
            return self._column
        except AttributeError:
            self._line, self._column = self._src.position(self.offset)
            return self._column

    @column.setter
    def column(self, value: int) -> None:
        self._column = value

    def text_key(self) -> str | None:
        """The segment's text as read, when it alone gives the elements (read with the separators ``+``
        and ``:``, no release characters or repetitions); ``None`` otherwise (a built segment, say)."""
        return None

    def value(self, element: int, component: int = 1) -> str:
        """The component at 1-based ``element``/``component``, or ``""`` when absent."""
        elements = self._elements  # the property's work, without its call (read for every rule)
        if elements is None:
            elements = self.elements
        if element < 1 or element > len(elements):
            return ""
        comps = elements[element - 1]
        return comps[component - 1] if 1 <= component <= len(comps) else ""

    def component(self, element: int, component: int = 1) -> str | None:
        """Like :meth:`value` but ``None`` when the element or component is absent or empty."""
        return self.value(element, component) or None

    def element(self, element: int) -> list[str]:
        """The components of the 1-based ``element`` (``[]`` when absent)."""
        elements = self.elements
        return list(elements[element - 1]) if 1 <= element <= len(elements) else []

    def occurrences(self, element: int) -> list[list[str]]:
        """Every repetition of the 1-based ``element`` (syntax 4); one item when it does not repeat."""
        reps = self.repetitions
        if reps is not None and element - 1 in reps:
            return [list(r) for r in reps[element - 1]]
        return [self.element(element)] if 1 <= element <= len(self.elements) else []

    def location(self, element: int | None = None, component: int | None = None) -> Location:
        """Where this segment (or one of its elements) lies, for an error."""
        return Location(
            offset=self.offset,
            line=self.line,
            column=self.column,
            segment=self.tag,
            segment_index=self.position or self.number or None,
            element=element,
            component=component,
        )

    def trimmed(self) -> list[list[str]]:
        """The elements without trailing empty components and trailing empty elements (for comparisons)."""
        out = []
        for comps in self.elements:
            end = len(comps)
            while end > 0 and comps[end - 1] == "":
                end -= 1
            out.append(comps[:end])
        while out and not out[-1]:
            out.pop()
        return out

    def __repr__(self) -> str:
        return f"Segment({self.tag!r}, {self.elements!r})"


def number_positions(segments: list[Segment]) -> None:
    """Set ``position`` 1, 2, 3 … on a message's segments (UNH first), at C speed."""
    list(map(setattr, segments, repeat("_position"), count(1)))


class ReadSegment(Segment):
    """A segment as the reader makes it (internal): ``text`` is the whole segment (a three-character tag,
    the data separator, elements without release or repetition characters), split on first access.

    Its elements are a function of ``text`` and the source's two separators alone, so a check of the
    elements may be remembered by text (``elements.check_segment`` does, see :meth:`Segment.text_key`).
    """

    __slots__ = ()

    def __init__(self, tag: str, text: str, src: Source, offset: int, number: int) -> None:
        self.tag = tag
        self._body = text
        self._src = src
        self._elements = None  # split when first asked for (None, not unset: an unset slot's error costs 1 µs)
        self.offset = offset
        self.number = number

    def text_key(self) -> str | None:
        src = self._src
        return self._body if src.element == "+" and src.component == ":" else None


class CarefulSegment(ReadSegment):
    """A read segment whose elements were split the careful way (release characters, repetitions, odd
    tags): its text alone does not give its elements."""

    __slots__ = ()

    def text_key(self) -> str | None:
        return None


class Source:
    """What read segments share: the separators to split with, and a line index of the input."""

    __slots__ = ("_newlines", "component", "element", "text")

    def __init__(self, text: str, element: str = "+", component: str = ":") -> None:
        self.text = text
        self.element = element
        self.component = component
        self._newlines: list[int] | None = None

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of byte ``offset``."""
        if self._newlines is None:
            self._newlines = [m.start() for m in re.finditer("\n", self.text)]
        index = bisect_right(self._newlines, offset - 1)
        start = self._newlines[index - 1] + 1 if index else 0
        return index + 1, offset - start + 1


@dataclass(slots=True, eq=False)
class Group:
    """A segment group of a message (``SG2``), or the message's root (named after the message type).

    Built by the validator from the message definition: ``children`` holds the group's segments and
    nested groups in the order they were received. Every occurrence of a group is its own ``Group``.
    """

    name: str
    children: list[Node] = field(default_factory=list)
    _index: dict[str, list[Node]] | None = field(default=None, init=False, repr=False)
    _indexed: int = field(default=-1, init=False, repr=False)

    def named(self, key: str) -> list[Node]:
        """The children with segment tag ``key``, or the nested groups named ``key[1:]`` when ``key`` is ``/SGn``.

        The answer is shared: read it, do not change it. It is looked up in an index of the children,
        made on first use and again when children were added (reading maps a message's tree some
        hundred times; scanning the children each time cost more than the rest of the read).
        """
        index, children = self._index, self.children
        if index is None or self._indexed != len(children):
            index = {}
            for child in children:
                key_of = child.tag if isinstance(child, Segment) else "/" + child.name
                found = index.get(key_of)
                if found is None:
                    index[key_of] = [child]
                else:
                    found.append(child)
            self._index, self._indexed = index, len(children)
        return index.get(key, _NOTHING)

    @property
    def trigger(self) -> Segment | None:
        """The group's first segment (the one that opened it)."""
        first = self.children[0] if self.children else None
        return first if isinstance(first, Segment) else None

    def segments(self, tag: str | None = None) -> list[Segment]:
        """This group's own segments (not those of nested groups), optionally only those with ``tag``."""
        return [c for c in self.children if isinstance(c, Segment) and (tag is None or c.tag == tag)]

    def groups(self, name: str | None = None) -> list[Group]:
        """This group's nested group occurrences, optionally only those named ``name``."""
        return [c for c in self.children if isinstance(c, Group) and (name is None or c.name == name)]

    def walk(self) -> Iterator[Segment]:
        """Every segment below this group, depth first, in received order."""
        for child in self.children:
            if isinstance(child, Group):
                yield from child.walk()
            else:
                yield child

    def __repr__(self) -> str:
        return f"Group({self.name!r}, {len(self.children)} children)"


Node = Segment | Group
_NOTHING: list[Node] = []


@dataclass(slots=True, eq=False)
class EdifactMessage:
    """One message, UNH to UNT inclusive, with its S009 identification."""

    ref: str
    """UNH 0062, the message reference number."""
    type: str
    """S009 0065, e.g. ``ORDERS``."""
    version: str
    """S009 0052, e.g. ``D`` (or ``4`` for a syntax 4 CONTRL)."""
    release: str
    """S009 0054, e.g. ``96A``."""
    agency: str
    """S009 0051, e.g. ``UN``."""
    association: str | None = None
    """S009 0057, e.g. ``EAN008`` (EANCOM)."""
    segments: list[Segment] = field(default_factory=list)
    """UNH … UNT as received (UNT may be missing when the input is truncated)."""
    common_access_ref: str | None = None
    """UNH 0068."""
    group_ref: str | None = None
    """UNG 0048 of the functional group holding the message, if any."""
    interchange_ref: str | None = None
    """UNB 0020 of the interchange holding the message."""
    root: Group | None = None
    """The segment-group tree (filled by the validator)."""
    errors: list[GatewayError] = field(default_factory=list)
    """Syntax and control errors and warnings found while reading this message (located)."""
    raw: bytes = b""
    """The message's own bytes (UNH to UNT) as received."""

    @property
    def directory(self) -> str:
        """The directory name from S009: ``D96A`` for ``D:96A``, ``S3``/``S4`` for syntax service messages."""
        if self.type in ("CONTRL", "AUTACK", "KEYMAN") and self.release in ("1", "2", "3", "4"):
            return f"S{'4' if self.version == '4' else '3'}"
        return f"{self.version}{self.release}".upper()

    @property
    def header(self) -> Segment:
        return self.segments[0]

    @property
    def trailer(self) -> Segment | None:
        last = self.segments[-1] if self.segments else None
        return last if last is not None and last.tag == "UNT" else None

    @property
    def body(self) -> list[Segment]:
        """The segments between UNH and UNT."""
        end = -1 if self.trailer is not None else len(self.segments)
        return self.segments[1:end]

    def find(self, tag: str) -> Segment | None:
        """The first segment with ``tag``."""
        return next((s for s in self.segments if s.tag == tag), None)

    def find_all(self, tag: str) -> list[Segment]:
        return [s for s in self.segments if s.tag == tag]

    def location(self) -> Location:
        head = self.segments[0] if self.segments else None
        loc = head.location() if head else Location()
        return Location(message=self.ref, interchange=self.interchange_ref).merge(loc)

    def describe(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "type": self.type,
            "version": self.version,
            "release": self.release,
            "agency": self.agency,
            "association": self.association,
            "segments": len(self.segments),
        }


@dataclass(slots=True, eq=False)
class FunctionalGroup:
    """A functional group, UNG to UNE."""

    ref: str
    """UNG 0048."""
    type: str
    """UNG 0038 (message group identification), e.g. ``ORDERS``."""
    sender: str = ""
    sender_qualifier: str | None = None
    recipient: str = ""
    recipient_qualifier: str | None = None
    agency: str = ""
    version: str = ""
    release: str = ""
    association: str | None = None
    header: Segment | None = None
    trailer: Segment | None = None
    messages: list[EdifactMessage] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class Interchange:
    """One interchange, (UNA) UNB to UNZ, with its groups and messages."""

    delimiters: Delimiters
    syntax_id: str
    """UNB S001 0001, e.g. ``UNOC``."""
    syntax_version: str
    """UNB S001 0002, ``1`` to ``4``."""
    sender: str
    sender_qualifier: str | None
    recipient: str
    recipient_qualifier: str | None
    date: str
    """UNB 0017, ``YYMMDD`` (syntax 1-3) or ``CCYYMMDD`` (syntax 4)."""
    time: str
    control_ref: str
    """UNB 0020, the interchange control reference."""
    header: Segment
    trailer: Segment | None = None
    password: str | None = None
    application_ref: str | None = None
    """UNB 0026."""
    priority: str | None = None
    ack_request: bool = False
    """UNB 0031 = 1: the sender asks for a CONTRL."""
    agreement: str | None = None
    """UNB 0032."""
    test: bool = False
    """UNB 0035 = 1."""
    sender_routing: str | None = None
    recipient_routing: str | None = None
    groups: list[FunctionalGroup] = field(default_factory=list)
    messages: list[EdifactMessage] = field(default_factory=list)
    """Every message in received order, inside a group or not."""
    errors: list[GatewayError] = field(default_factory=list)
    """Envelope-level errors and warnings (UNA, UNB, UNG/UNE, UNZ, character set), located."""
    charset: str = "ascii"
    """The Python codec the payload was decoded with (the declared one, or the fallback)."""
    start: int = 0
    end: int = 0
    """Byte range of the interchange in the input (``end`` exclusive)."""

    @property
    def all_errors(self) -> list[GatewayError]:
        """Envelope errors followed by every message's reading errors (warnings included)."""
        return [*self.errors, *(e for m in self.messages for e in m.errors)]
