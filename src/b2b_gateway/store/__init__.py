"""The message store: messages, audit trail, archived payloads, outputs, outbox, counters, duplicates, queue.

:class:`MessageRepository` is the API; :class:`MemoryStore` is the in-memory twin for tests and dry runs.
"""

from b2b_gateway.store.engine import Database, open_database
from b2b_gateway.store.memory import MemoryStore
from b2b_gateway.store.migrate import upgrade
from b2b_gateway.store.outbox import AttemptOutcome, OutboxItem
from b2b_gateway.store.queries import MessageDetail, MessageFilter, MessageSummary
from b2b_gateway.store.queue import QueueRow, SqlQueue
from b2b_gateway.store.repository import RESENDABLE, EnqueueResult, MessageRepository
from b2b_gateway.store.retention import PurgeReport

__all__ = [
    "RESENDABLE",
    "AttemptOutcome",
    "Database",
    "EnqueueResult",
    "MemoryStore",
    "MessageDetail",
    "MessageFilter",
    "MessageRepository",
    "MessageSummary",
    "OutboxItem",
    "PurgeReport",
    "QueueRow",
    "SqlQueue",
    "open_database",
    "upgrade",
]
