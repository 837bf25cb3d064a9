"""A running gateway for the API, browser and screenshot tests: real store, real pipeline, real HTTP server.

Documents are seeded by running real canonical JSON through the real pipeline into the real store
(SQLite by default, PostgreSQL by URL); only the partner's signature policy is checked by a small
verifier (the security branch supplies the real one at runtime) and delivery writes files.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import update

from b2b_gateway._version import __version__
from b2b_gateway.api.auth import Authenticator
from b2b_gateway.api.certificates import PemDirectory
from b2b_gateway.api.ops import Operations
from b2b_gateway.api.queues import EmbeddedQueues
from b2b_gateway.api.server import HttpServer, authenticator_from, build_app
from b2b_gateway.api.store_ops import ACKNOWLEDGED_STAGE, PipelineFactory, StoreOps
from b2b_gateway.errors import SignatureRequiredError
from b2b_gateway.observability.metrics import GatewayMetrics
from b2b_gateway.partners.directory import PartnerDirectory
from b2b_gateway.partners.profile import PartnerProfile, SecurityPolicy
from b2b_gateway.pipeline import Message, Pipeline, PipelineContext, State
from b2b_gateway.pipeline.message import Direction
from b2b_gateway.routing.default import DefaultRouter
from b2b_gateway.runtime.context import build_context
from b2b_gateway.settings import Settings
from b2b_gateway.store.queue import SqlQueue
from b2b_gateway.store.repository import MessageRepository
from b2b_gateway.store.schema import messages
from tests.conftest import FIXTURES
from tests.ops.helpers import ops_settings, partners, write_certificate

ORDER = json.loads((FIXTURES / "canonical" / "order.json").read_text())
BROKEN_INVOICE = json.loads((FIXTURES / "canonical" / "invoice_broken_totals.json").read_text())


class PolicyVerifier:
    """Quarantines documents from partners that require a signature when none came with them."""

    def verify(self, message: Message, *, partner: PartnerProfile | None) -> None:
        if partner is not None and partner.security.require_signature and not message.signature:
            raise SignatureRequiredError(f"{partner.id} must sign its documents and this one is not signed")


@dataclass
class FileDeliverer:
    """Writes each document output to ``root/<destination>/`` and marks the message delivered (stored)."""

    root: Path
    repo: MessageRepository

    async def deliver(self, message: Message) -> None:
        for out in message.outputs:
            if out.kind != "document":
                continue
            target = self.root / out.destination.replace(":", "_")
            target.mkdir(parents=True, exist_ok=True)
            (target / f"{message.id}.json").write_bytes(out.payload)
            message.record("deliver", "ok", f"{out.destination}: {len(out.payload)} bytes", output=out.id)
        message.state = State.DELIVERED
        await self.repo.save(message)


@dataclass
class Live:
    settings: Settings
    repo: MessageRepository
    ops: Operations
    auth: Authenticator
    server: HttpServer
    ids: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url


def directory() -> PartnerDirectory:
    base = list(partners())
    signer = PartnerProfile(id="SIGNCO", name="Signing Co", security=SecurityPolicy(require_signature=True))
    return PartnerDirectory([*base, signer])


def doc(template: dict[str, object], number: str) -> bytes:
    return json.dumps({**template, "document_number": number}).encode()


async def seed(live: Live, pipelines: PipelineFactory) -> None:
    now = dt.datetime.now(dt.UTC)
    run = pipelines(True).run
    for i in range(14):
        at = now - dt.timedelta(hours=20 - i * 1.4, minutes=7 * i)
        m = await run(
            Message(raw=doc(ORDER, f"PO-2026-{i + 1:04d}"), channel="as2", metadata={"partner": "ACME"}, received_at=at)
        )
        live.ids[f"order{i + 1}"] = m.id
    for i, hours in enumerate((9, 3)):
        at = now - dt.timedelta(hours=hours)
        bad = Message(raw=doc(BROKEN_INVOICE, f"INV-2026-{i + 7781}"), metadata={"partner": "ACME"}, received_at=at)
        live.ids[f"broken{i + 1}"] = (await run(bad)).id
    signed = Message(raw=doc(ORDER, "PO-2026-0900"), channel="http", metadata={"partner": "SIGNCO"})
    live.ids["quarantined"] = (await run(signed)).id
    for i in range(3):
        outbound = Message(
            raw=doc(ORDER, f"PO-2026-{i + 501:04d}"),
            direction=Direction.OUTBOUND,
            channel="amqp",
            metadata={"partner": "MOCKEDI"},
            received_at=now - dt.timedelta(hours=3 - i),
        )
        live.ids[f"outbound{i + 1}"] = (await run(outbound)).id
    late = now - dt.timedelta(hours=2)

    async def backdate(conn: object) -> None:
        ids = [live.ids["outbound1"], live.ids["outbound2"]]
        await conn.execute(update(messages).where(messages.c.id.in_(ids)).values(updated_at=late))  # type: ignore[attr-defined]

    await live.repo.writer.run(backdate)  # type: ignore[arg-type]
    await live.repo.record_event(live.ids["outbound3"], ACKNOWLEDGED_STAGE, "ok", "CONTRL accepted", actor="MOCKEDI")
    waiting = [("b2b.in.gateway", 3), ("b2b.out.gateway", 1), ("b2b.in.gateway.dead", 1)]
    await SqlQueue(live.repo.db, live.repo.writer).put(
        [
            {
                "queue": queue,
                "message_id": f"{queue}-{n}",
                "exchange": "b2b.in",
                "routing_key": "order.ACME",
                "content_type": "application/json",
                "headers": {},
                "body": doc(ORDER, f"PO-2026-{800 + n:04d}"),
            }
            for queue, count in waiting
            for n in range(count)
        ]
    )


@asynccontextmanager
async def live_gateway(tmp: Path, *, store_url: str | None = None, seeded: bool = True) -> AsyncIterator[Live]:
    """A seeded gateway serving the API and the dashboard on 127.0.0.1 (a free port)."""
    overrides = {"store": {"url": store_url}} if store_url else {}
    settings = ops_settings(tmp, **overrides)
    write_certificate(tmp / "certs", "mockedi", "MOCKEDI AS2", days=12)
    write_certificate(tmp / "certs", "ours", "EURODIS AS2 signing", days=300, key_passphrase=b"pass-phrase")
    partner_dir = directory()
    repo = await MessageRepository.open(settings)
    metrics = GatewayMetrics(__version__, partners=lambda: {p.id for p in partner_dir})

    def pipelines(verify: bool) -> Pipeline:
        ctx: PipelineContext = build_context(settings, partners=partner_dir)
        ctx.store, ctx.counters = repo, repo
        ctx.router = DefaultRouter(partner_dir)
        ctx.deliverer = FileDeliverer(tmp / "delivered", repo)
        ctx.verifier = PolicyVerifier() if verify else None
        ctx.observers.append(metrics.observe)
        return Pipeline(ctx)

    certs = PemDirectory(settings.paths.certs_dir, partners=partner_dir, passphrase=b"pass-phrase")

    async def keys() -> None:
        certs.check_keys()

    ops = Operations(
        StoreOps(repo, partners=partner_dir, pipelines=pipelines),
        settings,
        metrics=metrics,
        partners=partner_dir,
        queues=EmbeddedQueues(repo),
        certificates=certs,
        checks={"keys": keys},
    )
    auth = authenticator_from(settings)
    server = HttpServer(build_app(ops, auth))
    live = Live(settings, repo, ops, auth, server)
    try:
        if seeded:
            await seed(live, pipelines)
        async with server:
            yield live
    finally:
        await repo.close()
