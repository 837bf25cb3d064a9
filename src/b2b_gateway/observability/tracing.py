"""OpenTelemetry tracing (the ``tracing`` extra): one trace per document across stages, queues and processes.

A document's trace travels with it as W3C trace context (``traceparent``, ``tracestate``):

* when it arrives (a queue message's headers, ``POST /api/v1/documents``, AS2), an incoming
  ``traceparent`` is kept in the message's metadata (:func:`trace_context`), and the worker makes sure
  every message has one (:func:`continue_trace`: without one, the trace id is the correlation id, so
  every process that handles the document, or a document split from it, joins the same trace);
* the metadata is stored with the message, and each output gets its own ``traceparent`` in that trace
  (:func:`outgoing_trace`) in its outbox headers, so the relay delivering it later (to the ERP
  exchange, ``b2b.out``, a partner's HTTP endpoint) hands the trace on;
* with tracing off none of this happens (:func:`strip_trace`).

These helpers are plain string handling: OpenTelemetry is imported only by :class:`Tracing`.

Spans are made from the pipeline's audit events (:meth:`Tracing.observe`, an ``EventObserver``), with
the events' own timestamps, so the pipeline needs no tracing code. Without the extra installed,
:func:`build_tracing` returns ``None`` and nothing else changes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections.abc import Mapping, MutableMapping
from typing import Any

from b2b_gateway.errors import SettingsError
from b2b_gateway.settings import TracingSettings

__all__ = [
    "TRACEPARENT",
    "TRACESTATE",
    "Tracing",
    "build_tracing",
    "continue_trace",
    "correlation_from_headers",
    "inject_headers",
    "outgoing_trace",
    "parse_traceparent",
    "strip_trace",
    "trace_context",
    "traceparent",
]

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
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


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return str(value or "").strip()


def parse_traceparent(value: Any) -> tuple[str, str, str] | None:
    """(trace id, parent span id, flags) of a well-formed version-00 ``traceparent``, else ``None``."""
    match = _TRACEPARENT.match(_text(value).lower())
    if match is None or match.group(1) == "0" * 32 or match.group(2) == "0" * 16:
        return None
    return match.group(1), match.group(2), match.group(3)


def trace_context(headers: Mapping[str, Any] | None) -> dict[str, str]:
    """The valid ``traceparent`` (and its ``tracestate``) of AMQP or HTTP ``headers``, as metadata."""
    headers = headers or {}
    parent = headers.get(TRACEPARENT)
    if parse_traceparent(parent) is None:
        return {}
    out = {TRACEPARENT: _text(parent).lower()}
    state = _text(headers.get(TRACESTATE))[:512]
    if state:
        out[TRACESTATE] = state
    return out


def continue_trace(metadata: MutableMapping[str, str], correlation_id: str, message_id: str) -> None:
    """Make sure ``metadata`` holds a valid ``traceparent``: the incoming one, or one in the trace of
    ``correlation_id`` (itself when it is 32 hex digits, else derived from it)."""
    if parse_traceparent(metadata.get(TRACEPARENT)) is not None:
        return
    metadata.pop(TRACESTATE, None)
    trace_id = correlation_id.lower() if re.fullmatch(r"[0-9a-fA-F]{32}", correlation_id) else None
    if trace_id is None or trace_id == "0" * 32:
        trace_id = hashlib.sha256(correlation_id.encode()).hexdigest()[:32]
    metadata[TRACEPARENT] = traceparent(trace_id, _span_of(message_id))


def strip_trace(metadata: MutableMapping[str, str]) -> None:
    """Tracing off: forget any incoming trace context."""
    metadata.pop(TRACEPARENT, None)
    metadata.pop(TRACESTATE, None)


def outgoing_trace(metadata: Mapping[str, str], seed: str) -> dict[str, str]:
    """Headers continuing the message's trace for one output (``seed``: the output id, a stable span id)."""
    parsed = parse_traceparent(metadata.get(TRACEPARENT))
    if parsed is None:
        return {}
    out = {TRACEPARENT: f"00-{parsed[0]}-{_span_of(seed)}-{parsed[2]}"}
    if metadata.get(TRACESTATE):
        out[TRACESTATE] = metadata[TRACESTATE]
    return out


def _span_of(seed: str) -> str:
    span = hashlib.sha256(seed.encode()).hexdigest()[:16]
    return span if span != "0" * 16 else "1".rjust(16, "0")


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

        incoming = parse_traceparent((getattr(message, "metadata", None) or {}).get(TRACEPARENT))
        try:
            if incoming is not None:  # the trace (and the parent span) the document arrived in
                trace_id, span_id = int(incoming[0], 16), int(incoming[1], 16)
            else:
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
