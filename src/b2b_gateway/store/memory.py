"""An in-memory store (for tests and dry runs): same protocol as the durable store, keeps nothing."""

from __future__ import annotations

from b2b_gateway.pipeline.message import AuditEvent, Message

__all__ = ["MemoryStore"]


class MemoryStore:
    """Keeps saved messages in a dict; ``saves`` counts commits, ``events`` the audit trail per message."""

    def __init__(self) -> None:
        self.messages: dict[str, Message] = {}
        self.events: dict[str, list[AuditEvent]] = {}
        self.saves = 0

    async def save(self, message: Message) -> None:
        self.saves += 1
        self.messages[message.id] = message
        self.events[message.id] = list(message.events)

    def get(self, message_id: str) -> Message | None:
        return self.messages.get(message_id)
