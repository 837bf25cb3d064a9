"""The gateway's queue topology, one definition for every transport (see docs/amqp.md).

* ``b2b.in`` (topic): partner documents entering the gateway → queue ``b2b.in.gateway``;
* ``b2b.out`` (topic): canonical documents the ERP sends to partners → queue ``b2b.out.gateway``;
* ``b2b.erp`` (topic): canonical documents for the ERP, routing key ``<document_type>.<partner_id>``
  → queue ``b2b.erp`` (declared so nothing published is lost; the ERP consumes it or binds its own);
* ``b2b.dead`` (fanout): outputs the outbox relay gave up on → queue ``b2b.dead``;
* per consumed queue ``Q``: dead-letter exchange ``Q.dlx`` → ``Q.dead``, and retry queues
  ``Q.retry.<n>`` whose messages return to ``Q`` after the n-th delay.
"""

from __future__ import annotations

from dataclasses import dataclass

from b2b_gateway.settings import AmqpSettings

__all__ = ["Binding", "Topology", "topic_matches"]


def topic_matches(pattern: str, key: str) -> bool:
    """AMQP topic matching: ``*`` is one word, ``#`` zero or more words (words split on ``.``)."""
    pat = pattern.split(".") if pattern else []
    words = key.split(".") if key else []

    def match(i: int, j: int) -> bool:
        if i == len(pat):
            return j == len(words)
        if pat[i] == "#":
            return any(match(i + 1, k) for k in range(j, len(words) + 1))
        if j == len(words):
            return False
        return (pat[i] == "*" or pat[i] == words[j]) and match(i + 1, j + 1)

    return match(0, 0)


@dataclass(frozen=True, slots=True)
class Binding:
    exchange: str
    queue: str
    pattern: str = "#"


@dataclass(frozen=True, slots=True)
class Topology:
    """Exchange and queue names, bindings, retry delays and limits."""

    exchange_in: str = "b2b.in"
    exchange_out: str = "b2b.out"
    exchange_erp: str = "b2b.erp"
    exchange_dead: str = "b2b.dead"
    queue_in: str = "b2b.in.gateway"
    queue_out: str = "b2b.out.gateway"
    queue_erp: str | None = "b2b.erp"
    retry_delays_ms: tuple[int, ...] = (1_000, 10_000, 60_000, 600_000)
    max_attempts: int = 5
    delivery_limit: int = 20

    @classmethod
    def from_settings(cls, amqp: AmqpSettings) -> Topology:
        return cls(
            exchange_in=amqp.exchange_in,
            exchange_out=amqp.exchange_out,
            exchange_erp=amqp.exchange_erp,
            exchange_dead=amqp.exchange_dead,
            queue_in=amqp.queue_in,
            queue_out=amqp.queue_out,
            queue_erp=amqp.queue_erp,
            retry_delays_ms=tuple(amqp.retry_delays_ms) or (1_000,),
            max_attempts=amqp.max_attempts,
            delivery_limit=amqp.delivery_limit,
        )

    @property
    def queue_dead(self) -> str:
        return self.exchange_dead

    @property
    def exchanges(self) -> tuple[str, ...]:
        return (self.exchange_in, self.exchange_out, self.exchange_erp)

    @property
    def consumed(self) -> tuple[str, ...]:
        """Queues with a dead-letter exchange and retry queues (the ones the gateway consumes, and the ERP's)."""
        return tuple(q for q in (self.queue_in, self.queue_out, self.queue_erp) if q)

    @property
    def bindings(self) -> tuple[Binding, ...]:
        out = [Binding(self.exchange_in, self.queue_in), Binding(self.exchange_out, self.queue_out)]
        if self.queue_erp:
            out.append(Binding(self.exchange_erp, self.queue_erp))
        out.append(Binding(self.exchange_dead, self.queue_dead))
        return tuple(out)

    @property
    def delays_s(self) -> tuple[float, ...]:
        return tuple(ms / 1000 for ms in self.retry_delays_ms)

    @staticmethod
    def dead_exchange_of(queue: str) -> str:
        return f"{queue}.dlx"

    @staticmethod
    def dead_queue_of(queue: str) -> str:
        return f"{queue}.dead"

    @staticmethod
    def retry_queue_of(queue: str, index: int) -> str:
        return f"{queue}.retry.{index}"

    def queues_for(self, exchange: str, routing_key: str) -> list[str]:
        """The queues a message published to ``exchange`` with ``routing_key`` lands in."""
        if exchange == "":
            return [routing_key]
        if exchange.endswith(".dlx") and exchange[:-4] in self.consumed:
            return [self.dead_queue_of(exchange[:-4])]
        return [b.queue for b in self.bindings if b.exchange == exchange and topic_matches(b.pattern, routing_key)]

    def all_queues(self) -> list[str]:
        """Every queue of the topology, for depth reports."""
        names = list(self.consumed)
        names += [self.dead_queue_of(q) for q in self.consumed]
        names.append(self.queue_dead)
        names += [self.retry_queue_of(q, i) for q in self.consumed for i in range(len(self.retry_delays_ms))]
        return names
