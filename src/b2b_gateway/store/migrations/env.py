"""Alembic environment: migrations run on a connection the gateway hands in (see ``store/migrate.py``)."""

from __future__ import annotations

from alembic import context

from b2b_gateway.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only `b2b-gateway db upgrade` and the gateway run migrations
    raise RuntimeError("run migrations with `b2b-gateway db upgrade`, not the alembic command")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
