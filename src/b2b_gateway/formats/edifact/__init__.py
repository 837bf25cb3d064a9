"""UN/EDIFACT: bytes <-> the native model. Pure: no I/O besides reading the shipped definitions, and no
knowledge of the canonical model. See ``docs/edifact.md``.

Modules (each documents its part):

* :mod:`.model`: ``Segment`` (tag, 0-based ``elements`` of components; 1-based ``value(e, c)``),
  ``EdifactMessage``, ``FunctionalGroup``, ``Interchange``, ``Group`` (segment-group tree), ``Delimiters``.
* :mod:`.reader`: ``read(data, ReaderOptions) -> ReadResult`` (never raises), ``parse``, ``read_header``.
* :mod:`.directory`: ``load_directory``/``resolve_directory`` -> ``Directory`` with ``SegmentDef``
  (``locate("C082/3039") -> (2, 1)``), ``MessageDef``/``GroupDef``, code lists.
* :mod:`.validator`: ``validate_message(message, interchange, rules=…)``: structure, elements, code
  lists, narrowing; leaves the tree in ``message.root``.
* :mod:`.narrowing`: ``NarrowingRule``, ``check_rules`` (refuses widening), ``apply_rules``.
* :mod:`.writer`: ``write_interchange``, ``message_segments``, ``render_segment``, ``escape``, ``split_text``.
* :mod:`.contrl`: ``build_contrl``, ``contrl_segments``, ``contrl_wanted``.
* :mod:`.aperak`: ``aperak_message``, ``AperakItem``.
* :mod:`.acks`: ``read_contrl``, ``read_aperak``, ``match_acknowledgment`` (lookup callback),
  ``acknowledgments_in``.
* :mod:`.charsets`: syntax identifiers -> codecs and repertoires.
"""

from b2b_gateway.formats.edifact.acks import (
    AperakReport,
    ContrlReport,
    match_acknowledgment,
    read_aperak,
    read_contrl,
)
from b2b_gateway.formats.edifact.aperak import AperakItem, aperak_message
from b2b_gateway.formats.edifact.contrl import build_contrl, contrl_wanted
from b2b_gateway.formats.edifact.directory import (
    ComponentDef,
    Directory,
    ElementDef,
    GroupDef,
    MessageDef,
    Representation,
    SegmentDef,
    SegmentRef,
    load_directory,
    resolve_directory,
)
from b2b_gateway.formats.edifact.model import (
    DEFAULT_DELIMITERS,
    Delimiters,
    EdifactMessage,
    FunctionalGroup,
    Group,
    Interchange,
    Node,
    Segment,
)
from b2b_gateway.formats.edifact.narrowing import NarrowingRule, check_rules
from b2b_gateway.formats.edifact.reader import ReaderOptions, ReadResult, parse, read, read_header
from b2b_gateway.formats.edifact.validator import validate_message
from b2b_gateway.formats.edifact.writer import escape, message_segments, render_segment, split_text, write_interchange

__all__ = [
    "DEFAULT_DELIMITERS",
    "AperakItem",
    "AperakReport",
    "ComponentDef",
    "ContrlReport",
    "Delimiters",
    "Directory",
    "EdifactMessage",
    "ElementDef",
    "FunctionalGroup",
    "Group",
    "GroupDef",
    "Interchange",
    "MessageDef",
    "NarrowingRule",
    "Node",
    "ReadResult",
    "ReaderOptions",
    "Representation",
    "Segment",
    "SegmentDef",
    "SegmentRef",
    "aperak_message",
    "build_contrl",
    "check_rules",
    "contrl_wanted",
    "escape",
    "load_directory",
    "match_acknowledgment",
    "message_segments",
    "parse",
    "read",
    "read_aperak",
    "read_contrl",
    "read_header",
    "render_segment",
    "resolve_directory",
    "split_text",
    "validate_message",
    "write_interchange",
]
