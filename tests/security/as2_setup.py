"""One AS2 station for tests: profiles, cert store, receive endpoint (router) and sender, as the runtime wires them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import FastAPI

from b2b_gateway.api import create_app
from b2b_gateway.api.as2 import as2_router
from b2b_gateway.as2 import As2Receiver, Inbound, MdnReceipt, OutboundMessage, SeenMessages
from b2b_gateway.errors import GatewayError
from b2b_gateway.partners import Channel, PartnerDirectory, PartnerIdentifier, PartnerProfile, SecurityPolicy
from b2b_gateway.pipeline import Output
from b2b_gateway.runtime.security import as2_lookup
from b2b_gateway.security.store import CertStore
from b2b_gateway.transport.as2 import As2Sender

T = TypeVar("T")


def profile(
    partner_id: str,
    *,
    url: str | None = None,
    our_as2_id: str = "GATEWAY",
    channel: dict[str, Any] | None = None,
    **security: Any,
) -> PartnerProfile:
    """A partner with one AS2 channel and the given security policy."""
    return PartnerProfile(
        id=partner_id,
        identifiers=[PartnerIdentifier(value=partner_id, kind="as2")],
        channels=[Channel(kind="as2", url=url, as2_id=partner_id, our_as2_id=our_as2_id, **(channel or {}))],
        security=SecurityPolicy(**security),
    )


@dataclass
class Station:
    """An AS2 endpoint and sender over one cert store and partner directory."""

    as2_id: str
    store: CertStore
    partners: list[PartnerProfile]
    seen: SeenMessages = field(default_factory=SeenMessages)
    received: list[Inbound] = field(default_factory=list)
    async_mdns: list[tuple[OutboundMessage, MdnReceipt]] = field(default_factory=list)
    refuse: GatewayError | None = None
    sender: As2Sender = field(init=False)

    def __post_init__(self) -> None:
        self.sender = As2Sender(self.store, our_as2_id=self.as2_id, on_async_mdn=self._on_async_mdn)

    async def _on_async_mdn(self, message: OutboundMessage, receipt: MdnReceipt) -> None:
        self.async_mdns.append((message, receipt))

    async def _on_payload(self, inbound: Inbound) -> None:
        if self.refuse is not None:
            raise self.refuse
        self.received.append(inbound)

    def app(self) -> FastAPI:
        directory = PartnerDirectory(self.partners)
        receiver = As2Receiver(
            as2_lookup(directory, self.store, our_as2_id=self.as2_id), is_duplicate=self.seen.is_duplicate
        )
        router = as2_router(receiver, self._on_payload, remember=self.seen.remember, on_mdn=self.sender.receive_mdn)
        return create_app([router])

    def partner(self, partner_id: str) -> PartnerProfile:
        return next(p for p in self.partners if p.id == partner_id)


def output(payload: bytes, filename: str = "orders.edi") -> Output:
    return Output(destination="partner:X", payload=payload, format="edifact", headers={"filename": filename})


async def eventually(probe: Callable[[], Awaitable[T]], ok: Callable[[T], bool], what: str, limit_s: float = 30.0) -> T:
    """Call ``probe`` until ``ok`` holds for its answer (bounded); return that answer."""
    deadline = time.monotonic() + limit_s
    while True:
        value = await probe()
        if ok(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}: last saw {value!r}")
        await asyncio.sleep(0.1)


async def wait_for(condition: Callable[[], object], what: str, limit_s: float = 30.0) -> None:
    """Poll ``condition`` (bounded), failing with ``what`` when it never holds."""
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
