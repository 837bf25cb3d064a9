"""The acknowledgments of one consumer channel, sent together.

A delivery is acknowledged once its document is committed to the store, and the store commits a
group of documents at a time, so many deliveries of a channel become ready in the same moment. Rather
than one ``basic.ack`` frame each (with its write and its task), they go as one ``basic.ack`` with
``multiple`` set, which in AMQP 0-9-1 settles every delivery of the channel up to its tag:

- the tag sent is the highest *ready* tag such that every earlier delivery of the channel is settled
  (ready, or settled on its own), so ``multiple`` never covers a delivery still being processed;
- a delivery that ends otherwise (``nack``, ``reject``) is settled on its own at once, before it
  counts as settled here, so its frame always precedes an ack that covers its tag;
- a ready delivery waiting behind one still in processing is acknowledged on its own after
  ``wait_s`` (a long document does not hold the rest of the prefetch window);
- the acks are sent by one task per channel, started when the first delivery becomes ready, so the
  deliveries made ready in the same turn of the event loop (a group commit) share a frame.

The tag sent must be one the broker still holds unacknowledged (RabbitMQ closes the channel with
``PRECONDITION_FAILED - unknown delivery tag`` otherwise): it is always a ready tag, never one that
was settled on its own. If the channel is gone, nothing is sent: the broker gives the deliveries to
a consumer again (at least once; the store's duplicate checks take them).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import structlog

__all__ = ["ChannelAcks"]

log = structlog.get_logger("b2b_gateway.transport.amqp")

_BUSY, _READY, _SENDING, _SETTLED = 0, 1, 2, 3


class ChannelAcks:
    """Acknowledgments of the deliveries of one AMQP channel (``aiormq`` channel: ``basic_ack``)."""

    def __init__(self, channel: Any, *, wait_s: float = 0.2) -> None:
        self.channel = channel
        self.wait_s = wait_s
        self._state: dict[int, int] = {}
        """Delivery tag -> busy, ready, sending (on its own) or settled, in the order received (tags rise
        on a channel). Only a busy or sending tag stops a ``multiple`` ack from covering what follows."""
        self._task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._late: asyncio.TimerHandle | None = None
        self.frames = 0
        """``basic.ack`` frames sent (each with ``multiple`` or for one delivery)."""

    def received(self, tag: int) -> None:
        self._state[tag] = _BUSY

    def ack(self, tag: int) -> None:
        """The delivery is done: acknowledge it (with the next frame that may cover it)."""
        kind = self._state.get(tag)
        if kind is None:  # not received through this object: on its own
            self._spawn(self._write(tag, multiple=False))
        elif kind == _BUSY:
            self._state[tag] = _READY
            self._wake()

    def settled(self, tag: int) -> None:
        """The delivery was settled on its own (its ``nack`` or ``reject`` is written)."""
        if tag in self._state:
            self._state[tag] = _SETTLED
            self._wake()

    async def flush(self) -> None:
        """Send what can be sent now (before the channel closes)."""
        if self._late is not None:
            self._late.cancel()
            self._late = None
        for task in [t for t in (self._task, *self._tasks) if t is not None]:
            with contextlib.suppress(Exception):
                await task
        await self._send()

    def _wake(self) -> None:
        if self._task is None or self._task.done():
            self._task = self._spawn(self._send())

    def _spawn(self, work: Any) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _take(self) -> int | None:
        """The highest ready tag with nothing busy before it, taken off the list with what it covers."""
        state, top = self._state, None
        while state:
            tag = next(iter(state))
            kind = state[tag]
            if kind in (_BUSY, _SENDING):
                break
            del state[tag]
            if kind == _READY:
                top = tag
        return top

    async def _send(self) -> None:
        while (tag := self._take()) is not None:
            await self._write(tag, multiple=True)
        if self._late is None and _READY in self._state.values():
            self._late = asyncio.get_running_loop().call_later(self.wait_s, self._send_waiting)

    def _send_waiting(self) -> None:
        """Acknowledge on its own each ready delivery still waiting behind a busy one."""
        self._late = None
        waiting = [tag for tag, kind in self._state.items() if kind == _READY]
        for tag in waiting:
            self._state[tag] = _SENDING  # no ``multiple`` covers it until its own frame is written
        if waiting:
            self._spawn(self._write_each(waiting))

    async def _write_each(self, tags: list[int]) -> None:
        for tag in tags:
            await self._write(tag, multiple=False)
            if tag in self._state:
                self._state[tag] = _SETTLED
        self._wake()

    async def _write(self, tag: int, *, multiple: bool) -> None:
        try:
            await self.channel.basic_ack(delivery_tag=tag, multiple=multiple)
            self.frames += 1
        except Exception as exc:  # the channel died: the broker gives the deliveries out again
            log.warning("delivery.settle_failed", action="ack", tag=tag, error=f"{type(exc).__name__}: {exc}")
