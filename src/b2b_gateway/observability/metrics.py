"""Prometheus metrics, one registry per :class:`GatewayMetrics` (no process-global state).

Counters and histograms are fed by the pipeline through :meth:`GatewayMetrics.observe` (an
``EventObserver`` for ``PipelineContext.observers``); gauges (queue depths, outbox, dead letters,
unacknowledged documents, certificate expiry) are set from a :class:`Snapshot` just before each
scrape. Labels are low-cardinality: partners outside the configured set become ``other``.

Several processes (``b2b-gateway run --workers N``): each counts what it processed, and the counters
and histograms of them all are summed at a scrape. prometheus_client keeps them in files under
:data:`MULTIPROCESS_ENV` (``PROMETHEUS_MULTIPROC_DIR``, which the supervisor sets for its processes);
the gauges, set from the store by the process that serves the scrape, are that process's own.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector

__all__ = ["CONTENT_TYPE", "MULTIPROCESS_ENV", "GatewayMetrics", "Snapshot"]

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
"""Where the processes of one supervisor keep their counters (prometheus_client reads it at import)."""
_SUMMED = frozenset({"counter", "histogram"})

CONTENT_TYPE = CONTENT_TYPE_LATEST
_STAGE_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_DOCUMENT_TYPES = frozenset(
    {"order", "order_response", "order_change", "despatch_advice", "invoice", "credit_note", "status", "contrl", "mdn"}
)
_LAST_STAGE = "deliver"
_DESTINATION_KINDS = frozenset({"erp", "partner", "directory", "dir", "queue", "amqp", "http", "as2"})
_LABELS: dict[Any, str] = {}


def _label(value: Any) -> str:
    """An enum member's value as a label (remembered: an enum's ``value`` is a slow property), or ``str(value)``."""
    found = _LABELS.get(value)
    if found is None:
        found = str(getattr(value, "value", value))
        if len(_LABELS) < 256:
            _LABELS[value] = found
    return found


_FINAL = frozenset({"delivered", "rejected", "quarantined", "failed", "duplicate", "cancelled", "parked"})


class _Event(Protocol):
    @property
    def stage(self) -> str: ...
    @property
    def at(self) -> dt.datetime: ...


class _Message(Protocol):
    """What the observer reads of a pipeline message (kept structural: observability imports nothing)."""

    @property
    def id(self) -> str: ...
    @property
    def direction(self) -> Any: ...
    @property
    def partner_id(self) -> str | None: ...
    @property
    def document_type(self) -> str | None: ...
    @property
    def received_at(self) -> dt.datetime: ...
    @property
    def state(self) -> Any: ...
    @property
    def events(self) -> list[Any]: ...


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The gauges' values at one moment, read from the store, the broker and the certificate store."""

    queue_depths: Mapping[str, int] = field(default_factory=dict)
    outbox_pending: int = 0
    outbox: Mapping[str, int] = field(default_factory=dict)
    """Outbox entries per state (pending, delivered, dead)."""
    dead_lettered: int = 0
    unacknowledged: Mapping[str, int] = field(default_factory=dict)
    """Overdue unacknowledged documents per partner."""
    certificate_expiry: Mapping[str, float] = field(default_factory=dict)
    """Certificate name -> ``notAfter`` as a Unix timestamp."""
    messages_by_state: Mapping[str, int] = field(default_factory=dict)


