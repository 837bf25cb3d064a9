"""Group commit: saves from many concurrent messages share one transaction and one round trip per table.

A caller submits a *job*: rows to write (each with the statement they go through, under a key), and
optionally a follow-up of some *kind* that needs the connection (a duplicate claim, an outbox read,
a counter). A writer task takes whatever jobs are waiting (up to ``max_batch``) and, in one
transaction: writes all the batch's rows (on PostgreSQL in one statement, see
:mod:`b2b_gateway.store.unnest`; elsewhere each statement once for all its rows, ``executemany``),
runs each kind's batch handler once for all its jobs, and commits. The caller's ``await`` returns
after the commit, so "acknowledge after the store commit" holds per message, while a commit and its
round trips are shared by the whole batch (with SQLite under aiosqlite every statement costs a trip
through the event loop: batching them is what makes the store fast).

When a batch fails because of one job, each job is retried in its own transaction, so one bad save
never fails its neighbours. When the database is unavailable, every waiting caller gets
:class:`~b2b_gateway.errors.StoreUnavailableError`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from b2b_gateway.errors import GatewayError, StoreUnavailableError
from b2b_gateway.observability.logging import get_logger
from b2b_gateway.store.engine import Database
from b2b_gateway.store.unnest import UnnestInserts

__all__ = ["BatchHandler", "GroupWriter", "Write"]

log = get_logger("b2b_gateway.store")

Write = tuple[str, Any, list[dict[str, Any]]]
"""(key, statement, rows): rows of jobs with the same key are executed together through the statement."""

BatchHandler = Callable[[AsyncConnection, list[Any]], Awaitable[list[Any]]]
"""Runs the follow-ups of one kind for a whole batch: arguments in, one result per argument out."""


@dataclass(slots=True)
class _Job:
    writes: Sequence[Write]
    kind: str | None
    arg: Any
    future: asyncio.Future[Any] = field(repr=False)


async def _calls(conn: AsyncConnection, functions: list[Any]) -> list[Any]:
    return [await fn(conn) for fn in functions]


class GroupWriter:
    """Runs write jobs in shared transactions, ``workers`` transactions at a time."""

    def __init__(
        self,
        db: Database,
        *,
        max_batch: int = 500,
        workers: int = 1,
        handlers: dict[str, BatchHandler] | None = None,
        combine: bool = False,
        unnest: UnnestInserts | None = None,
    ) -> None:
        """``combine`` (PostgreSQL): a batch writes the rows of all its jobs and tables in one statement
        (:mod:`b2b_gateway.store.unnest`, through ``unnest`` when the caller shares one), one round trip
        instead of one per table."""
        self.db = db
        self.combine = combine
        self._unnest = unnest if unnest is not None else UnnestInserts(db.write.dialect)
        self.max_batch = max(1, max_batch)
        self.workers = max(1, workers)
        self.handlers: dict[str, BatchHandler] = {"call": _calls, **(handlers or {})}
        self._queue: asyncio.Queue[_Job] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self.commits = 0
        self.jobs = 0

    def _ensure_started(self) -> asyncio.Queue[_Job]:
        loop = asyncio.get_running_loop()
        if self._queue is None or self._loop is not loop:
            self._loop = loop
            self._queue = asyncio.Queue()
            self._tasks = [loop.create_task(self._work(self._queue)) for _ in range(self.workers)]
        return self._queue

    async def submit(self, writes: Sequence[Write] = (), kind: str | None = None, arg: Any = None) -> Any:
        """Write ``writes`` and run the ``kind`` follow-up with ``arg`` in the next group transaction."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.enqueue(future, writes, kind, arg)
        return await future

    def enqueue(
        self, future: asyncio.Future[Any], writes: Sequence[Write] = (), kind: str | None = None, arg: Any = None
    ) -> None:
        """:meth:`submit` without waiting: ``future`` gets the job's result (jobs enqueued together share a
        transaction unless one fails)."""
        self._ensure_started().put_nowait(_Job(writes, kind, arg, future))

    async def run(self, operation: Callable[[AsyncConnection], Awaitable[Any]]) -> Any:
        """Run ``operation`` (a function of the connection) in the next group transaction."""
        return await self.submit((), "call", operation)

    async def _work(self, queue: asyncio.Queue[_Job]) -> None:
        while True:
            batch = [await queue.get()]
            while len(batch) < self.max_batch and not queue.empty():
                batch.append(queue.get_nowait())
            live = [job for job in batch if not job.future.done()]
            if live:
                await self._commit(live)

    async def _execute(self, conn: AsyncConnection, batch: list[_Job]) -> list[Any]:
        grouped: dict[str, tuple[Any, list[dict[str, Any]]]] = {}
        for job in batch:
            for key, statement, rows in job.writes:
                if rows:
                    grouped.setdefault(key, (statement, []))[1].extend(rows)
        planned = self._unnest.plan(grouped) if self.combine else None
        if planned is not None:
            await conn.exec_driver_sql(*planned)  # one round trip for every row of every table of the batch
        else:
            for statement, rows in grouped.values():
                await conn.execute(statement, rows)
        results: list[Any] = [None] * len(batch)
        kinds: dict[str, list[int]] = {}
        for index, job in enumerate(batch):
            if job.kind is not None:
                kinds.setdefault(job.kind, []).append(index)
        for kind, indexes in kinds.items():
            outs = await self.handlers[kind](conn, [batch[i].arg for i in indexes])
            for i, out in zip(indexes, outs, strict=True):
                results[i] = out
        return results

    async def _commit(self, batch: list[_Job]) -> None:
        try:
            async with self.db.begin() as conn:
                results = await self._execute(conn, batch)
        except StoreUnavailableError as exc:
            for job in batch:
                if not job.future.done():
                    job.future.set_exception(StoreUnavailableError(exc.message, hint=exc.hint))
            return
        except (GatewayError, Exception) as exc:  # one job's fault (or a bug): isolate it
            if len(batch) == 1:
                if not batch[0].future.done():
                    batch[0].future.set_exception(exc)
                return
            log.warning("store.batch_retry", size=len(batch), error=str(exc)[:300])
            for job in batch:
                await self._commit([job])
            return
        self.commits += 1
        self.jobs += len(batch)
        for job, result in zip(batch, results, strict=True):
            if not job.future.done():
                job.future.set_result(result)

    async def close(self) -> None:
        """Stop the writer tasks; callers still waiting get StoreUnavailableError."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        if self._queue is not None:
            while not self._queue.empty():
                job = self._queue.get_nowait()
                if not job.future.done():
                    job.future.set_exception(StoreUnavailableError("the store is closing"))
        self._queue = None
