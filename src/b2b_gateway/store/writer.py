"""Group commit: saves from many concurrent messages share one transaction (one fsync, one round trip).

Every write the store does is an *operation*: an async function of an open connection. Callers submit
an operation and wait for its result; a writer task takes whatever is waiting (up to ``max_batch``),
runs it all in one transaction and commits. The caller's ``await`` returns only after the commit, so
"acknowledge after the store commit" holds per message while the cost of a commit is shared.

When a batch fails because of one operation, each operation is retried in its own transaction, so
one bad save never fails its neighbours. When the database is unavailable, every waiting caller gets
:class:`~b2b_gateway.errors.StoreUnavailableError`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from b2b_gateway.errors import GatewayError, StoreUnavailableError
from b2b_gateway.observability.logging import get_logger
from b2b_gateway.store.engine import Database

__all__ = ["GroupWriter", "Operation"]

T = TypeVar("T")
Operation = Callable[[AsyncConnection], Awaitable[Any]]

log = get_logger("b2b_gateway.store")

_Item = tuple[Operation, "asyncio.Future[Any]"]


class GroupWriter:
    """Runs write operations in shared transactions, ``workers`` transactions at a time."""

    def __init__(self, db: Database, *, max_batch: int = 500, workers: int = 1) -> None:
        self.db = db
        self.max_batch = max(1, max_batch)
        self.workers = max(1, workers)
        self._queue: asyncio.Queue[_Item] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self.commits = 0
        self.operations = 0

    def _ensure_started(self) -> asyncio.Queue[_Item]:
        loop = asyncio.get_running_loop()
        if self._queue is None or self._loop is not loop:
            self._loop = loop
            self._queue = asyncio.Queue()
            self._tasks = [loop.create_task(self._work(self._queue)) for _ in range(self.workers)]
        return self._queue

    async def run(self, operation: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run ``operation`` in the next group transaction; returns its result once committed."""
        queue = self._ensure_started()
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        queue.put_nowait((operation, future))
        result: T = await future
        return result

    async def _work(self, queue: asyncio.Queue[_Item]) -> None:
        while True:
            batch = [await queue.get()]
            while len(batch) < self.max_batch and not queue.empty():
                batch.append(queue.get_nowait())
            live = [item for item in batch if not item[1].done()]
            if live:
                await self._commit(live)

    async def _commit(self, batch: list[_Item]) -> None:
        try:
            async with self.db.begin() as conn:
                results = [await op(conn) for op, _ in batch]
        except StoreUnavailableError as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(StoreUnavailableError(exc.message, hint=exc.hint))
            return
        except GatewayError as exc:
            if len(batch) == 1:
                if not batch[0][1].done():
                    batch[0][1].set_exception(exc)
                return
            log.warning("store.batch_retry", size=len(batch), error=exc.code, detail=exc.message)
            for item in batch:
                await self._commit([item])
            return
        except Exception as exc:  # a bug in an operation: fail the callers, keep the writer alive
            if len(batch) == 1:
                if not batch[0][1].done():
                    batch[0][1].set_exception(exc)
                return
            for item in batch:
                await self._commit([item])
            return
        self.commits += 1
        self.operations += len(batch)
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

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
                _, future = self._queue.get_nowait()
                if not future.done():
                    future.set_exception(StoreUnavailableError("the store is closing"))
        self._queue = None
