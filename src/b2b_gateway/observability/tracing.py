"""OpenTelemetry tracing (the ``tracing`` extra): one trace per document across stages, queues and processes.

The trace id *is* the message's correlation id (both are 128 bits), so every process that handles a
document, or a document split from it, adds its spans to the same trace without coordination. The
W3C ``traceparent`` header carries it across AMQP and HTTP hops: :func:`inject_headers` when
publishing, :func:`correlation_from_headers` when consuming.

Spans are made from the pipeline's audit events (:meth:`Tracing.observe`, an ``EventObserver``), with
the events' own timestamps, so the pipeline needs no tracing code. Without the extra installed,
:func:`build_tracing` returns ``None`` and nothing else changes.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import MutableMapping
from typing import Any

from b2b_gateway.errors import SettingsError
from b2b_gateway.settings import TracingSettings

__all__ = ["TRACEPARENT", "Tracing", "build_tracing", "correlation_from_headers", "inject_headers", "traceparent"]

TRACEPARENT = "traceparent"
_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def traceparent(correlation_id: str, span_id: str | None = None) -> str:
    """The W3C ``traceparent`` value for a message whose correlation id is ``correlation_id``."""
    return f"00-{correlation_id.lower()}-{span_id or os.urandom(8).hex()}-01"


def inject_headers(headers: MutableMapping[str, Any], correlation_id: str) -> MutableMapping[str, Any]:
    """Add the ``traceparent`` header for ``correlation_id`` to AMQP or HTTP ``headers`` (returned)."""
    if re.fullmatch(r"[0-9a-fA-F]{32}", correlation_id):
        headers[TRACEPARENT] = traceparent(correlation_id)
    return headers


def correlation_from_headers(headers: MutableMapping[str, Any] | None) -> str | None:
    """The correlation id (trace id) a ``traceparent`` header carries, if any and well-formed."""
    value = (headers or {}).get(TRACEPARENT)
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    match = _TRACEPARENT.match(str(value or "").strip())
    return match.group(1) if match and match.group(1) != "0" * 32 else None


def _ns(at: dt.datetime) -> int:
    return int(at.timestamp() * 1_000_000_000)


class Tracing:
    """Turns audit events into OpenTelemetry spans in the message's trace."""

    def __init__(self, settings: TracingSettings) -> None:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        self.provider = TracerProvider(resource=Resource.create({"service.name": settings.service_name}))
        self.memory: InMemorySpanExporter | None = None
        if settings.exporter == "console":
            self.provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
        elif settings.exporter == "memory":
            self.memory = InMemorySpanExporter()
            self.provider.add_span_processor(SimpleSpanProcessor(self.memory))
        self.tracer = self.provider.get_tracer("b2b_gateway")

    def observe(self, message: Any, event: Any) -> None:
        """Pipeline observer: one span per stage, in the trace whose id is the correlation id."""
        from opentelemetry import trace
        from opentelemetry.trace import NonRecordingSpan, SpanContext, Status, StatusCode, TraceFlags

        try:
            trace_id = int(message.correlation_id, 16)
            span_id = int(str(message.id)[-16:], 16) or 1  # the message's own (virtual) span
        except (TypeError, ValueError):
            return
        parent = SpanContext(
            trace_id=trace_id,
            span_id=span_id,
            is_remote=True,
            trace_flags=TraceFlags(TraceFlags.SAMPLED),
        )
        context = trace.set_span_in_context(NonRecordingSpan(parent))
        events = message.events
        index = next((i for i in range(len(events) - 1, -1, -1) if events[i] is event), -1)
        start = events[index - 1].at if index > 0 else message.received_at
        span = self.tracer.start_span(
            f"stage {event.stage}",
            context=context,
            start_time=_ns(start),
            attributes={
                "b2b.message_id": message.id,
                "b2b.direction": str(getattr(message.direction, "value", message.direction)),
                "b2b.partner": message.partner_id or "unknown",
                "b2b.document_type": message.document_type or "unknown",
                "b2b.outcome": event.outcome,
            },
        )
        if event.outcome == "error":
            span.set_status(Status(StatusCode.ERROR, event.detail[:200]))
        span.end(end_time=_ns(event.at))

    def shutdown(self) -> None:
        self.provider.shutdown()


def build_tracing(settings: TracingSettings) -> Tracing | None:
    """Tracing as configured, or ``None`` when disabled.

    Raises:
        SettingsError: tracing is enabled but the ``tracing`` extra is not installed.
    """
    if not settings.enabled:
        return None
    try:
        return Tracing(settings)
    except ImportError:
        raise SettingsError(
            "tracing is enabled but OpenTelemetry is not installed",
            hint="pip install 'b2b-gateway[tracing]' or set tracing.enabled = false",
        ) from None
