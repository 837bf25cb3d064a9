"""The running gateway: store, queue transport, pipeline workers, outbox relay, pickup and HTTP, from settings.

With no broker configured the queue transport is the embedded durable queue in the store; with
``amqp.url`` (``B2B_AMQP__URL``) it is RabbitMQ. Either way:

* files dropped into the pickup directory (``./var/in``) are published to ``b2b.in`` and archived;
* the inbound and outbound queues are consumed by the pipeline, acknowledged after the store commit;
* outputs go through the outbox relay to their destinations (the ERP exchange, partner endpoints,
  directories); in the embedded default the ERP queue is written to ``./var/erp`` as canonical JSON;
* the HTTP server serves the shared app: the inbound document endpoint plus the routers added to
  :attr:`Gateway.routers` before :meth:`Gateway.start` (the command line adds AS2, the API, the dashboard).

Partners come from the reloading partner repository, our identity from ``mappings/_self.yaml``, keys
from ``certs/``; the pipeline acknowledges what partners send, matches what they acknowledge to what
was sent and keeps each document's place in its conversation (:attr:`Gateway.conversations`, which
flags overdue acknowledgments). See :mod:`b2b_gateway.runtime.wiring`.

Example: ``await Gateway(load_settings()).serve(stop_event)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import os
import socket
from collections.abc import Callable, Iterator, Sequence

from fastapi import APIRouter, FastAPI
from sqlalchemy import text

from b2b_gateway.errors import BrokerUnavailableError, GatewayError
from b2b_gateway.observability.gcwatch import GcWatch
from b2b_gateway.observability.logging import get_logger
from b2b_gateway.observability.loopwatch import LoopWatch
from b2b_gateway.partners.directory import PartnerDirectory
from b2b_gateway.partners.repository import PartnerRepository
from b2b_gateway.pipeline.context import PipelineContext
from b2b_gateway.pipeline.message import Direction, Message, derive_id, new_id, utcnow
from b2b_gateway.pipeline.ports import Router
from b2b_gateway.pipeline.runner import Pipeline
from b2b_gateway.pipeline.stages import Stage
from b2b_gateway.routing.default import DefaultRouter
from b2b_gateway.routing.rules import RulesRouter
from b2b_gateway.runtime.as2 import As2Runtime
from b2b_gateway.runtime.context import build_context, load_repository
from b2b_gateway.runtime.conversations import Conversations
from b2b_gateway.runtime.delivery import EndpointResolver, OutboxDeliverer, SenderRegistry
from b2b_gateway.runtime.http import HttpServer, inbound_tokens
from b2b_gateway.runtime.relay import OutboxRelay
from b2b_gateway.runtime.security import report_certificates
from b2b_gateway.runtime.wiring import (
    complete_context,
    inbound_stages,
    load_certificates,
    our_as2_id,
    outbound_stages,
)
from b2b_gateway.runtime.worker import ErpDirectoryBridge, InboundWorker, stable_id
from b2b_gateway.settings import Settings
from b2b_gateway.store.conversations import ConversationStore
from b2b_gateway.store.outbox import AttemptOutcome, OutboxItem
from b2b_gateway.store.queue import SqlQueue
from b2b_gateway.store.repository import MessageRepository
from b2b_gateway.transport.amqp import AmqpTransport
from b2b_gateway.transport.base import Envelope, Headers, Transport
from b2b_gateway.transport.directory import DirectoryPickup, DirectorySender, PickedFile
from b2b_gateway.transport.embedded import EmbeddedTransport
from b2b_gateway.transport.http import HttpSender, InboundRequest, inbound_router
from b2b_gateway.transport.publisher import QueueSender
from b2b_gateway.transport.topology import Topology

__all__ = ["Gateway"]

log = get_logger("b2b_gateway.gateway")


class Gateway:
    """One gateway process. ``start`` → work → ``stop``; :meth:`serve` does all three."""

    def __init__(
        self,
        settings: Settings,
        *,
        partners: PartnerDirectory | None = None,
        transport: Transport | None = None,
        embedded: bool | None = None,
        context: PipelineContext | None = None,
        app_factory: Callable[[Sequence[APIRouter]], FastAPI] | None = None,
    ) -> None:
        self.settings = settings
        self.context = context
        """A base pipeline context (codecs, signer, verifier, acknowledger …); store and delivery are wired here."""
        self.app_factory = app_factory
        """Builds the HTTP app from routers (the command line passes ``b2b_gateway.api.create_app``)."""
        if partners is None and context is not None and len(context.partners):
            partners = context.partners
        self.repository: PartnerRepository | None = None
        """The partner files (profiles, mappings, our company), reloaded when they change."""
        if partners is None:
            self.repository = load_repository(settings)
            partners = self.repository.directory
        self.partners = partners
        self.company = self.repository.company if self.repository is not None else None
        self.certs = load_certificates(settings)
        self.as2 = As2Runtime(
            lambda: self.partners, self.certs, settings, our_as2_id=our_as2_id(self.company, settings)
        )
        """The AS2 receiver (mounted by :func:`b2b_gateway.api.edges.attach_edges`) and sender."""
        self.conversations: Conversations | None = None
        """Timelines per order and the acknowledgment deadlines (once started)."""
        self.inbound_stages: tuple[Stage, ...] = ()
        self.gc_watch = GcWatch(settings.process.gc_log_ms)
        """Garbage-collector pauses while serving (``gc.pause`` logged from ``process.gc_log_ms``)."""
        self.loop_watch = LoopWatch(settings.process.loop_stall_ms)
        """Event-loop stalls while serving (``loop.stall`` logged from ``process.loop_stall_ms``)."""
        self.outbound_stages: tuple[Stage, ...] = ()
        """The pipeline's stages each way (once started; replays run through the same)."""
        self.embedded = settings.amqp.url is None if embedded is None else embedded
        self.topology = Topology.from_settings(settings.amqp)
        self.owner = f"{socket.gethostname()[:30]}:{os.getpid()}:{new_id()[-8:]}"
        self.senders = SenderRegistry()
        self.routers: list[APIRouter] = []
        """Extra routers for the HTTP app (API, dashboard, AS2): add them before :meth:`start`."""
        self.relay_observers: list[Callable[[AttemptOutcome], None]] = []
        """Told of every delivery attempt of the outbox relay (the metrics): add them before :meth:`start`."""
        self.housekeeping = True
        """Whether this process polls the pickup directory, applies retention and checks acknowledgment
        deadlines (a consumer-only worker beside a primary does not: see :mod:`b2b_gateway.runtime.supervisor`)."""
        self.pickup = DirectoryPickup(
            settings.inbox,
            settle_s=settings.directories.settle_s,
            max_bytes=settings.limits.max_document_bytes,
            stream_threshold=settings.limits.stream_threshold_bytes,
        )
        self.repo: MessageRepository | None = None
        self.transport: Transport | None = transport
        self.relay: OutboxRelay | None = None
        self.worker: InboundWorker | None = None
        self.http: HttpServer | None = None
        self.processed: list[str] = []
        """Ids of the inputs processed by :meth:`run_once`."""
        self._collect = False
        self._consuming: list[str] = []
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    # --- assembly ------------------------------------------------------------------------------------

    def _router(self) -> Router:
        path = self.settings.paths.routes
        if path.is_file():
            return RulesRouter(path, lambda: self.partners, company_id=self.settings.company_id)
        return DefaultRouter(self.partners)

    def _make_transport(self, repo: MessageRepository) -> Transport:
        if not self.embedded:
            return AmqpTransport(self.settings.amqp, self.topology)
        backend = SqlQueue(repo.db, repo.writer)
        return EmbeddedTransport(backend, self.topology, poll_s=self.settings.store.queue_poll_s)

    async def _connect(self, transport: Transport, *, wait: bool) -> None:
        delay = 0.5
        while True:
            try:
                await transport.start()
                return
            except BrokerUnavailableError as exc:
                if not wait or self._stop.is_set():
                    raise
                log.warning("broker.unavailable", error=exc.message, retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def start(self, *, consume: bool = True, http: bool | None = None, wait_for_broker: bool = True) -> None:
        """Open the store (migrating it), connect the transport, start consumers, relay, pickup and HTTP."""
        s = self.settings
        self.repo = repo = await MessageRepository.open(s)
        transport = self.transport or self._make_transport(repo)
        self.transport = transport
        await self._connect(transport, wait=wait_for_broker)
        self._register_senders(transport)
        resolver = EndpointResolver(lambda: self.partners, erp_exchange=self.topology.exchange_erp)
        self.relay = relay = OutboxRelay(
            repo, resolver, self.senders, s.delivery, owner=self.owner, dead_letter=self._publish_dead
        )
        relay.observers.extend(self.relay_observers)
        ctx = self.context or build_context(s, partners=self.partners, repository=self.repository)
        ctx.store, ctx.counters, ctx.partners = repo, repo, self.partners
        ctx.router = ctx.router or self._router()
        ctx.deliverer = OutboxDeliverer(repo, relay.submit, owner=self.owner, lease_s=s.delivery.lease_s)
        complete_context(ctx, s, repo, self.certs)
        report_certificates(self.certs, s)
        talk = ConversationStore(repo)
        self.conversations = Conversations(
            talk, lambda: self.partners, default_deadline_minutes=s.alerts.ack_deadline_minutes
        )
        self.inbound_stages = inbound_stages(repo, talk, unwrap=ctx.verifier is not None)
        self.outbound_stages = outbound_stages(talk)
        pipeline = Pipeline(ctx, inbound=self.inbound_stages, outbound=self.outbound_stages)
        self.worker = worker = InboundWorker(
            pipeline, node=self.owner, on_done=self._done, trace=s.tracing.enabled, files=self.pickup.archive
        )
        self.as2.bind(lambda make: worker.run(make, hold=False), talk)
        if consume:
            prefetch = s.amqp.prefetch
            await transport.consume(self.topology.queue_in, worker.handler(Direction.INBOUND), prefetch=prefetch)
            await transport.consume(self.topology.queue_out, worker.handler(Direction.OUTBOUND), prefetch=prefetch)
            self._consuming = [self.topology.queue_in, self.topology.queue_out]
            bridge_dir = s.directories.erp_outbox or (s.erp_outbox if self.embedded else None)
            if bridge_dir is not None and self.topology.queue_erp:
                bridge = ErpDirectoryBridge(bridge_dir)
                await transport.consume(self.topology.queue_erp, bridge.handle, prefetch=prefetch)
                self._consuming.append(self.topology.queue_erp)
        self._stop.clear()
        if http if http is not None else s.http.enabled:
            routers = [
                inbound_router(self.submit, inbound_tokens(s), max_bytes=s.limits.max_document_bytes),
                *self.routers,
            ]
            app = self.app_factory(routers) if self.app_factory else _bare_app(routers)
            self.http = HttpServer(app, s.http)
            await self.http.start()
        log.info(
            "gateway.started", transport=transport.name, store=repo.db.dialect, inbox=str(s.inbox), owner=self.owner
        )

    def _done(self, message: Message) -> None:
        if self._collect:
            self.processed.append(message.id)

    def _register_senders(self, transport: Transport) -> None:
        queue = QueueSender(transport)
        for kind in ("erp", "queue", "amqp"):
            if self.senders.get(kind) is None:
                self.senders.register(kind, queue)
        if self.senders.get("http") is None:
            self.senders.register("http", HttpSender(certs_dir=self.settings.paths.certs_dir))
        if self.senders.get("directory") is None:
            self.senders.register("directory", DirectorySender())
        if self.senders.get("as2") is None:
            self.senders.register("as2", self.as2.outbox_sender)

    def start_background(self) -> None:
        """Run the relay in the background, and with :attr:`housekeeping` the pickup poller, retention and the
        acknowledgment deadlines."""
        assert self.relay is not None and self.conversations is not None
        self._tasks = [asyncio.create_task(self.relay.run(self._stop))]
        if self.housekeeping:
            self._tasks += [
                asyncio.create_task(self._pickup_loop()),
                asyncio.create_task(self._retention_loop()),
                asyncio.create_task(
                    self.conversations.run(self._stop, interval_s=self.settings.delivery.ack_check_interval_s)
                ),
            ]

    # --- work ------------------------------------------------------------------------------------------

    async def submit(self, request: InboundRequest) -> Message:
        """Run a posted document through the pipeline now (the HTTP endpoint's answer is its outcome)."""
        assert self.worker is not None

        def make() -> Message:
            mid = stable_id(request.idempotency_key, request.body) if request.idempotency_key else new_id()
            meta = {k: v for k, v in (("partner", request.partner), ("filename", request.filename)) if v}
            return Message(raw=request.body, channel="http", id=mid, metadata={**meta, **request.metadata})

        return await self.worker.run(make, hold=False)

    async def publish_file(self, picked: PickedFile) -> str:
        """Publish a picked-up file to the inbound exchange; returns its (stable) message id."""
        assert self.transport is not None
        message_id = derive_id(picked.identity)
        headers = {
            Headers.CHANNEL: "directory",
            Headers.FILENAME: picked.name,
            Headers.PICKUP: str(self.pickup.inbox.resolve()),
        }
        if picked.data is None:  # a big file: archived first, read from there as a stream, never queued whole
            archived = self.pickup.archived(picked, message_id=message_id)
            os.replace(picked.path, archived)
            headers[Headers.FILE] = str(archived.resolve())
            envelope = Envelope(body=b"", message_id=message_id, routing_key="directory", headers=headers)
            try:
                await self.transport.publish(self.topology.exchange_in, envelope)
            except GatewayError:
                os.replace(archived, picked.path)  # taken again at the next poll
                raise
            return message_id
        envelope = Envelope(body=picked.data, message_id=message_id, routing_key="directory", headers=headers)
        await self.transport.publish(self.topology.exchange_in, envelope)
        return message_id

    async def pickup_once(self) -> int:
        """Take every complete file in the inbox (and any a crash left half-taken); returns how many."""
        taken = 0
        for picked in [*self.pickup.recover(), *self.pickup.poll()]:
            try:
                message_id = await self.publish_file(picked)
            except GatewayError as exc:
                log.warning("pickup.publish_failed", file=picked.name, error=exc.message)
                continue
            if not picked.streamed:
                self.pickup.done(picked, ok=True, message_id=message_id)
            log.info("pickup.taken", file=picked.name, message_id=message_id)
            taken += 1
        return taken

    async def _pickup_loop(self) -> None:
        interval = self.settings.directories.poll_interval_s
        while not self._stop.is_set():
            try:
                await self.pickup_once()
            except OSError as exc:
                log.error("pickup.failed", inbox=str(self.pickup.inbox), error=str(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=interval)

    async def _retention_loop(self) -> None:
        while not self._stop.is_set():
            try:
                await self.purge()
            except GatewayError as exc:
                log.warning("retention.failed", error=exc.message)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.settings.store.purge_interval_s)

    async def purge(self) -> dict[str, int]:
        """Apply retention now (partner ``retention_days`` over ``store.retention_days``)."""
        assert self.repo is not None
        now = utcnow()
        cutoffs: dict[str | None, dt.datetime] = {}
        if self.settings.store.retention_days:
            cutoffs[None] = now - dt.timedelta(days=self.settings.store.retention_days)
        for profile in self.partners:
            if profile.retention_days:
                cutoffs[profile.id] = now - dt.timedelta(days=profile.retention_days)
        report = await self.repo.purge(dict(cutoffs)) if cutoffs else None
        return report.to_dict() if report else {"trees": 0, "messages": 0, "payloads": 0}

    async def _publish_dead(self, item: OutboxItem, reason: str) -> None:
        if self.transport is None:
            return
        headers = {Headers.REASON: reason, Headers.MESSAGE_ID: item.message_id, Headers.IDEMPOTENCY_KEY: item.id}
        headers["x-b2b-destination"] = item.destination
        envelope = Envelope(body=item.payload, message_id=item.id, routing_key=item.destination, headers=headers)
        await self.transport.publish(self.topology.exchange_dead, envelope)

    async def health(self) -> dict[str, bool]:
        """Whether the store answers and the queue transport is connected (for a readiness probe)."""
        store = False
        if self.repo is not None:
            try:
                async with self.repo.db.connect() as conn:
                    await conn.execute(text("SELECT 1"))
                store = True
            except GatewayError:
                store = False
        transport = self.transport is not None and getattr(self.transport, "connected", True)
        return {"store": store, "transport": bool(transport)}

    # --- lifecycle --------------------------------------------------------------------------------------

    async def serve(self, stop: asyncio.Event, *, started: Callable[[], None] | None = None) -> None:
        """Start, work until ``stop`` is set, then stop cleanly (``stop`` also ends a wait for the broker).

        ``started`` is called once the gateway is started (store open, consumers and HTTP up)."""
        starting = asyncio.create_task(self.start())
        stopping = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if starting.done():
                starting.result()
                self.start_background()
                if started is not None:
                    started()
                with self.serving_collector():
                    self.gc_watch.install()
                    watching = [asyncio.create_task(self.gc_watch.run())]
                    if self.settings.process.loop_stall_ms > 0:
                        watching.append(asyncio.create_task(self.loop_watch.run()))
                    try:
                        await stopping
                    finally:
                        for watcher in watching:
                            watcher.cancel()
                            with contextlib.suppress(asyncio.CancelledError):
                                await watcher
        finally:
            self.gc_watch.remove()
            for task in (starting, stopping):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await self.stop()

    @contextlib.contextmanager
    def serving_collector(self) -> Iterator[None]:
        """Python's garbage collector as the gateway runs it while serving; its thresholds given back after.

        With ``process.gc_freeze``, what start-up loaded (partners, mappings, schemas, code lists,
        libraries: ~10^5 long-lived objects every full collection would walk again) is frozen first and
        stays frozen; ``process.gc_thresholds`` while inside (see docs/operations.md, "The process").
        """
        thresholds = gc.get_threshold()
        if self.settings.process.gc_freeze:
            gc.collect()
            gc.freeze()
        gc.set_threshold(*self.settings.process.gc_thresholds)
        try:
            yield
        finally:
            gc.set_threshold(*thresholds)

    async def run_once(self, *, load: bool = True) -> list[Message]:
        """Process what is waiting (pickup, queues, outbox), then stop; returns the documents processed
        (read back from the store with their children; none with ``load=False``, as the command line asks)."""
        self._collect = True
        await self.start(http=False, wait_for_broker=False)
        assert self.relay is not None and self.repo is not None
        try:
            await self.pickup_once()
            quiet = 0
            while quiet < 2:
                await self.relay.drain()
                quiet = quiet + 1 if await self._idle() else 0
                await asyncio.sleep(0.02)
            if not load:
                return []
            return [await self.repo.load_message(mid) for mid in dict.fromkeys(self.processed)]
        finally:
            await self.stop()

    async def _idle(self) -> bool:
        assert self.transport is not None and self.relay is not None
        queues = self._consuming  # not the ERP queue when the ERP consumes it (RabbitMQ)
        depths = {d.queue: d for d in await self.transport.depths()}
        busy = any((depths[q].ready or 0) + (depths[q].unacked or 0) for q in queues if q in depths)
        working = self.worker.active if self.worker else 0
        return not busy and not working and not self.relay.busy

    async def stop(self) -> None:
        """Stop taking work, let what is in flight finish, and close everything."""
        self._stop.set()
        if self.relay is not None:
            self.relay.close()  # a pipeline waiting for room in the relay finishes now
        if self.worker is not None:
            self.worker.stopping.set()
        if self.transport is not None:
            await self.transport.stop_consuming()
        for task in self._tasks:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await task
        self._tasks = []
        if self.relay is not None:
            await self.relay.wait_idle()
        if self.http is not None:
            await self.http.stop()
            self.http = None
        if self.transport is not None:
            await self.transport.close()
        for sender in {id(s): s for s in (self.senders.get(k) for k in self.senders.kinds) if s}.values():
            close = getattr(sender, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    await close()
        if self.repo is not None:
            await self.repo.close()
            self.repo = None
        log.info("gateway.stopped")


def _bare_app(routers: Sequence[APIRouter]) -> FastAPI:
    app = FastAPI(title="b2b-gateway")
    for router in routers:
        app.include_router(router)
    return app
