"""The processing pipeline: a message record flowing through plain-function stages.

receive → identify → verify → decode → validate → map → check → sign → store → route → deliver
"""

from b2b_gateway.pipeline.context import PipelineContext
from b2b_gateway.pipeline.message import AuditEvent, Direction, Message, Output, State, derive_id, new_id
from b2b_gateway.pipeline.ports import (
    Acknowledger,
    Deliverer,
    Destination,
    MessageStore,
    Router,
    Signer,
    Verifier,
)
from b2b_gateway.pipeline.runner import Pipeline, failure_state
from b2b_gateway.pipeline.stages import INBOUND, OUTBOUND, Stage

__all__ = [
    "INBOUND",
    "OUTBOUND",
    "Acknowledger",
    "AuditEvent",
    "Deliverer",
    "Destination",
    "Direction",
    "Message",
    "MessageStore",
    "Output",
    "Pipeline",
    "PipelineContext",
    "Router",
    "Signer",
    "Stage",
    "State",
    "Verifier",
    "derive_id",
    "failure_state",
    "new_id",
]
