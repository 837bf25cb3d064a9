"""The store's tables (SQLAlchemy Core). Alembic migrations in ``store/migrations`` create them.

Lineage: every message row carries ``parent_id`` (the interchange it was split from, or nothing) and
``root_id`` (the input as received), so an interchange, its messages and their outputs are one tree.
Payloads (raw inputs, canonical JSON, rendered outputs) are archived once, content-addressed by
SHA-256 and compressed (zstd; zlib for payloads stored by versions before 2026-12-07). The audit trail
and the error list are append-only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import BYTEA, JSONB
from sqlalchemy.types import DateTime, TypeDecorator

__all__ = [
    "ID",
    "AutoId",
    "Json",
    "UtcDateTime",
    "acknowledgments",
    "audit_events",
    "business_refs",
    "counters",
    "dedup",
    "errors",
    "messages",
    "metadata",
    "outbox",
    "outputs",
    "payloads",
    "queue_messages",
    "signatures",
]


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Timestamps stored in UTC and read back timezone-aware, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        value = value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


ID = String(32)
Json = JSON().with_variant(JSONB(), "postgresql")
AutoId = BigInteger().with_variant(Integer(), "sqlite")
Blob = LargeBinary().with_variant(BYTEA(), "postgresql")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

messages = Table(
    "messages",
    metadata,
    Column("id", ID, primary_key=True),
    Column("root_id", ID, nullable=False, index=True),
    Column("parent_id", ID, index=True),
    Column("correlation_id", String(64), nullable=False, index=True),
    Column("replay_of", ID),
    Column("direction", String(16), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("partner_id", String(64)),
    Column("format", String(32)),
    Column("document_type", String(32)),
    Column("business_key", String(128), index=True),
    Column("interchange_ref", String(64)),
    Column("message_ref", String(64)),
    Column("test", Boolean, nullable=False, default=False),
    Column("state", String(16), nullable=False),
    Column("received_at", UtcDateTime, nullable=False, index=True),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("raw_sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("canonical_sha256", String(64)),
    Column("error_count", Integer, nullable=False, default=0),
    Column("warning_count", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("meta", Json, nullable=False),
    Index(None, "state", "received_at"),
    Index(None, "partner_id", "received_at"),
    Index(None, "document_type", "received_at"),
    Index(None, "partner_id", "interchange_ref"),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("message_id", ID, nullable=False, index=True),
    Column("run", String(40), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("stage", String(32), nullable=False),
    Column("outcome", String(8), nullable=False),
    Column("detail", Text, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("data", Json, nullable=False),
    UniqueConstraint("message_id", "run", "seq"),
)

errors = Table(
    "errors",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("message_id", ID, nullable=False, index=True),
    Column("run", String(40), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("code", String(64), nullable=False, index=True),
    Column("type", String(64), nullable=False),
    Column("severity", String(8), nullable=False),
    Column("message", Text, nullable=False),
    Column("location", Json, nullable=False),
    Column("hint", Text),
    Column("details", Json, nullable=False),
    UniqueConstraint("message_id", "run", "seq"),
)

payloads = Table(
    "payloads",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", Integer, nullable=False),
    Column("compression", String(8), nullable=False),
    Column("data", Blob, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

signatures = Table(
    "signatures",
    metadata,
    Column("message_id", ID, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("signature", Blob, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

outputs = Table(
    "outputs",
    metadata,
    Column("id", ID, primary_key=True),  # the idempotency key: derived from (message, kind, destination, format)
    Column("message_id", ID, nullable=False, index=True),
    Column("output_ref", ID, nullable=False),  # the in-memory Output.id the audit trail names
    Column("kind", String(16), nullable=False),
    Column("destination", String(255), nullable=False),
    Column("format", String(32), nullable=False),
    Column("content_type", String(128), nullable=False),
    Column("payload_sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("headers", Json, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", ID, primary_key=True),  # = outputs.id
    Column("message_id", ID, nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("destination", String(255), nullable=False),
    Column("state", String(16), nullable=False),  # pending | delivered | dead
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("lease_owner", String(64)),
    Column("lease_until", UtcDateTime),
    Column("endpoint", String(512)),
    Column("last_error", Text),
    Column("last_error_code", String(64)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("delivered_at", UtcDateTime),
    Index(None, "state", "next_attempt_at"),
)

counters = Table(
    "counters",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

dedup = Table(
    "dedup",
    metadata,
    Column("partner", String(64), nullable=False),
    Column("kind", String(8), nullable=False),  # ref | sha256
    Column("key", String(200), nullable=False),
    Column("message_id", ID, nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("partner", "kind", "key"),
)

queue_messages = Table(
    "queue_messages",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("queue", String(200), nullable=False),
    Column("message_id", String(128), nullable=False),
    Column("exchange", String(200), nullable=False),
    Column("routing_key", String(255), nullable=False),
    Column("content_type", String(128), nullable=False),
    Column("headers", Json, nullable=False),
    Column("body", Blob, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("available_at", UtcDateTime, nullable=False),
    Column("lease_owner", String(64)),
    Column("lease_until", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("queue", "message_id"),
    Index(None, "queue", "available_at"),
)
"""The embedded durable queue (no broker configured): one row per queued message, leased while processed."""

acknowledgments = Table(
    "acknowledgments",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("message_id", ID, nullable=False, index=True),  # the document the gateway sent
    Column("ack_id", String(160), nullable=False),  # the acknowledging message's id, or "mdn:<Message-ID>"
    Column("partner_id", String(64)),
    Column("kind", String(24), nullable=False),  # contrl | aperak | mdn | invoice_response | application_response
    Column("status", String(24), nullable=False),  # accepted | rejected | received | paid | …
    Column("reference", String(160)),  # what the acknowledgment named: UCI 0020[/UCM 0062], RFF+ACW, an invoice number
    Column("detail", Text, nullable=False),
    Column("reasons", Json, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    UniqueConstraint("message_id", "ack_id"),
)
"""Acknowledgments received for documents the gateway sent (CONTRL, APERAK, MDN, Peppol responses)."""

business_refs = Table(
    "business_refs",
    metadata,
    Column("message_id", ID, nullable=False),
    Column("kind", String(16), nullable=False),  # order (the purchase order a document belongs to)
    Column("value", String(128), nullable=False),
    Column("milestone", String(32), nullable=False),  # ordered, changed, confirmed, shipped, invoiced, acknowledged …
    Column("detail", Text, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("message_id", "kind", "value"),
    Index(None, "kind", "value"),
)
"""Business keys that tie documents into a conversation (every document about purchase order X)."""
