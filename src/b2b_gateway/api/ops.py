"""The operations service: one object the API, the dashboard, ``status``, metrics and alerts all read.

:class:`Operations` puts together the store, the broker, the certificates and the partner profiles
behind the protocols of :mod:`b2b_gateway.api.ports`, and computes what operators look at: the
overview, readiness, the metrics snapshot and the alert conditions.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from b2b_gateway.api.ports import (
    Action,
    AwaitingAck,
    CertificateInfo,
    CertificateSource,
    MessagePage,
    MessageQuery,
    MessageRecord,
    MessageRow,
    OpsStore,
    QueueDepth,
    QueueMonitor,
    ThroughputBucket,
)
from b2b_gateway.errors import GatewayError
from b2b_gateway.observability.alerts import Alert, AlertNotifier
from b2b_gateway.observability.logging import get_logger
from b2b_gateway.observability.metrics import GatewayMetrics, Snapshot
from b2b_gateway.partners.directory import PartnerDirectory
from b2b_gateway.settings import Settings

__all__ = ["ALERT_KINDS", "Operations", "Overview", "ReadinessCheck"]

log = get_logger("b2b_gateway.ops")

ReadinessCheck = Callable[[], Awaitable[None]]
ALERT_KINDS = ("unacknowledged", "dead_letters", "certificate_expiry")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class Overview:
    """What the dashboard's first page and ``b2b-gateway status`` show."""

    at: dt.datetime
    throughput: list[ThroughputBucket]
    states: dict[str, int]
    queues: list[QueueDepth]
    dead_letters: int
    outbox_pending: int
    overdue: list[AwaitingAck]
    awaiting: int
    expiring: list[CertificateInfo]
    alerts: list[Alert] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "throughput": [
                {"start": b.start.isoformat(), "received": b.received, "delivered": b.delivered, "failed": b.failed}
                for b in self.throughput
            ],
            "states": self.states,
            "queues": [
                {"name": q.name, "messages": q.messages, "consumers": q.consumers, "dead_letter": q.dead_letter}
                for q in self.queues
            ],
            "dead_letters": self.dead_letters,
            "outbox_pending": self.outbox_pending,
            "awaiting_ack": self.awaiting,
            "overdue_ack": [awaiting_dict(a) for a in self.overdue],
            "certificates_expiring": [certificate_dict(c, self.at) for c in self.expiring],
            "alerts": [a.to_dict() for a in self.alerts],
        }


def awaiting_dict(a: AwaitingAck) -> dict[str, Any]:
    return {
        "message_id": a.message_id,
        "partner": a.partner,
        "document_type": a.document_type,
        "business_key": a.business_key,
        "sent_at": a.sent_at.isoformat(),
        "deadline": a.deadline.isoformat() if a.deadline else None,
    }


def certificate_dict(c: CertificateInfo, now: dt.datetime) -> dict[str, Any]:
    return {
        "name": c.name,
        "subject": c.subject,
        "issuer": c.issuer,
        "not_before": c.not_before.isoformat(),
        "not_after": c.not_after.isoformat(),
        "days_left": round(c.days_left(now), 1),
        "fingerprint_sha256": c.fingerprint_sha256,
        "partner": c.partner,
    }


