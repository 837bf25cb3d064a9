"""Raising operational alerts: a log event and a metric always, and a JSON POST to a webhook when configured.

An alert has a ``kind`` (``unacknowledged``, ``dead_letters``, ``certificate_expiry``), a stable
``key`` (what it is about), a summary and details. The notifier raises each (kind, key) once while
its condition holds and again once it has cleared and come back, so a webhook is not flooded every
check. A webhook that fails is logged and counted; the alert still stands in the log and the metric.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from b2b_gateway.observability.logging import get_logger
from b2b_gateway.observability.metrics import GatewayMetrics

__all__ = ["Alert", "AlertNotifier"]

log = get_logger("b2b_gateway.alerts")


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert condition."""

    kind: str
    key: str
    summary: str
    severity: str = "warning"
    details: dict[str, Any] = field(default_factory=dict)
    at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "key": self.key,
            "summary": self.summary,
            "severity": self.severity,
            "details": self.details,
            "at": self.at.isoformat(),
            "source": "b2b-gateway",
        }


class AlertNotifier:
    """Sends alerts to the log, the metrics and (optionally) a webhook.

    Args:
        metrics: where ``b2b_alerts_total`` and ``b2b_alerts_active`` are counted.
        webhook_url: POST each new alert here as JSON (never logged: it may hold a token).
        timeout_s: the webhook's timeout.
    """

    def __init__(self, metrics: GatewayMetrics, *, webhook_url: str | None = None, timeout_s: float = 10.0) -> None:
        self.metrics = metrics
        self._url = webhook_url
        self._timeout = timeout_s
        self.active: dict[tuple[str, str], Alert] = {}
        self.sent: list[Alert] = []

    async def publish(self, kinds: Iterable[str], alerts: Iterable[Alert]) -> list[Alert]:
        """Report the conditions holding now for ``kinds``; return the alerts that are new.

        Conditions of those kinds that no longer hold are cleared (and may alert again later).
        """
        kinds = set(kinds)
        current = {(a.kind, a.key): a for a in alerts}
        new = [a for k, a in current.items() if k not in self.active]
        for key in [k for k in self.active if k[0] in kinds and k not in current]:
            log.info("alert.cleared", kind=key[0], key=key[1])
            del self.active[key]
        self.active.update(current)
        for kind in kinds:
            self.metrics.alerts_active.labels(kind).set(sum(1 for k in self.active if k[0] == kind))
        for alert in new:
            await self.raise_alert(alert)
        return new

    async def raise_alert(self, alert: Alert) -> None:
        """Log, count and (when configured) POST one alert."""
        log.warning("alert", kind=alert.kind, key=alert.key, summary=alert.summary, severity=alert.severity)
        self.metrics.alerts.labels(alert.kind).inc()
        self.sent.append(alert)
        if self._url is None:
            return
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                response = await client.post(self._url, json=alert.to_dict())
            response.raise_for_status()
        except httpx.HTTPError as exc:
            self.metrics.webhook_failures.inc()
            log.error("alert.webhook_failed", kind=alert.kind, key=alert.key, error=type(exc).__name__)
