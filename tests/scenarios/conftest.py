"""Fixtures for the scenario tests: one private RabbitMQ vhost for them all (each scenario declares
exchanges and queues of its own names in it, see :class:`tests.scenarios.harness.Scenario`)."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator

import pytest

from tests.delivery.conftest import AMQP_BASE, rabbitmqctl


@pytest.fixture(scope="session")
def vhost() -> Iterator[str]:
    """A private vhost for the scenario tests (other sessions share the broker); its AMQP URL."""
    name = f"b2b-scenarios-{uuid.uuid4().hex[:12]}"
    rabbitmqctl("add_vhost", name)
    rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
    yield f"{AMQP_BASE}/{name}"
    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", name], capture_output=True, timeout=120, check=False)
