"""The embedded gateway: no broker, no server needed. Documents dropped into the inbox come out as
canonical JSON in the ERP directory; rejected ones go to the error directory with a report."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from b2b_gateway.errors import TransientError
from b2b_gateway.observability.logging import get_logger
from b2b_gateway.pipeline import Message, Pipeline, PipelineContext, State
from b2b_gateway.routing.default import DefaultRouter
from b2b_gateway.runtime.context import build_context
from b2b_gateway.settings import Settings
from b2b_gateway.store.memory import MemoryStore
from b2b_gateway.transport.directory import DirectoryDrop, DirectoryPickup, PickedFile

__all__ = ["DirectoryDeliverer", "EmbeddedGateway"]

log = get_logger("b2b_gateway.embedded")


@dataclass(slots=True)
class DirectoryDeliverer:
    """Delivers ``erp`` outputs as files into the ERP directory (atomic rename)."""

    erp: DirectoryDrop

    async def deliver(self, message: Message) -> None:
        for out in message.outputs:
            if out.destination == "erp" and out.kind == "document":
                name = f"{message.document_type}-{message.business_key or 'doc'}-{message.id}.json"
                path = self.erp.write(name, out.payload)
                message.record("deliver", "ok", f"erp: {path.name}", output=out.id)
        message.state = State.DELIVERED


class EmbeddedGateway:
    """Polls the pickup directory and runs every file through the pipeline."""

    def __init__(self, settings: Settings, ctx: PipelineContext | None = None) -> None:
        self.settings = settings
        self.pickup = DirectoryPickup(
            settings.inbox,
            settle_s=settings.directories.settle_s,
            max_bytes=settings.limits.max_document_bytes,
        )
        base = ctx or build_context(settings)
        base.store = base.store or MemoryStore()
        base.router = base.router or DefaultRouter(base.partners)
        base.deliverer = base.deliverer or DirectoryDeliverer(DirectoryDrop(settings.erp_outbox))
        self.ctx = base
        self.pipeline = Pipeline(base)

    async def process(self, picked: PickedFile) -> Message:
        message = Message(raw=picked.data, channel="directory", metadata={"filename": picked.name})
        try:
            await self.pipeline.run(message)
        except TransientError:
            log.warning("file.retry_later", file=picked.name)
            raise
        ok = not any(m.errors for m in [message, *message.children])
        target = self.pickup.done(picked, ok=ok, message_id=message.id)
        if not ok:
            report = {"message": message.summary(), "children": [c.summary() for c in message.children]}
            target.with_name(target.name + ".errors.json").write_text(json.dumps(report, indent=2, default=str))
        log.info("file.processed", file=picked.name, state=message.state.value, message_id=message.id)
        return message

    async def run_once(self) -> list[Message]:
        """Process what is in the inbox now (recovering files a crash left half-processed)."""
        done: list[Message] = []
        for picked in [*self.pickup.recover(), *self.pickup.poll()]:
            try:
                done.append(await self.process(picked))
            except TransientError:
                continue
        return done

    async def serve(self, stop: asyncio.Event) -> None:
        log.info(
            "gateway.started",
            inbox=str(self.settings.inbox),
            erp=str(self.settings.erp_outbox),
            mode="embedded",
        )
        while not stop.is_set():
            await self.run_once()
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.settings.directories.poll_interval_s)
            except TimeoutError:
                pass
        log.info("gateway.stopped")