class GatewayMetrics:
    """The gateway's metrics in their own :class:`CollectorRegistry`.

    Args:
        version: the package version, exported as ``b2b_build_info``.
        partners: the configured partner ids; any other value is labelled ``other``.
        registry: a registry to use (a fresh one by default).
    """

    def __init__(
        self,
        version: str,
        *,
        partners: Collection[str] | Callable[[], Collection[str]] = (),
        registry: CollectorRegistry | None = None,
        shared_dir: Path | None = None,
    ) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self.shared_dir = shared_dir
        """The processes' shared counter files (:data:`MULTIPROCESS_ENV`), or ``None`` for this process alone."""
        self._partners = partners
        self._counted: OrderedDict[str, None] = OrderedDict()
        self._stage_timers: dict[tuple[str, str], Any] = {}
        """(direction, stage) -> its histogram child (``labels`` looks it up under a lock each time)."""
        r = self.registry
        self.messages = Counter(
            "b2b_messages",
            "Messages out of the pipeline, by the state they left it in (routed: handed to the outbox relay)",
            ["direction", "partner", "document_type", "status"],
            registry=r,
        )
        self.stage_duration = Histogram(
            "b2b_stage_duration_seconds",
            "Time spent in each pipeline stage",
            ["direction", "stage"],
            buckets=_STAGE_BUCKETS,
            registry=r,
        )
        self.delivery_attempts = Counter(
            "b2b_delivery_attempts",
            "Outbox delivery attempts by destination kind (erp, partner, directory, queue) and verdict",
            ["destination", "verdict"],
            registry=r,
        )
        self.queue_depth = Gauge("b2b_queue_depth", "Messages waiting in each queue", ["queue"], registry=r)
        self.outbox_pending = Gauge("b2b_outbox_pending", "Outputs in the outbox not yet delivered", registry=r)
        self.outbox = Gauge("b2b_outbox_entries", "Outbox entries by state", ["state"], registry=r)
        self.dead_lettered = Gauge("b2b_dead_lettered", "Messages in the dead-letter queue", registry=r)
        self.unacknowledged = Gauge(
            "b2b_unacknowledged_documents", "Sent documents past their acknowledgment deadline", ["partner"], registry=r
        )
        self.cert_expiry = Gauge(
            "b2b_certificate_expiry_timestamp_seconds", "When each certificate expires", ["certificate"], registry=r
        )
        self.by_state = Gauge("b2b_messages_in_state", "Stored messages per state", ["state"], registry=r)
        self.alerts = Counter("b2b_alerts", "Alerts raised", ["kind"], registry=r)
        self.alerts_active = Gauge("b2b_alerts_active", "Alert conditions holding now", ["kind"], registry=r)
        self.webhook_failures = Counter("b2b_alert_webhook_failures", "Alert webhook POSTs that failed", registry=r)
        Info("b2b_build", "The running gateway build", registry=r).info({"version": version})

    def partner_label(self, partner: str | None) -> str:
        """``partner`` when it is a configured partner, ``unknown`` when absent, ``other`` otherwise."""
        if not partner:
            return "unknown"
        known = self._partners() if callable(self._partners) else self._partners
        return partner if partner in known else "other"

    def observe(self, message: _Message, event: _Event) -> None:
        """Pipeline observer: one stage duration per event, one count per message leaving the pipeline.

        A message leaves the pipeline in a final state (delivered, rejected, quarantined …) or, handed to
        the outbox relay after the ``deliver`` stage, as ``routed``: its delivery shows in the outbox gauges.
        """
        direction = _label(message.direction)
        events = message.events
        last = len(events) - 1
        index = (
            last
            if last >= 0 and events[last] is event
            else next((i for i in range(last, -1, -1) if events[i] is event), -1)
        )
        start = events[index - 1].at if index > 0 else message.received_at
        timer = self._stage_timers.get((direction, event.stage))
        if timer is None:
            timer = self._stage_timers[(direction, event.stage)] = self.stage_duration.labels(direction, event.stage)
        timer.observe(max(0.0, (event.at - start).total_seconds()))
        state = _label(message.state)
        done = state in _FINAL or event.stage == _LAST_STAGE
        if done and event is events[-1] and message.id not in self._counted:
            self._counted[message.id] = None
            if len(self._counted) > 100_000:
                self._counted.popitem(last=False)
            self.messages.labels(
                direction, self.partner_label(message.partner_id), document_label(message.document_type), state
            ).inc()

    def observe_delivery(self, outcome: Any) -> None:
        """Outbox relay observer: one count per delivery attempt (``delivered``, ``retry`` or ``dead``)."""
        destination = str(getattr(outcome.item, "destination", "") or "unknown")
        kind = destination.split(":", 1)[0] if ":" in destination else destination
        self.delivery_attempts.labels(kind if kind in _DESTINATION_KINDS else "other", str(outcome.verdict)).inc()

    def update(self, snapshot: Snapshot) -> None:
        """Set every gauge from ``snapshot`` (label values absent from it are removed)."""
        _set_all(self.queue_depth, snapshot.queue_depths)
        self.outbox_pending.set(snapshot.outbox_pending)
        _set_all(self.outbox, snapshot.outbox)
        self.dead_lettered.set(snapshot.dead_lettered)
        unacked: dict[str, float] = {}
        for partner, count in snapshot.unacknowledged.items():
            label = self.partner_label(partner)
            unacked[label] = unacked.get(label, 0) + count
        _set_all(self.unacknowledged, unacked)
        _set_all(self.cert_expiry, snapshot.certificate_expiry)
        _set_all(self.by_state, snapshot.messages_by_state)

    def render(self) -> bytes:
        """The registry in the Prometheus text exposition format (with :attr:`shared_dir`: the counters and
        histograms summed over every process, the gauges of this one)."""
        if self.shared_dir is None:
            return generate_latest(self.registry)
        merged = CollectorRegistry(auto_describe=False)
        merged.register(_Merged(self.registry, self.shared_dir))
        return generate_latest(merged)


def document_label(document_type: str | None) -> str:
    """A known document type as is, ``unknown`` when absent, ``other`` for anything else (bounded labels)."""
    if not document_type:
        return "unknown"
    return document_type if document_type in _DOCUMENT_TYPES else "other"


def _set_all(gauge: Gauge, values: Mapping[str, float]) -> None:
    gauge.clear()
    for label, value in values.items():
        gauge.labels(label).set(value)


class _Merged:
    """The counters and histograms of every process (from the shared files), this process's other metrics."""

    def __init__(self, own: CollectorRegistry, shared_dir: Path) -> None:
        self.own = own
        self.shared_dir = shared_dir

    def collect(self) -> Iterator[Metric]:
        every = CollectorRegistry(auto_describe=False)
        MultiProcessCollector(every, str(self.shared_dir))  # type: ignore[no-untyped-call]
        yield from (m for m in every.collect() if m.type in _SUMMED)
        yield from (m for m in self.own.collect() if m.type not in _SUMMED)
