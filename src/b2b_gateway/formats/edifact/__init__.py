"""UN/EDIFACT: bytes <-> the native model (pure: no I/O besides the shipped definitions, no canonical model).

Modules:

* :mod:`~b2b_gateway.formats.edifact.model`: ``Segment``, ``EdifactMessage``, ``FunctionalGroup``,
  ``Interchange``, ``Group`` (segment-group tree), ``Delimiters``.
* :mod:`~b2b_gateway.formats.edifact.directory`: ``Directory`` / ``SegmentDef`` / ``MessageDef`` loaded
  from ``schemas/edifact`` (``load_directory``, ``resolve_directory``); element addressing by id.
"""

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

__all__ = [
    "DEFAULT_DELIMITERS",
    "ComponentDef",
    "Delimiters",
    "Directory",
    "EdifactMessage",
    "ElementDef",
    "FunctionalGroup",
    "Group",
    "GroupDef",
    "Interchange",
    "MessageDef",
    "Node",
    "Representation",
    "Segment",
    "SegmentDef",
    "SegmentRef",
    "load_directory",
    "resolve_directory",
]
