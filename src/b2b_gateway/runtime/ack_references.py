"""Control references for the acknowledgments the gateway sends, from the store's per-partner counters.

The pipeline's :class:`~b2b_gateway.pipeline.ports.Acknowledger` port is synchronous, while the
counters (:class:`~b2b_gateway.pipeline.ports.ControlNumbers`) live in the store and are async. So
:class:`CountedAcknowledger` works in two steps, both driven by the pipeline runner:

1. ``await prepare(message, options)``: a dry run of the EDIFACT acknowledger counts the references
   its CONTRL and APERAK interchanges will use (per partner and counter), and exactly that many are
   allocated from the counters the rendered documents use too (``<partner>:edifact:interchange`` and
   ``…:message``), so UNB 0020 stays unique towards each partner and survives restarts;
2. ``acknowledge(message, options)``: the real build takes them, in order.

Between the two, the allocated values wait in a context variable of the task processing the message,
so concurrent messages never take each other's references. Without ``prepare`` (a dry run, the
``validate --contrl`` command) references come from the clock, as the acknowledger's default.
"""

from __future__ import annotations

import contextvars
from collections import Counter, deque
from datetime import UTC, datetime
from itertools import count

from b2b_gateway.mapping.codec import CodecOptions
from b2b_gateway.pipeline.message import Message, Output
from b2b_gateway.pipeline.ports import ControlNumbers
from b2b_gateway.runtime.acknowledgments import EdifactAcknowledger

__all__ = ["CountedAcknowledger"]

_Key = tuple[str | None, str]
_sequence = count(1)


class _Pool:
    """References for one acknowledgment build; with no values it only counts what is asked for."""

    def __init__(self, values: dict[_Key, deque[str]] | None = None) -> None:
        self.values = values
        self.requested: Counter[_Key] = Counter()

    def take(self, partner_id: str | None, counter: str) -> str:
        key = (partner_id, counter)
        self.requested[key] += 1
        if self.values is None:
            return "0"
        waiting = self.values.get(key)
        return waiting.popleft() if waiting else _clock_reference()


_POOL: contextvars.ContextVar[_Pool | None] = contextvars.ContextVar("b2b_ack_references", default=None)


def _clock_reference() -> str:
    return datetime.now(UTC).strftime("%y%m%d%H%M%S") + f"{next(_sequence) % 100:02d}"


class CountedAcknowledger:
    """:class:`EdifactAcknowledger` with its control references taken from ``counters``.

    Args:
        counters: the store's control-number counters.
        codec_name: the counter family shared with the rendered documents (``edifact``).
    """

    def __init__(self, counters: ControlNumbers, *, codec_name: str = "edifact") -> None:
        self.counters = counters
        self.codec_name = codec_name
        self.inner = EdifactAcknowledger(allocate=self._allocate)

    @staticmethod
    def _allocate(partner_id: str | None, counter: str) -> str:
        pool = _POOL.get()
        return pool.take(partner_id, counter) if pool is not None else _clock_reference()

    async def prepare(self, message: Message, options: CodecOptions) -> None:
        """Allocate the references :meth:`acknowledge` will use for ``message`` (none when no ack is due)."""
        recording = _Pool()
        token = _POOL.set(recording)
        try:
            self.inner.acknowledge(message, options)
        finally:
            _POOL.reset(token)
        values: dict[_Key, deque[str]] = {}
        for (partner_id, counter), needed in recording.requested.items():
            key = f"{partner_id or '-'}:{self.codec_name}:{counter}"
            values[(partner_id, counter)] = deque([str(await self.counters.next(key)) for _ in range(needed)])
        _POOL.set(_Pool(values) if values else None)

    def acknowledge(self, message: Message, options: CodecOptions) -> list[Output]:
        """The CONTRL and APERAK outputs ``message`` earns (see :class:`EdifactAcknowledger`)."""
        try:
            return self.inner.acknowledge(message, options)
        finally:
            _POOL.set(None)
