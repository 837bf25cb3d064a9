"""The real counterparties: ``mock-edi`` and ``mock-einvoice`` started as their own processes on loopback.

Each is driven over its HTTP control plane with an async client (the gateway under test runs in the
same event loop, and the mocks post to it while they answer us: a blocking client would deadlock).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

T = TypeVar("T")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def eventually(
    probe: Callable[[], Awaitable[T]], check: Callable[[T], bool], what: str, *, patience_s: float = 60.0
) -> T:
    """Poll ``probe`` until ``check`` holds; fail naming ``what`` (and the last value) when it never does.

    ``patience_s`` only bounds a hang: nothing is asserted about how long it took.
    """
    deadline = time.monotonic() + patience_s
    value = await probe()
    while not check(value):
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}; last seen: {value!r}"[:4000])
        await asyncio.sleep(0.05)
        value = await probe()
    return value


class MockProcess:
    """A mock started as ``python -m <module> --port P …``; its control plane over async HTTP."""

    module = ""
    health = ""

    def __init__(self, args: list[str], *, port: int | None = None, log: Path | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        out = log.open("ab") if log is not None else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [sys.executable, "-m", self.module, "--host", "127.0.0.1", "--port", str(self.port), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.module} exited at start ({self.proc.returncode}); see {log}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(self.url + self.health, timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.module} did not start on {self.url}")
            time.sleep(0.05)
        self.client = httpx.AsyncClient(base_url=self.url, timeout=60)

    async def call(self, method: str, path: str, body: Any = None, *, ok: tuple[int, ...] = (200, 201)) -> Any:
        """A control-plane request; fails the test on an unexpected status (with what the mock said)."""
        if method == "GET":
            reply = await self.client.get(path)
        else:
            reply = await self.client.request(method, path, json=body if body is not None else {})
        assert reply.status_code in ok, f"{method} {path} -> {reply.status_code}: {reply.text[:2000]}"
        if reply.headers.get("content-type", "").startswith("application/json"):
            return reply.json()
        return reply.text

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.client.aclose()
        self.stop()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(15)


class MockEdi(MockProcess):
    """``mock-edi``: MOCKEDI the supplier, or (``--as2-id MOCKBUYER``) a buyer."""

    module = "mockedi"
    health = "/_mock/health"

    @classmethod
    def start(cls, *args: str, log: Path | None = None) -> MockEdi:
        """Started with ``args`` (e.g. ``--error-rate 0.3``), quiet, on a free port (tried again if taken)."""
        for attempt in range(3):
            try:
                return cls(["--quiet", *args], log=log)
            except RuntimeError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def partner(self, partner_id: str, **changes: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("PATCH", f"/_mock/partners/{partner_id}", changes)
        return result

    async def timeline(self, po: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("GET", f"/_mock/orders/{po}/timeline")
        return result

    async def order(self, po: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("GET", f"/_mock/orders/{po}")
        return result

    async def outbox(self, partner: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = await self.call("GET", "/_mock/outbox")
        return [r for r in rows if r["partner"] == partner]

    async def unacknowledged(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = await self.call("GET", "/_mock/unacknowledged")
        return rows

    async def advance(self, seconds: int | None = None) -> dict[str, Any]:
        path = "/_mock/advance?all" if seconds is None else f"/_mock/advance?seconds={seconds}"
        result: dict[str, Any] = await self.call("POST", path)
        return result


class MockEinvoice(MockProcess):
    """``mock-einvoice``: a Peppol buyer (``POST /invoices``) and supplier (``POST /responses``)."""

    module = "mockeinvoice"
    health = "/_mock/health"

    @classmethod
    def start(cls, *args: str, port: int, log: Path | None = None) -> MockEinvoice:
        return cls(["-q", *args], port=port, log=log)
