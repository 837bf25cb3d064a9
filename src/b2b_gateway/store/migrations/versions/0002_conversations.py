"""Conversations: acknowledgments received for what the gateway sent, business keys, sent-interchange lookup.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = sa.String(32)
TS = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
AUTO = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_index(op.f("ix_messages_partner_id_interchange_ref"), "messages", ["partner_id", "interchange_ref"])
    op.create_table(
        "acknowledgments",
        sa.Column("id", AUTO, autoincrement=True, nullable=False),
        sa.Column("message_id", ID, nullable=False),
        sa.Column("ack_id", sa.String(160), nullable=False),
        sa.Column("partner_id", sa.String(64)),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("reference", sa.String(160)),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("reasons", JSON, nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acknowledgments")),
        sa.UniqueConstraint("message_id", "ack_id", name=op.f("uq_acknowledgments_message_id_ack_id")),
    )
    op.create_index(op.f("ix_acknowledgments_message_id"), "acknowledgments", ["message_id"])
    op.create_table(
        "business_refs",
        sa.Column("message_id", ID, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(128), nullable=False),
        sa.Column("milestone", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.PrimaryKeyConstraint("message_id", "kind", "value", name=op.f("pk_business_refs")),
    )
    op.create_index(op.f("ix_business_refs_kind_value"), "business_refs", ["kind", "value"])


def downgrade() -> None:
    op.drop_table("business_refs")
    op.drop_table("acknowledgments")
    op.drop_index(op.f("ix_messages_partner_id_interchange_ref"), table_name="messages")
