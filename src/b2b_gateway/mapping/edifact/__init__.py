"""UN/EDIFACT in the pipeline: :class:`EdifactCodec` (reader, validator, writer, CONTRL/APERAK to status
documents) and the :class:`EdifactMapper` protocol the declarative mapping engine implements."""

from b2b_gateway.mapping.edifact.codec import (
    DOCUMENT_TYPES,
    MESSAGE_TYPES,
    EdifactCodec,
    EdifactMapper,
    OutboundMessage,
)
from b2b_gateway.mapping.edifact.policy import narrowing_problems, narrowing_rules, reader_options
from b2b_gateway.mapping.edifact.status import status_document

__all__ = [
    "DOCUMENT_TYPES",
    "MESSAGE_TYPES",
    "EdifactCodec",
    "EdifactMapper",
    "OutboundMessage",
    "narrowing_problems",
    "narrowing_rules",
    "reader_options",
    "status_document",
]
