"""Fixtures for the operations tests: an Operations over the in-memory twin (unit level)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from b2b_gateway._version import __version__
from b2b_gateway.api.auth import Authenticator
from b2b_gateway.api.certificates import PemDirectory
from b2b_gateway.api.ops import Operations
from b2b_gateway.api.server import authenticator_from, build_app
from b2b_gateway.observability.metrics import GatewayMetrics
from tests.ops.fake import FakeOpsStore, FakeQueues
from tests.ops.helpers import ops_settings, partners, sample_messages, write_certificate


@dataclass
class Rig:
    ops: Operations
    auth: Authenticator
    store: FakeOpsStore
    queues: FakeQueues
    client: httpx.AsyncClient


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    settings = ops_settings(tmp_path)
    write_certificate(tmp_path / "certs", "mockedi", "MOCKEDI AS2", days=12)
    write_certificate(tmp_path / "certs", "ours", "EURODIS AS2", days=300)
    directory = partners()
    store = FakeOpsStore(sample_messages())
    queues = FakeQueues()
    metrics = GatewayMetrics(__version__, partners=lambda: {p.id for p in directory})
    ops = Operations(
        store,
        settings,
        metrics=metrics,
        partners=directory,
        queues=queues,
        certificates=PemDirectory(settings.paths.certs_dir, partners=directory),
    )
    auth = authenticator_from(settings)
    app = build_app(ops, auth)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield Rig(ops, auth, store, queues, client)


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database on the local server (127.0.0.1:5432), dropped afterwards."""
    import os

    import asyncpg

    name = f"b2b_ops_{os.getpid()}_{os.urandom(3).hex()}"
    admin = await asyncpg.connect(host="127.0.0.1", port=5432, user="postgres", database="test")
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
