"""Consumers: queued documents through the pipeline, acknowledged only after the store commit.

The gateway message id of a queued document comes from its queue message id (the publisher's, or
the pickup's stable id for a file), so a document the broker delivers again after a crash is the
same message: processing it again is idempotent (same ids, same outputs, same idempotency keys).

When the store is unavailable the delivery is *held*: it stays unacknowledged on the queue while the
worker tries again with backoff, and goes on when the store returns (a process that dies meanwhile
leaves it on the queue for the next). Other transient errors use the queue's delayed retries.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from b2b_gateway.errors import StoreUnavailableError
from b2b_gateway.observability.logging import get_logger
from b2b_gateway.observability.tracing import continue_trace, strip_trace, trace_context
from b2b_gateway.pipeline.message import Direction, Message, derive_id
from b2b_gateway.pipeline.runner import Pipeline
from b2b_gateway.transport.base import Delivery, Envelope, Headers
from b2b_gateway.transport.directory import DirectoryDrop, drop_name

__all__ = ["ErpDirectoryBridge", "InboundWorker", "message_from_envelope", "stable_id"]

log = get_logger("b2b_gateway.worker")

_HEX32 = re.compile(r"^[0-9a-f]{32}$")


def stable_id(message_id: str, body: bytes) -> str:
    """The gateway id for a queue message: its own id when it is one of ours, else derived from it (or the body)."""
    text = message_id.strip().lower().replace("-", "")
    if _HEX32.fullmatch(text):
        return text
    if message_id:
        return derive_id(f"mid:{message_id}")
    return derive_id(f"sha256:{hashlib.sha256(body).hexdigest()}")


def message_from_envelope(envelope: Envelope, direction: Direction, *, files: Path | None = None) -> Message:
    """A fresh pipeline record for a queued document (the same ids every time it is delivered).

    A big file from the pickup comes as a reference (``x-b2b-file``); it is read as a stream only when it
    lies in ``files`` (this gateway's pickup archive): a publisher cannot make the gateway read other files.
    """
    headers = envelope.headers
    metadata = {"queue_message_id": envelope.message_id} if envelope.message_id else {}
    for header, key in (
        (Headers.PARTNER, "partner"),
        (Headers.FILENAME, "filename"),
        (Headers.PICKUP, "pickup"),
        (Headers.REPLAY_OF, "replay_of"),
        (Headers.IMPORT, "imported_from"),
    ):
        value = headers.get(header)
        if value:
            metadata[key] = str(value)
    metadata.update(trace_context(headers))
    correlation = str(headers.get(Headers.CORRELATION_ID) or envelope.correlation_id or "")
    path = _archived(str(headers.get(Headers.FILE) or ""), files)
    return Message(
        raw=envelope.body,
        path=path,
        direction=direction,
        channel=str(headers.get(Headers.CHANNEL) or "amqp")[:32],
        id=stable_id(envelope.message_id, envelope.body),
        correlation_id=correlation[:64],
        metadata=metadata,
    )


def _archived(name: str, files: Path | None) -> str | None:
    if not name or files is None:
        return None
    path = Path(name).resolve()
    return str(path) if path.is_relative_to(files.resolve()) and path.is_file() else None


class InboundWorker:
    """Runs queued (or posted) documents through the pipeline."""

    def __init__(
        self,
        pipeline: Pipeline,
        *,
        node: str = "",
        on_done: Callable[[Message], None] | None = None,
        trace: bool = False,
        files: Path | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.trace = trace
        """Tracing on: each message continues the trace it arrived in (or starts its correlation's)."""
        self.files = files
        """The pickup archive: the only place a queued file reference (``x-b2b-file``) may point into."""
        self.node = node
        self.on_done = on_done
        self.stopping = asyncio.Event()
        self.held = 0
        self.active = 0

    async def run(self, make: Callable[[], Message], *, hold: bool) -> Message:
        """Run a fresh record from ``make`` until it passes the store; with ``hold``, wait out store outages."""
        self.active += 1
        try:
            return await self._run(make, hold=hold)
        finally:
            self.active -= 1

    async def _run(self, make: Callable[[], Message], *, hold: bool) -> Message:
        delay = 0.2
        while True:
            message = make()
            if self.node:
                message.metadata["node"] = self.node
            if self.trace:
                continue_trace(message.metadata, message.correlation_id, message.id)
            else:
                strip_trace(message.metadata)
            try:
                await self.pipeline.run(message)
            except StoreUnavailableError as exc:
                if not hold or self.stopping.is_set():
                    raise
                self.held += 1
                log.warning("store.unavailable_holding", message_id=message.id, error=exc.message, retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                self.held -= 1
                continue
            if self.on_done is not None:
                self.on_done(message)
            return message

    def handler(self, direction: Direction) -> Callable[[Delivery], Any]:
        """The queue handler for documents coming in ``direction``."""

        async def handle(delivery: Delivery) -> None:
            async with delivery.process():
                message = await self.run(
                    lambda: message_from_envelope(delivery.envelope, direction, files=self.files), hold=True
                )
                report_rejected_file(message)

        return handle


def report_rejected_file(message: Message) -> None:
    """A rejected document that came from a pickup directory on this machine goes to its error directory
    (``<inbox>.error/<id>-<name>``) beside an ``.errors.json`` report, and out of the archive."""
    pickup, name = message.metadata.get("pickup"), message.metadata.get("filename")
    members = [message, *message.children]
    failed = any(e.severity == "error" for m in members for e in m.errors)
    failed = failed or any(state in ("rejected", "failed", "quarantined") for state in message.outcomes)
    if not pickup or not name or not failed:
        return
    inbox = Path(pickup)
    if not inbox.is_dir():
        return
    error_dir = inbox.parent / f"{inbox.name}.error"
    target = f"{message.id}-{name}"
    report = {"message": message.summary(), "children": [c.summary() for c in message.children]}
    if message.path is not None:  # a streamed file: moved from the archive, not copied through memory
        error_dir.mkdir(parents=True, exist_ok=True)
        if Path(message.path).exists():
            os.replace(message.path, error_dir / target)
        DirectoryDrop(error_dir).write(target + ".errors.json", json.dumps(report, indent=2, default=str).encode())
        return
    DirectoryDrop(error_dir).write(target, message.raw)
    DirectoryDrop(error_dir).write(target + ".errors.json", json.dumps(report, indent=2, default=str).encode())
    archived = inbox.parent / f"{inbox.name}.archive" / target
    archived.unlink(missing_ok=True)


class ErpDirectoryBridge:
    """The ERP side of the embedded default: documents published to the ERP queue become files in a directory.

    One file per idempotency key (a repeat rewrites the same file), written atomically.
    """

    def __init__(self, directory: Path) -> None:
        self.drop = DirectoryDrop(directory)

    async def handle(self, delivery: Delivery) -> None:
        async with delivery.process():
            env = delivery.envelope
            headers = env.headers
            key = str(headers.get(Headers.IDEMPOTENCY_KEY) or env.message_id)
            name = drop_name(
                str(headers.get(Headers.DOCUMENT_TYPE) or "document"),
                str(headers.get(Headers.BUSINESS_KEY) or "") or None,
                key,
                str(headers.get(Headers.FORMAT) or "canonical-json"),
            )
            await asyncio.to_thread(self.drop.write, name, env.body)
