"""Initial schema: messages, audit trail, errors, payloads, signatures, outputs, outbox, counters, dedup, queue.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.String(32)
TS = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
AUTO = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _index(table: str, *columns: str) -> None:
    op.create_index(op.f(f"ix_{table}_{'_'.join(columns)}"), table, list(columns))


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("id", ID, nullable=False),
        sa.Column("root_id", ID, nullable=False),
        sa.Column("parent_id", ID),
        sa.Column("correlation_id", sa.String(64), nullable=False),
        sa.Column("replay_of", ID),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("partner_id", sa.String(64)),
        sa.Column("format", sa.String(32)),
        sa.Column("document_type", sa.String(32)),
        sa.Column("business_key", sa.String(128)),
        sa.Column("interchange_ref", sa.String(64)),
        sa.Column("message_ref", sa.String(64)),
        sa.Column("test", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("raw_sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("canonical_sha256", sa.String(64)),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("warning_count", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text()),
        sa.Column("meta", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    for cols in (
        ("root_id",),
        ("parent_id",),
        ("correlation_id",),
        ("business_key",),
        ("received_at",),
        ("state", "received_at"),
        ("partner_id", "received_at"),
        ("document_type", "received_at"),
    ):
        _index("messages", *cols)

    for name in ("audit_events", "errors"):
        specific: list[sa.Column[Any]] = (
            [
                sa.Column("stage", sa.String(32), nullable=False),
                sa.Column("outcome", sa.String(8), nullable=False),
                sa.Column("detail", sa.Text(), nullable=False),
                sa.Column("actor", sa.String(128), nullable=False),
                sa.Column("data", JSON, nullable=False),
            ]
            if name == "audit_events"
            else [
                sa.Column("code", sa.String(64), nullable=False),
                sa.Column("type", sa.String(64), nullable=False),
                sa.Column("severity", sa.String(8), nullable=False),
                sa.Column("message", sa.Text(), nullable=False),
                sa.Column("location", JSON, nullable=False),
                sa.Column("hint", sa.Text()),
                sa.Column("details", JSON, nullable=False),
            ]
        )
        op.create_table(
            name,
            sa.Column("id", AUTO, autoincrement=True, nullable=False),
            sa.Column("message_id", ID, nullable=False),
            sa.Column("run", sa.String(40), nullable=False),
            sa.Column("seq", sa.Integer(), nullable=False),
            sa.Column("at", TS, nullable=False),
            *specific,
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
            sa.UniqueConstraint("message_id", "run", "seq", name=op.f(f"uq_{name}_message_id_run_seq")),
        )
        _index(name, "message_id")
    _index("errors", "code")

    op.create_table(
        "payloads",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("compression", sa.String(8), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_payloads")),
    )
    op.create_table(
        "signatures",
        sa.Column("message_id", ID, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_signatures")),
    )
    op.create_table(
        "outputs",
        sa.Column("id", ID, nullable=False),
        sa.Column("message_id", ID, nullable=False),
        sa.Column("output_ref", ID, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("destination", sa.String(255), nullable=False),
        sa.Column("format", sa.String(32), nullable=False),
        sa.Column("content_type", sa.String(128), nullable=False),
        sa.Column("payload_sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("headers", JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outputs")),
    )
    _index("outputs", "message_id")
    op.create_table(
        "outbox",
        sa.Column("id", ID, nullable=False),
        sa.Column("message_id", ID, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("destination", sa.String(255), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("lease_owner", sa.String(64)),
        sa.Column("lease_until", TS),
        sa.Column("endpoint", sa.String(512)),
        sa.Column("last_error", sa.Text()),
        sa.Column("last_error_code", sa.String(64)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("delivered_at", TS),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    _index("outbox", "message_id")
    _index("outbox", "state", "next_attempt_at")
    op.create_table(
        "counters",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_counters")),
    )
    op.create_table(
        "dedup",
        sa.Column("partner", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("message_id", ID, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("partner", "kind", "key", name=op.f("pk_dedup")),
    )
    _index("dedup", "message_id")
    op.create_table(
        "queue_messages",
        sa.Column("id", AUTO, autoincrement=True, nullable=False),
        sa.Column("queue", sa.String(200), nullable=False),
        sa.Column("message_id", sa.String(128), nullable=False),
        sa.Column("exchange", sa.String(200), nullable=False),
        sa.Column("routing_key", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(128), nullable=False),
        sa.Column("headers", JSON, nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("available_at", TS, nullable=False),
        sa.Column("lease_owner", sa.String(64)),
        sa.Column("lease_until", TS),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_messages")),
        sa.UniqueConstraint("queue", "message_id", name=op.f("uq_queue_messages_queue_message_id")),
    )
    _index("queue_messages", "queue", "available_at")


def downgrade() -> None:
    for name in (
        "queue_messages",
        "dedup",
        "counters",
        "outbox",
        "outputs",
        "signatures",
        "payloads",
        "errors",
        "audit_events",
        "messages",
    ):
        op.drop_table(name)
