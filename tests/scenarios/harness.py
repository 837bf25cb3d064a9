"""A gateway as EURODIS on the real broker, with the ERP on the other side of RabbitMQ.

:class:`Scenario` copies the shipped ``mappings/`` (patching what a test needs: the mock's URL, a
quicker retry policy), writes a signing key into ``certs/``, starts a :class:`Gateway` with its HTTP
edges (AS2, the inbound endpoint, the conversation API) on a free port, and connects :class:`Erp`:
the ERP publishes canonical documents to ``b2b.out`` and reads what the gateway delivers on ``b2b.erp``.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import yaml
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection

from b2b_gateway.api import create_app
from b2b_gateway.api.edges import attach_edges
from b2b_gateway.api.gateway_ops import OpsHandle, attach_operations
from b2b_gateway.runtime import Gateway
from b2b_gateway.security.files import save_entry
from b2b_gateway.security.keys import generate_private_key, issue_certificate
from b2b_gateway.settings import Settings
from b2b_gateway.store import MessageFilter, MessageSummary
from b2b_gateway.store.queries import MessageDetail
from tests.conftest import ROOT
from tests.scenarios.mocks import eventually

API_TOKEN = "scenario-api-token"
EINVOICE_TOKEN = "scenario-einvoice-token"
PASSPHRASE = "scenario-key-passphrase"
QUICK_RETRY = {"max_attempts": 25, "initial_delay_s": 0.05, "max_delay_s": 0.4}


def merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``patch`` merged in (mappings recursively; lists and values replaced)."""
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def copy_mappings(dest: Path, patches: dict[str, dict[str, Any]]) -> Path:
    """The shipped mappings (without their samples) in ``dest``, with profile ``patches`` by partner id."""
    shutil.copytree(ROOT / "mappings", dest, ignore=shutil.ignore_patterns("samples"))
    for partner_id, patch in patches.items():
        path = dest / partner_id / "partner.yaml"
        path.write_text(yaml.safe_dump(merge(yaml.safe_load(path.read_text()), patch), sort_keys=False))
    return dest


def canonical(partner: str, case: str, **changes: Any) -> dict[str, Any]:
    """A golden sample's canonical document (``mappings/<partner>/samples/<case>/canonical.json``), changed."""
    doc: dict[str, Any] = json.loads((ROOT / "mappings" / partner / "samples" / case / "canonical.json").read_text())
    return merge(doc, changes)


def as2_profile(partner: str, url: str, **more: Any) -> dict[str, Any]:
    """A shipped AS2 partner's profile pointed at a mock's ``url``, with quick retries."""
    channel = {
        "name": "as2",
        "kind": "as2",
        "url": url + "/as2",
        "as2_id": partner,
        "our_as2_id": "EURODIS",
        "mdn": "sync",
    }
    return {"channels": [channel], "retry": QUICK_RETRY, **more}


def purchase_order(number: str, **changes: Any) -> dict[str, Any]:
    """The ERP's order to MOCKEDI (the ``order-out`` golden sample) under another number."""
    return canonical("MOCKEDI", "order-out", document_number=number, **changes)


@dataclass
class ErpMessage:
    """A document the gateway delivered to the ERP."""

    document_type: str
    partner: str | None
    key: str
    message_id: str
    business_key: str | None
    document: dict[str, Any]


@dataclass
class Erp:
    """The ERP: publishes to ``b2b.out``, consumes ``b2b.erp``."""

    url: str
    prefix: str = ""
    received: list[ErpMessage] = field(default_factory=list)
    repeats: int = 0
    """Documents delivered again under a key already received (the contract: deduplicate by the key)."""
    connection: AbstractRobustConnection | None = None

    async def start(self) -> Erp:
        self.connection = await aio_pika.connect_robust(self.url)
        channel = await self.connection.channel()
        queue = await channel.declare_queue(f"{self.prefix}b2b.erp", passive=True)
        await queue.consume(self._on_message)
        return self

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        headers = message.headers or {}
        key = str(headers.get("idempotency-key"))
        if any(m.key == key for m in self.received):  # at least once: the ERP drops a key it already has
            self.repeats += 1
            await message.ack()
            return
        self.received.append(
            ErpMessage(
                document_type=str(headers.get("x-b2b-document-type")),
                partner=str(headers["x-b2b-partner"]) if headers.get("x-b2b-partner") else None,
                key=key,
                message_id=str(headers.get("x-b2b-message-id")),
                business_key=str(headers["x-b2b-business-key"]) if headers.get("x-b2b-business-key") else None,
                document=json.loads(message.body),
            )
        )
        await message.ack()

    async def publish(self, document: dict[str, Any], partner: str, message_id: str) -> None:
        """Send a canonical document to ``partner`` through the gateway (confirmed by the broker)."""
        assert self.connection is not None
        channel = await self.connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(f"{self.prefix}b2b.out")
        body = json.dumps(document).encode()
        await exchange.publish(
            aio_pika.Message(body, message_id=message_id, headers={"x-b2b-partner": partner}, delivery_mode=2),
            routing_key=f"{document['document_type']}.{partner}",
        )
        await channel.close()

    def of(self, document_type: str, partner: str | None = None) -> list[ErpMessage]:
        return [m for m in self.received if m.document_type == document_type and partner in (None, m.partner)]

    async def wait(self, what: str, **counts: int) -> None:
        """Wait until the ERP holds at least ``counts[document_type]`` documents of each type."""

        async def probe() -> dict[str, int]:
            return {t: len(self.of(t)) for t in counts}

        await eventually(probe, lambda seen: all(seen[t] >= n for t, n in counts.items()), what)

    async def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):
                await self.connection.close()


