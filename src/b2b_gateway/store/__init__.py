"""The message store: messages, audit trail, archived payloads, outbox, counters."""

from b2b_gateway.store.memory import MemoryStore

__all__ = ["MemoryStore"]
