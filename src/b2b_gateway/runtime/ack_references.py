"""Control references for the acknowledgments the gateway sends, from the store's per-partner counters.

The pipeline's :class:`~b2b_gateway.pipeline.ports.Acknowledger` port is synchronous, while the
counters (:class:`~b2b_gateway.pipeline.ports.ControlNumbers`) live in the store and are async. So
:class:`CountedAcknowledger` works in two steps, both driven by the pipeline runner:

1. ``await prepare(message, options)``: the EDIFACT acknowledger builds the CONTRL and APERAK
   interchanges, taking their references from the counters the rendered documents use too
   (``<partner>:edifact:interchange`` and ``…:message``), so UNB 0020 stays unique towards each
   partner and survives restarts. When the counters hold every value needed already (a reserved
   block, ``take_now``), that build is the one sent. Otherwise it was a dry run that counted the
   references needed: exactly that many are allocated (``await next``), and
2. ``acknowledge(message, options)``: builds again with them, in order (or returns the first build).

Between the two, the allocated values (or the build) wait in a context variable of the task processing
the message, so concurrent messages never take each other's references. Without ``prepare`` (a dry
run, the ``validate --contrl`` command) references come from the clock, as the acknowledger's default.
"""

from __future__ import annotations

import contextvars
from collections import Counter, deque
from collections.abc import Callable
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
    """References for one acknowledgment build.

    With ``values``, they are taken in order; with ``now`` (a counter's ``take_now``), each is asked
    for as it is needed, and ``missed`` counts those the counter did not hold; with neither, it only
    counts what is asked for. ``built`` is a finished build waiting for ``acknowledge``.
    """

    def __init__(
        self,
        values: dict[_Key, deque[str]] | None = None,
        now: Callable[[str | None, str], int | None] | None = None,
        built: tuple[Message, list[Output]] | None = None,
    ) -> None:
        self.values = values
        self.now = now
        self.built = built
        self.missed = 0
        self.requested: Counter[_Key] = Counter()

    def take(self, partner_id: str | None, counter: str) -> str:
        key = (partner_id, counter)
        self.requested[key] += 1
        if self.now is not None:
            value = self.now(partner_id, counter)
            self.missed += value is None
            return "0" if value is None else str(value)
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
        """Build the acknowledgments of ``message`` (or allocate the references a build will use; none
        when no acknowledgment is due), for :meth:`acknowledge`."""
        take_now = getattr(self.counters, "take_now", None)
        recording = _Pool(now=self._taker(take_now) if callable(take_now) else None)
        token = _POOL.set(recording)
        try:
            outputs = self.inner.acknowledge(message, options)
        finally:
            _POOL.reset(token)
        if recording.now is not None and not recording.missed:
            _POOL.set(_Pool(built=(message, outputs)))
            return
        values: dict[_Key, deque[str]] = {}
        for (partner_id, counter), needed in recording.requested.items():
            key = self._key(partner_id, counter)
            values[(partner_id, counter)] = deque([str(await self.counters.next(key)) for _ in range(needed)])
        _POOL.set(_Pool(values) if values else None)

    def _key(self, partner_id: str | None, counter: str) -> str:
        return f"{partner_id or '-'}:{self.codec_name}:{counter}"

    def _taker(self, take_now: Callable[[str], int | None]) -> Callable[[str | None, str], int | None]:
        return lambda partner_id, counter: take_now(self._key(partner_id, counter))

    def acknowledge(self, message: Message, options: CodecOptions) -> list[Output]:
        """The CONTRL and APERAK outputs ``message`` earns (see :class:`EdifactAcknowledger`)."""
        pool = _POOL.get()
        try:
            if pool is not None and pool.built is not None and pool.built[0] is message:
                return pool.built[1]
            return self.inner.acknowledge(message, options)
        finally:
            _POOL.set(None)
