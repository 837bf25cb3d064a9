"""Fixtures for the scenario tests: the broker vhost of the delivery tests, and the mocks' logs."""

from __future__ import annotations

from tests.delivery.conftest import vhost

__all__ = ["vhost"]
