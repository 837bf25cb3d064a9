"""The embedded durable queue's storage: queued messages as rows, leased while a consumer works on them.

:class:`~b2b_gateway.transport.embedded.EmbeddedTransport` builds exchanges, bindings, retries and
dead-lettering on top of these few operations (the runtime hands it a :class:`SqlQueue`). A message
published twice with the same id to the same queue is queued once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from b2b_gateway.pipeline.message import utcnow
from b2b_gateway.store.engine import Database
from b2b_gateway.store.schema import queue_messages as qm
from b2b_gateway.store.writer import GroupWriter

__all__ = ["QueueRow", "SqlQueue"]


@dataclass(slots=True)
class QueueRow:
    """A queued message as stored."""

    id: int
    queue: str
    message_id: str
    exchange: str
    routing_key: str
    content_type: str
    headers: dict[str, Any]
    body: bytes
    attempts: int


class SqlQueue:
    """Queue rows in the store's database; writes share the repository's group commits."""

    def __init__(self, db: Database, writer: GroupWriter) -> None:
        self.db = db
        self.writer = writer
        self._put = db.insert(qm).on_conflict_do_nothing(index_elements=["queue", "message_id"])
        self._ack = delete(qm).where(qm.c.id == bindparam("b_id"))

    async def put(self, rows: Sequence[dict[str, Any]]) -> None:
        """Queue messages (``queue``, ``message_id``, ``exchange``, ``routing_key``, ``content_type``,
        ``headers``, ``body``, optional ``delay_s``), committed on return."""
        if not rows:
            return
        now = utcnow()
        values = [
            {
                "queue": r["queue"],
                "message_id": r["message_id"],
                "exchange": r["exchange"],
                "routing_key": r["routing_key"],
                "content_type": r["content_type"],
                "headers": r["headers"],
                "body": r["body"],
                "attempts": int(r.get("attempts", 0)),
                "available_at": now + dt.timedelta(seconds=float(r.get("delay_s", 0))),
                "created_at": now,
            }
            for r in rows
        ]
        await self.writer.submit([("queue.put", self._put, values)])

    async def claim(self, queue: str, *, owner: str, limit: int, lease_s: float) -> list[QueueRow]:
        """Lease up to ``limit`` available messages of ``queue``, oldest first."""
        now = utcnow()
        ready = (
            select(qm.c.id)
            .where(
                qm.c.queue == queue,
                qm.c.available_at <= now,
                or_(qm.c.lease_until.is_(None), qm.c.lease_until < now),
            )
            .order_by(qm.c.id)
            .limit(limit)
        )
        if not self.db.is_sqlite:
            ready = ready.with_for_update(skip_locked=True)

        async def op(conn: AsyncConnection) -> list[QueueRow]:
            claimed = await conn.execute(
                update(qm)
                .where(qm.c.id.in_(ready.scalar_subquery()))
                .values(lease_owner=owner, lease_until=now + dt.timedelta(seconds=lease_s))
                .returning(
                    qm.c.id,
                    qm.c.queue,
                    qm.c.message_id,
                    qm.c.exchange,
                    qm.c.routing_key,
                    qm.c.content_type,
                    qm.c.headers,
                    qm.c.body,
                    qm.c.attempts,
                )
            )
            rows = [QueueRow(**dict(r)) for r in claimed.mappings().all()]
            rows.sort(key=lambda r: r.id)
            return rows

        rows: list[QueueRow] = await self.writer.run(op)
        return rows

    async def ack(self, row_id: int) -> None:
        """Remove a processed message."""
        await self.writer.submit([("queue.ack", self._ack, [{"b_id": row_id}])])

    async def release(self, row_id: int, *, delay_s: float, attempts: int, headers: dict[str, Any]) -> None:
        """Give a message back, available again after ``delay_s``."""
        values = {
            "lease_owner": None,
            "lease_until": None,
            "attempts": attempts,
            "headers": headers,
            "available_at": utcnow() + dt.timedelta(seconds=delay_s),
        }
        await self.writer.run(lambda conn: conn.execute(update(qm).where(qm.c.id == row_id).values(**values)))

    async def move(self, row_id: int, *, queue: str, headers: dict[str, Any]) -> None:
        """Move a message to another queue (dead-lettering), available at once."""
        values = {
            "queue": queue,
            "headers": headers,
            "lease_owner": None,
            "lease_until": None,
            "available_at": utcnow(),
        }

        async def op(conn: AsyncConnection) -> None:
            row = (await conn.execute(select(qm.c.message_id).where(qm.c.id == row_id))).first()
            if row is None:
                return
            await conn.execute(delete(qm).where(qm.c.queue == queue, qm.c.message_id == row.message_id))
            await conn.execute(update(qm).where(qm.c.id == row_id).values(**values))

        await self.writer.run(op)

    async def extend(self, row_ids: Sequence[int], *, owner: str, lease_s: float) -> None:
        """Keep the lease on messages still being worked on."""
        if not row_ids:
            return
        until = utcnow() + dt.timedelta(seconds=lease_s)
        stmt = update(qm).where(and_(qm.c.id.in_(list(row_ids)), qm.c.lease_owner == owner)).values(lease_until=until)
        await self.writer.run(lambda conn: conn.execute(stmt))

    async def depths(self) -> dict[str, tuple[int, int]]:
        """Per queue: (ready, leased) message counts."""
        now = utcnow()
        leased = and_(qm.c.lease_until.is_not(None), qm.c.lease_until >= now)
        query = select(qm.c.queue, func.count(), func.sum(func.cast(leased, qm.c.attempts.type))).group_by(qm.c.queue)
        async with self.db.connect() as conn:
            rows = (await conn.execute(query)).all()
        return {q: (int(n) - int(busy or 0), int(busy or 0)) for q, n, busy in rows}
