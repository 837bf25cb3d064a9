"""Operations on stored messages and queues, for the command line and the ops API.

``retry`` delivers a message's dead-lettered (or waiting) outputs again with fresh attempts; ``replay``
processes a message's input again as a new message (``replay_of`` links the two; the duplicate check
lets it through). Both are recorded in the audit trail with who did it.

Example:
    >>> async with open_operations(settings) as ops:                 # doctest: +SKIP
    ...     new_id = await ops.replay("01a2…", actor="alice")
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from b2b_gateway.observability.tracing import trace_context
from b2b_gateway.pipeline.message import Direction, new_id
from b2b_gateway.settings import Settings
from b2b_gateway.store.migrate import current_revision, head_revision, upgrade
from b2b_gateway.store.queue import SqlQueue
from b2b_gateway.store.repository import MessageRepository
from b2b_gateway.transport.amqp import AmqpTransport
from b2b_gateway.transport.base import Envelope, Headers, QueueDepth, Transport
from b2b_gateway.transport.embedded import EmbeddedTransport
from b2b_gateway.transport.topology import Topology

__all__ = ["Operations", "open_operations", "store_revision", "upgrade_store"]


@dataclass(slots=True)
class Operations:
    """Actions on the store and the queues (the same whether the gateway runs or not)."""

    repo: MessageRepository
    topology: Topology
    transport: Transport | None = None

    async def retry(self, message_ids: list[str], *, actor: str) -> int:
        """Deliver the dead-lettered outputs of these messages again; returns how many messages had some."""
        ids = [(await self.repo.get(mid)).summary.id for mid in message_ids]
        return await self.repo.retry(ids, actor=actor)

    async def cancel(self, message_ids: list[str], *, actor: str, reason: str = "") -> int:
        """Cancel messages that are not delivered yet; returns how many were."""
        ids = [(await self.repo.get(mid)).summary.id for mid in message_ids]
        return await self.repo.cancel(ids, actor=actor, reason=reason)

    async def replay(self, message_id: str, *, actor: str) -> str:
        """Publish the input the message came from again, as a new message; returns the new message id.

        A message split from an interchange is replayed through its interchange (the whole input).
        """
        assert self.transport is not None, "replay needs a transport"
        found = (await self.repo.get(message_id)).summary
        root = await self.repo.load_message(found.root_id)
        replay_id = new_id()
        headers: dict[str, Any] = {
            Headers.REPLAY_OF: root.id,
            Headers.CHANNEL: root.channel,
            Headers.CORRELATION_ID: root.correlation_id,
        }
        if root.partner_id:
            headers[Headers.PARTNER] = root.partner_id
        if root.metadata.get("filename"):
            headers[Headers.FILENAME] = root.metadata["filename"]
        headers.update(trace_context(root.metadata))  # tracing on: the replay joins the original's trace
        exchange = self.topology.exchange_in if root.direction is Direction.INBOUND else self.topology.exchange_out
        await self.transport.publish(exchange, Envelope(root.raw, replay_id, routing_key="replay", headers=headers))
        detail = f"replayed as {replay_id}" + (f" (asked for {found.id})" if found.id != root.id else "")
        await self.repo.record_event(root.id, "replay", "info", detail, actor=actor, replayed_as=replay_id)
        return replay_id

    async def queues(self) -> dict[str, Any]:
        """Queue depths and outbox counts."""
        depths: list[QueueDepth] = await self.transport.depths() if self.transport is not None else []
        return {
            "transport": self.transport.name if self.transport is not None else None,
            "queues": [d.to_dict() for d in depths],
            "outbox": await self.repo.outbox_counts(),
        }


@asynccontextmanager
async def open_operations(settings: Settings, *, transport: bool = True) -> AsyncIterator[Operations]:
    """Operations over the configured store (and broker, or embedded queue, when ``transport``)."""
    repo = await MessageRepository.open(settings)
    topology = Topology.from_settings(settings.amqp)
    queue: Transport | None = None
    try:
        if transport:
            if settings.amqp.url is not None:
                queue = AmqpTransport(settings.amqp, topology, connection_name="b2b-gateway cli")
            else:
                queue = EmbeddedTransport(SqlQueue(repo.db, repo.writer), topology)
            await queue.start()
        yield Operations(repo, topology, queue)
    finally:
        if queue is not None:
            await queue.close()
        await repo.close()


async def upgrade_store(settings: Settings) -> tuple[str | None, str]:
    """Run the store's migrations (``b2b-gateway db upgrade``)."""
    repo = await MessageRepository.open(settings, migrate=False)
    try:
        return await upgrade(repo.db)
    finally:
        await repo.close()


async def store_revision(settings: Settings) -> tuple[str | None, str]:
    """(the store's revision, this gateway's head revision)."""
    repo = await MessageRepository.open(settings, migrate=False)
    try:
        return await current_revision(repo.db), head_revision()
    finally:
        await repo.close()
