"""Fixtures for the store, transport, routing and delivery tests: a private RabbitMQ vhost, a private
PostgreSQL database, settings pointing at them, and canonical documents to send."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from b2b_gateway.settings import Settings
from tests.conftest import FIXTURES

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
AMQP_BASE = "amqp://guest:guest@127.0.0.1:5672"


def rabbitmqctl(*args: str) -> str:
    out = subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, f"rabbitmqctl {' '.join(args)} failed: {out.stderr or out.stdout}"
    return out.stdout


@pytest.fixture
def vhost() -> Iterator[str]:
    """A private RabbitMQ vhost (other test sessions share the broker); its AMQP URL."""
    name = f"b2b-test-{uuid.uuid4().hex[:12]}"
    rabbitmqctl("add_vhost", name)
    rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
    yield f"{AMQP_BASE}/{name}"
    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", name], capture_output=True, timeout=120, check=False)


def psql(sql: str, database: str = "test") -> str:
    out = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-qAtc", sql],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, f"psql failed: {out.stderr}"
    return out.stdout


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A private PostgreSQL database; its SQLAlchemy async URL."""
    name = f"b2b_test_{uuid.uuid4().hex[:12]}"
    psql(f"CREATE DATABASE {name}")
    yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    psql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
    psql(f"DROP DATABASE IF EXISTS {name}")


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The store on SQLite (WAL, under tmp) and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


def settings_for(tmp_path: Path, **sections: Any) -> Settings:
    """Settings with the data directory under ``tmp_path``, quick polling, and no HTTP unless asked."""
    data: dict[str, Any] = {
        "paths": {"data_dir": tmp_path / "var", "mappings_dir": tmp_path / "mappings"},
        "directories": {"settle_s": 0, "poll_interval_s": 0.05},
        "http": {"enabled": False},
        "store": {"queue_poll_s": 0.05},
        "delivery": {"poll_interval_s": 0.05, "initial_delay_s": 0.05, "max_delay_s": 0.2},
        "amqp": {"retry_delays_ms": (50, 100)},
    }
    for name, values in sections.items():
        data[name] = {**data.get(name, {}), **values}
    return Settings(**data)


def order(number: str, **changes: Any) -> bytes:
    """The fixture order with another document number (and other top-level changes)."""
    doc = json.loads((FIXTURES / "canonical" / "order.json").read_text())
    doc["document_number"] = number
    doc.update(changes)
    return json.dumps(doc).encode()


def invoice_broken() -> bytes:
    return (FIXTURES / "canonical" / "invoice_broken_totals.json").read_bytes()