class Operations:
    """Everything operators see and do, over the injected services."""

    def __init__(
        self,
        store: OpsStore,
        settings: Settings,
        *,
        metrics: GatewayMetrics,
        partners: PartnerDirectory | None = None,
        queues: QueueMonitor | None = None,
        certificates: CertificateSource | None = None,
        notifier: AlertNotifier | None = None,
        checks: Mapping[str, ReadinessCheck] | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.metrics = metrics
        self.partners = partners or PartnerDirectory()
        self.queues = queues
        self.certs = certificates
        self.notifier = notifier or AlertNotifier(metrics)
        self._checks: dict[str, ReadinessCheck] = {"store": store.ping}
        if queues is not None:
            self._checks["broker"] = queues.ping
        self._checks.update(checks or {})
        self._dead_letters_seen: int | None = None

    # --- reads ---------------------------------------------------------------------------------

    async def list_messages(self, query: MessageQuery) -> MessagePage:
        return await self.store.list_messages(query)

    async def message(self, message_id: str) -> MessageRecord | None:
        return await self.store.get_message(message_id)

    async def lineage(self, message_id: str) -> list[MessageRow]:
        return await self.store.lineage(message_id)

    async def timeline(self, key: str, kind: str = "order") -> dict[str, Any]:
        """One order's (or invoice's) conversation, each entry marked when its acknowledgment is awaited or overdue."""
        view = await self.store.timeline(key, kind)
        awaiting = {a.message_id: a for a in await self.awaiting()}
        now = _now()
        for entry in view["entries"]:
            found = awaiting.get(entry["message_id"])
            entry["awaiting_ack"], entry["ack_overdue"] = found is not None, found is not None and found.overdue(now)
        return view

    async def conversation(self, key: str) -> list[MessageRow]:
        """Every document about order (or invoice) number ``key``, oldest first, with its milestone."""
        return await self.store.conversation(key)

    async def act(self, action: Action, message_id: str, *, actor: str, reason: str = "") -> MessageRow:
        """Carry out an operator action; the store records it in the message's audit trail."""
        message = await self.store.act(action, message_id, actor=actor, reason=reason)
        log.info("operator.action", action=action.value, message_id=message_id, actor=actor, state=message.state)
        return message

    async def queue_depths(self) -> list[QueueDepth]:
        return await self.queues.depths() if self.queues is not None else []

    def certificates(self) -> list[CertificateInfo]:
        return self.certs.certificates() if self.certs is not None else []

    def expiring(self, now: dt.datetime) -> list[CertificateInfo]:
        days = self.settings.security.cert_warning_days
        return [c for c in self.certificates() if c.days_left(now) <= days]

    def deadline_of(self, item: AwaitingAck) -> dt.datetime:
        """The item's deadline: its own, else its partner profile's, else the default from the settings."""
        if item.deadline is not None:
            return item.deadline
        profile = self.partners.get(item.partner) if item.partner else None
        minutes = (profile.acknowledgments.deadline_minutes if profile else None) or (
            self.settings.alerts.ack_deadline_minutes
        )
        return item.sent_at + dt.timedelta(minutes=minutes)

    async def awaiting(self) -> list[AwaitingAck]:
        """Documents waiting for an acknowledgment, each with its effective deadline."""
        items = await self.store.awaiting_ack()
        return [
            AwaitingAck(a.message_id, a.partner, a.document_type, a.business_key, a.sent_at, self.deadline_of(a))
            for a in items
        ]

    async def overview(self, *, hours: int = 24, now: dt.datetime | None = None) -> Overview:
        now = now or _now()
        since = (now - dt.timedelta(hours=hours)).replace(minute=0, second=0, microsecond=0)
        throughput, states, queues, dead, outbox, awaiting = await asyncio.gather(
            self.store.throughput(since, dt.timedelta(hours=1)),
            self.store.state_counts(),
            self.queue_depths(),
            self.store.dead_letters(),
            self.store.outbox_pending(),
            self.awaiting(),
        )
        return Overview(
            at=now,
            throughput=throughput,
            states=states,
            queues=queues,
            dead_letters=dead,
            outbox_pending=outbox,
            overdue=[a for a in awaiting if a.overdue(now)],
            awaiting=len(awaiting),
            expiring=self.expiring(now),
            alerts=list(self.notifier.active.values()),
        )

    # --- health, metrics, alerts ----------------------------------------------------------------

    async def readiness(self) -> dict[str, str]:
        """``ok`` or the error for each dependency (store, broker, keys …)."""
        out: dict[str, str] = {}
        for name, check in self._checks.items():
            try:
                await check()
            except GatewayError as exc:
                out[name] = f"{exc.code}: {exc.message}"
            except Exception as exc:  # a readiness probe reports, never crashes
                out[name] = f"{type(exc).__name__}: {exc}"
            else:
                out[name] = "ok"
        return out

    async def snapshot(self, now: dt.datetime | None = None) -> Snapshot:
        """The metrics gauges' values now."""
        now = now or _now()
        overview = await self.overview(hours=1, now=now)
        unacked: dict[str, int] = {}
        for item in overview.overdue:
            unacked[item.partner or ""] = unacked.get(item.partner or "", 0) + 1
        return Snapshot(
            queue_depths={q.name: q.messages for q in overview.queues},
            outbox_pending=overview.outbox_pending,
            outbox=await self.store.outbox_counts(),
            dead_lettered=overview.dead_letters,
            unacknowledged=unacked,
            certificate_expiry={c.name: c.not_after.timestamp() for c in self.certificates()},
            messages_by_state=overview.states,
        )

    async def refresh_metrics(self) -> bytes:
        """Update the gauges and render the registry (what ``/metrics`` serves)."""
        self.metrics.update(await self.snapshot())
        return self.metrics.render()

    async def check_alerts(self, now: dt.datetime | None = None) -> list[Alert]:
        """Evaluate the alert conditions; return the alerts raised by this check."""
        now = now or _now()
        alerts: list[Alert] = []
        for item in await self.awaiting():
            if item.overdue(now):
                alerts.append(
                    Alert(
                        "unacknowledged",
                        item.message_id,
                        f"{item.document_type or 'document'} {item.business_key or item.message_id} to "
                        f"{item.partner or 'unknown partner'} unacknowledged past its deadline",
                        details=awaiting_dict(item),
                    )
                )
        dead = await self.store.dead_letters()
        previous, self._dead_letters_seen = self._dead_letters_seen, dead
        growth = dead - (previous if previous is not None else 0)
        if growth >= self.settings.alerts.dead_letter_growth and dead > 0:
            alerts.append(
                Alert(
                    "dead_letters",
                    f"dead-letters@{dead}",
                    f"dead letters grew by {growth} to {dead}",
                    severity="critical",
                    details={"dead_letters": dead, "growth": growth},
                )
            )
        for cert in self.expiring(now):
            days = cert.days_left(now)
            alerts.append(
                Alert(
                    "certificate_expiry",
                    cert.name,
                    f"certificate {cert.name} " + ("has expired" if days < 0 else f"expires in {days:.0f} days"),
                    severity="critical" if days < 7 else "warning",
                    details=certificate_dict(cert, now),
                )
            )
        return await self.notifier.publish(ALERT_KINDS, alerts)

    async def run_alerts(self, stop: asyncio.Event) -> None:
        """Check the alert conditions every ``alerts.interval_s`` until ``stop`` is set."""
        while not stop.is_set():
            try:
                await self.check_alerts()
            except GatewayError as exc:
                log.warning("alerts.check_failed", error=exc.code, detail=exc.message)
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.settings.alerts.interval_s)
            except TimeoutError:
                pass
