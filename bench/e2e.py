"""End to end through real ``b2b-gateway run`` processes on a private vhost, with the full pipeline on.

Inbound: partner documents published to ``b2b.in`` until their canonical documents are all on the ERP
queue (``b2b.erp``): validation, mapping, business rules, CMS signing (RSA 3072), the store with its
audit trail (PostgreSQL, or a SQLite file), and delivery to the ERP exchange with confirms.
Outbound: canonical orders published to ``b2b.out`` until MOCKEDI's EDIFACT ORDERS are all on the
partner's queue. Each case is compared with the raw aio-pika relay moving the same bytes, same run.

A rejected (or failed, parked …) document fails the benchmark: the store is watched while it runs.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from b2b_gateway.settings import Settings
from b2b_gateway.store.repository import MessageRepository
from bench import amqp, documents
from bench.amqp import Sink, Timing, percentile
from bench.documents import Doc
from bench.infra import PARTNER_EXCHANGE, BenchError, GatewayProcess, Services, prepare_workspace
from bench.relay import run_relay

BAD_STATES = ("rejected", "failed", "quarantined", "parked", "duplicate")
PARTNER_QUEUE = "bench.partner.MOCKEDI"


@dataclass(frozen=True)
class Case:
    """One kind of document: how to make ``count`` of them, where they go in, where they come out."""

    name: str
    make: Callable[[int, str], list[Doc]]
    count: int
    outbound: bool = False


def inbound_cases(counts: dict[str, int]) -> list[Case]:
    """The inbound cases with a count (EDIFACT ORDERS of 10, 100, 1000 lines, UBL invoices)."""
    makers: dict[str, Callable[[int, str], list[Doc]]] = {
        "orders-10": lambda n, t: documents.orders(n, 10, t),
        "orders-100": lambda n, t: documents.orders(n, 100, t),
        "orders-1000": lambda n, t: documents.orders(n, 1000, t),
        "ubl-invoice": documents.ubl_invoices,
    }
    return [Case(name, makers[name], counts[name]) for name in makers if counts.get(name)]


def summary(timings: list[Timing], relay_rates: list[float]) -> dict[str, Any]:
    """Medians over the rounds: rate, relay rate, their ratio, p50 and p99 latency."""
    rate = statistics.median(t.rate for t in timings)
    relay = statistics.median(relay_rates) if relay_rates else 0.0
    return {
        "messages": len(timings[0].sent),
        "rounds": len(timings),
        "bytes": 0,
        "rate_per_s": round(rate, 1),
        "relay_rate_per_s": round(relay, 1),
        "ratio": round(rate / relay, 3) if relay else None,
        "p50_ms": round(statistics.median(percentile(t.latencies_ms, 0.5) for t in timings), 1),
        "p99_ms": round(statistics.median(percentile(t.latencies_ms, 0.99) for t in timings), 1),
        "rates_per_s": [round(t.rate, 1) for t in timings],
        "relay_rates_per_s": [round(r, 1) for r in relay_rates],
    }


@dataclass
class GatewayBench:
    """The services, the workspace, the gateway processes and the two receiving ends of one run."""

    store: str = "postgres"
    key_type: str = "ec"
    services: Services = field(default_factory=Services)
    gateways: list[GatewayProcess] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="b2b-bench-")))
    repo: MessageRepository | None = None
    erp: Sink | None = None
    partner: Sink | None = None
    rounds_done: int = 0
    WARM_UP: ClassVar[int] = 10
    """Documents sent before a case's rounds."""

    async def open(self) -> GatewayBench:
        url = self.services.open_vhost()
        store_url = self.services.open_database() if self.store == "postgres" else None
        self.env = prepare_workspace(self.root, url, store_url, self.key_type)
        await self.add_gateway()
        await amqp.declare_partner_queue(url, PARTNER_EXCHANGE, PARTNER_QUEUE)
        self.erp = await Sink(url, "b2b.erp", lambda m: str((m.headers or {}).get("x-b2b-business-key"))).start()
        self.partner = await Sink(url, PARTNER_QUEUE, lambda m: documents.order_number(m.body)).start()
        settings = Settings(
            paths={"data_dir": self.root / "var", "mappings_dir": self.root / "mappings"},
            store={"url": store_url} if store_url else {},
        )
        self.repo = await MessageRepository.open(settings, migrate=False)
        return self

    @property
    def store_label(self) -> str:
        return "PostgreSQL" if self.store == "postgres" else "SQLite (WAL, synchronous FULL)"

    async def add_gateway(self, workers: int = 1) -> None:
        """Start ``b2b-gateway run`` (``--workers N`` above 1) and wait until every process started."""
        gw = GatewayProcess(self.root, self.env, name=f"gw{len(self.gateways) + 1}", workers=workers).start()
        self.gateways.append(gw)
        await gw.started()

    def remove_gateway(self) -> None:
        self.gateways.pop().stop()

    async def check(self) -> None:
        """Fail loudly when a gateway died or the store holds a document it did not take."""
        for gw in self.gateways:
            gw.check_alive()
        assert self.repo is not None
        states = await self.repo.count_messages()
        bad = {s: n for s, n in states.items() if s in BAD_STATES and n}
        if bad:
            raise BenchError(f"the gateway did not take every document: {bad} (see b2b-gateway messages list)")

    async def settled(self, timeout_s: float = 60.0, pause_s: float = 2.0) -> float:
        """Wait until the gateways have delivered every output of the documents before (the partners'
        CONTRLs come after the ERP's documents) and the store has been quiet for ``pause_s``; returns
        the seconds waited. A paced case measures the gateway in its steady state, not a burst's tail."""
        assert self.repo is not None
        started = time.monotonic()
        for _ in range(int(timeout_s * 10)):
            if not (await self.repo.outbox_counts())["pending"]:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(pause_s)
        return time.monotonic() - started

    async def burst(self, case: Case, *, rate: float | None = None, count: int | None = None) -> Timing:
        """Publish ``case.count`` (or ``count``) fresh documents and wait until all came out."""
        self.rounds_done += 1
        docs = case.make(count or case.count, f"{case.name}-r{self.rounds_done}")
        sink = self.partner if case.outbound else self.erp
        assert sink is not None
        exchange = "b2b.out" if case.outbound else "b2b.in"
        return await amqp.send(self.services.amqp_url, exchange, docs, sink, self.check, rate=rate)

    async def measure(self, case: Case, rounds: int, *, relay: bool = True) -> dict[str, Any]:
        """Warm up, then ``rounds`` bursts each followed by the relay baseline with the same bytes."""
        await self.burst(case, count=min(case.count, self.WARM_UP))
        timings, relay_rates = [], []
        payload = case.make(1, f"{case.name}-payload")[0].body
        for _ in range(rounds):
            timings.append(await self.burst(case))
            if relay:
                base = await run_relay(self.services.amqp_url, payload, max(case.count, 200))
                relay_rates.append(base.rate)
        return {"case": case.name, **summary(timings, relay_rates), "bytes": len(payload)}

    async def close(self) -> None:
        for sink in (self.erp, self.partner):
            if sink is not None:
                await sink.close()
        if self.repo is not None:
            await self.repo.close()
        while self.gateways:
            self.remove_gateway()
        self.services.close()