_KEY: dict[str, Any] = {}


def signing_key(certs: Path) -> None:
    """Our company's signing key (made once per session), saved into ``certs``."""
    if not _KEY:
        key = generate_private_key("ec", 256)
        _KEY.update(key=key, cert=issue_certificate("EURODIS signing", key, days=30))
    save_entry(certs, "eurodis", [_KEY["cert"]], _KEY["key"], PASSPHRASE.encode())


class Scenario:
    """One gateway for one scenario (see the module docstring); ``async with Scenario(...) as s``."""

    def __init__(
        self,
        tmp: Path,
        amqp_url: str,
        *,
        partners: dict[str, dict[str, Any]] | None = None,
        settings: dict[str, Any] | None = None,
    ) -> None:
        self.tmp = tmp
        self.amqp_url = amqp_url
        self.patches = partners or {}
        self.overrides = settings or {}
        self.gateway: Gateway | None = None
        self.ops: OpsHandle | None = None
        self._stop = asyncio.Event()
        self.prefix = f"s{uuid.uuid4().hex[:8]}."
        """Each scenario has exchanges and queues of its own in the shared vhost."""
        self.erp = Erp(amqp_url, self.prefix)

    def settings(self) -> Settings:
        tokens = self.tmp / "inbound-tokens"
        tokens.write_text(f"{EINVOICE_TOKEN} MOCKEINVOICE\n")
        data: dict[str, Any] = {
            "company_id": "EURODIS",
            "paths": {
                "data_dir": self.tmp / "var",
                "mappings_dir": self.tmp / "mappings",
                "certs_dir": self.tmp / "certs",
            },
            "amqp": {"url": self.amqp_url, "retry_delays_ms": (100, 200), "prefetch": 20, **self.names()},
            "http": {"enabled": True, "port": 0, "inbound_tokens_file": tokens},
            "delivery": {
                "poll_interval_s": 0.05,
                "initial_delay_s": 0.05,
                "max_delay_s": 0.5,
                "breaker_cooldown_s": 0.3,
                "ack_check_interval_s": 3600,
            },
            "directories": {"settle_s": 0.05, "poll_interval_s": 0.05},
            "store": {"queue_poll_s": 0.05},
            "security": {"api_token": API_TOKEN, "key_passphrase": PASSPHRASE},
        }
        return Settings(**merge(data, self.overrides))

    def names(self) -> dict[str, str]:
        p = self.prefix
        return {
            "exchange_in": f"{p}b2b.in",
            "exchange_out": f"{p}b2b.out",
            "exchange_erp": f"{p}b2b.erp",
            "exchange_dead": f"{p}b2b.dead",
            "queue_in": f"{p}b2b.in.gateway",
            "queue_out": f"{p}b2b.out.gateway",
            "queue_erp": f"{p}b2b.erp",
        }

    async def __aenter__(self) -> Scenario:
        copy_mappings(self.tmp / "mappings", self.patches)
        signing_key(self.tmp / "certs")
        self.gateway = gateway = Gateway(self.settings(), app_factory=create_app)
        attach_edges(gateway)  # AS2, as `b2b-gateway run` does
        self.ops = attach_operations(gateway, self._stop)  # the REST API (conversations), dashboard, alerts
        await gateway.start()
        gateway.start_background()
        await self.erp.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.erp.close()
        self._stop.set()
        if self.gateway is not None:
            await self.gateway.stop()
        if self.ops is not None:
            await self.ops.close()

    @property
    def gw(self) -> Gateway:
        assert self.gateway is not None
        return self.gateway

    @property
    def url(self) -> str:
        assert self.gw.http is not None
        return self.gw.http.url

    @property
    def webhook(self) -> str:
        """Where software that cannot set headers posts documents (the token speaks for MOCKEINVOICE)."""
        return f"{self.url}/api/v1/documents?token={EINVOICE_TOKEN}"

    async def api(self, path: str) -> Any:
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as client:
            reply = await client.get(path, headers={"Authorization": f"Bearer {API_TOKEN}"})
        assert reply.status_code == 200, reply.text
        return reply.json()

    async def messages(self, **flt: Any) -> list[MessageSummary]:
        assert self.gw.repo is not None
        return await self.gw.repo.list_messages(MessageFilter(limit=500, **flt))

    async def detail(self, message_id: str) -> MessageDetail:
        assert self.gw.repo is not None
        return await self.gw.repo.get(message_id)

    async def sent(self, document_type: str, key: str) -> MessageSummary:
        """The outbound message of ``document_type`` with business key ``key``, once it is delivered."""

        async def probe() -> list[MessageSummary]:
            return await self.messages(direction="outbound", document_type=document_type, business_key=key)

        found = await eventually(
            probe, lambda ms: any(m.state == "delivered" for m in ms), f"{document_type} {key} sent"
        )
        return next(m for m in found if m.state == "delivered")
