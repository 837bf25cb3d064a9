"""Helpers for the failure drills: gateway processes, a publisher and an ERP-side collector on the real broker."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection

from tests.conftest import ROOT
from tests.delivery.conftest import order

DEADLINE_S = 240.0
"""How long a drill waits for something before it fails (a hang guard, not a timing assertion)."""


async def wait_for(what: str, check: Callable[[], Awaitable[bool] | bool], *, limit_s: float = DEADLINE_S) -> None:
    """Poll ``check`` until it holds; fail with ``what`` if it never does."""
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        result = check()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


@dataclass
class GatewayProcess:
    """``b2b-gateway run`` as a real process (``python -m b2b_gateway run``), logging JSON lines to a file."""

    workdir: Path
    env: dict[str, str]
    name: str = "gw"
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def log(self) -> Path:
        return self.workdir / f"{self.name}-{self.starts}.log"

    def start(self) -> GatewayProcess:
        self.starts += 1
        env = {k: v for k, v in os.environ.items() if not k.startswith("B2B_")}
        env.update({"B2B_LOGGING__FORMAT": "json", "B2B_LOGGING__LEVEL": "INFO", "PYTHONPATH": str(ROOT / "src")})
        env.update(self.env)
        self.workdir.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "b2b_gateway", "run"], cwd=self.workdir, env=env, stdout=out, stderr=out
            )
        return self

    def logged(self, event: str) -> int:
        """How many log lines of this run carry ``event``."""
        if not self.log.exists():
            return 0
        return self.log.read_text(errors="replace").count(f'"event": "{event}"')

    async def started(self) -> None:
        await wait_for(f"{self.name} to start", lambda: self.logged("gateway.started") > 0 or self._died())

    def _died(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"{self.name} exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
        return False

    def kill(self, sig: int = signal.SIGKILL) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)
        self.proc.wait(timeout=60)

    def stop(self) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(timeout=30)


def documents(n: int, prefix: str = "PO") -> list[tuple[str, bytes]]:
    """``n`` canonical orders: (message id, body), document numbers ``PO-00000`` …"""
    return [(f"{prefix.lower()}-{i:05d}", order(f"{prefix}-{i:05d}")) for i in range(n)]


async def publish(
    url: str,
    exchange: str,
    docs: list[tuple[str, bytes]],
    headers: dict[str, Any] | None = None,
    *,
    pace_s: float = 0.0,
) -> int:
    """Publish with confirms, retrying what was not confirmed (same message id) until all are; returns batches.

    ``pace_s`` spaces the batches of 100, so that a stream is still flowing when the drill breaks something.
    """
    connection = await aio_pika.connect_robust(url)
    tries = 0
    try:
        channel = await connection.channel(publisher_confirms=True)
        target = await channel.get_exchange(exchange)
        pending = list(docs)
        while pending:
            batch, pending = pending[:100], pending[100:]
            tries += 1
            results = await asyncio.gather(
                *[
                    target.publish(
                        aio_pika.Message(body, message_id=mid, headers=headers or {}, delivery_mode=2),
                        routing_key="drill",
                    )
                    for mid, body in batch
                ],
                return_exceptions=True,
            )
            failed = [doc for doc, result in zip(batch, results, strict=True) if isinstance(result, BaseException)]
            if failed:
                pending = failed + pending
                await asyncio.sleep(0.5)
            elif pace_s:
                await asyncio.sleep(pace_s)
    finally:
        with contextlib.suppress(Exception):
            await connection.close()
    return tries


@dataclass
class ErpCollector:
    """The ERP side: consumes the ERP queue and records every document (broker redeliveries told apart)."""

    url: str
    queue: str = "b2b.erp"
    received: list[dict[str, Any]] = field(default_factory=list)
    connection: AbstractRobustConnection | None = None

    async def start(self) -> ErpCollector:
        self.connection = await aio_pika.connect_robust(self.url)
        channel = await self.connection.channel()
        await channel.set_qos(prefetch_count=500)
        queue = await channel.declare_queue(self.queue, passive=True)
        await queue.consume(self._on_message)
        return self

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        headers = message.headers or {}
        self.received.append(
            {
                "key": str(headers.get("idempotency-key")),
                "message_id": str(headers.get("x-b2b-message-id")),
                "document": json.loads(message.body)["document_number"],
                "routing_key": message.routing_key,
                "redelivered": bool(message.redelivered),
            }
        )
        with contextlib.suppress(Exception):
            await message.ack()

    @property
    def documents(self) -> set[str]:
        return {r["document"] for r in self.received}

    def report(self) -> dict[str, Any]:
        """Counts, and whether any document came under two keys or any key carried two documents."""
        keys_of: dict[str, set[str]] = defaultdict(set)
        docs_of: dict[str, set[str]] = defaultdict(set)
        for r in self.received:
            keys_of[r["document"]].add(r["key"])
            docs_of[r["key"]].add(r["document"])
        fresh = Counter(r["key"] for r in self.received if not r["redelivered"])
        return {
            "received": len(self.received),
            "documents": len(keys_of),
            "documents_under_two_keys": sum(1 for k in keys_of.values() if len(k) > 1),
            "keys_with_two_documents": sum(1 for d in docs_of.values() if len(d) > 1),
            "republished_by_gateway": sum(n - 1 for n in fresh.values() if n > 1),
            "broker_redeliveries": sum(1 for r in self.received if r["redelivered"]),
        }

    async def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):
                await self.connection.close()


async def queue_exists(url: str, name: str) -> bool:
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel()
        await channel.declare_queue(name, passive=True)
        return True
    except aio_pika.exceptions.ChannelClosed:
        return False
    finally:
        await connection.close()


def drill_env(data: Path, amqp: str, **extra: str) -> dict[str, str]:
    """Settings of a drill gateway: the broker, the data directory, fast leases and retries."""
    env = {
        "B2B_AMQP__URL": amqp,
        "B2B_PATHS__DATA_DIR": str(data / "var"),
        "B2B_PATHS__MAPPINGS_DIR": str(data / "mappings"),
        "B2B_HTTP__ENABLED": "false",
        "B2B_DELIVERY__LEASE_S": "3",
        "B2B_DELIVERY__POLL_INTERVAL_S": "0.2",
        "B2B_DELIVERY__INITIAL_DELAY_S": "0.2",
        "B2B_DELIVERY__MAX_DELAY_S": "2",
        "B2B_DELIVERY__BREAKER_COOLDOWN_S": "1",
        "B2B_AMQP__RETRY_DELAYS_MS": "[200, 500, 1000, 2000]",
        "B2B_DIRECTORIES__POLL_INTERVAL_S": "0.2",
    }
    env.update(extra)
    return env


def report(name: str, data: dict[str, Any]) -> None:
    """Print a drill's numbers (``pytest -s`` shows them) and keep them beside the test run."""
    line = json.dumps({"drill": name, **data})
    print(line)
    out = Path(tempfile.gettempdir()) / "b2b-drills"
    out.mkdir(exist_ok=True)
    (out / f"{name}.json").write_text(line + "\n")


def queue_counts(vhost_url: str, queue: str) -> tuple[int, int]:
    """(ready, unacknowledged) messages of a queue, as the broker reports them."""
    vhost = vhost_url.rsplit("/", 1)[1]
    out = subprocess.run(
        ["rabbitmqctl", "-q", "list_queues", "-p", vhost, "name", "messages_ready", "messages_unacknowledged"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0] == queue:
            return int(parts[1]), int(parts[2])
    raise AssertionError(f"no queue {queue} in {vhost}: {out}")
