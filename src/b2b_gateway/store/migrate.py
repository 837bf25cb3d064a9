"""Schema migrations (alembic, shipped in the package): run at start and by ``b2b-gateway db upgrade``."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import text

from b2b_gateway.errors import StoreSchemaError
from b2b_gateway.store.engine import Database

__all__ = ["alembic_config", "current_revision", "head_revision", "upgrade"]

_LOCK_ID = 0x6232_6267  # "b2bg": serialises migrations of several gateways starting on one PostgreSQL


def alembic_config() -> Config:
    """The alembic configuration pointing at the migrations inside the package."""
    cfg = Config()
    cfg.set_main_option("script_location", str(files("b2b_gateway.store") / "migrations"))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _upgrade(sync_conn: Any, target: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = sync_conn
    command.upgrade(cfg, target)


def _current(sync_conn: Any) -> str | None:
    return MigrationContext.configure(sync_conn).get_current_revision()


async def current_revision(db: Database) -> str | None:
    """The revision the database is at (``None`` for an empty database)."""
    async with db.connect() as conn:
        return await conn.run_sync(_current)


async def upgrade(db: Database, target: str = "head") -> tuple[str | None, str]:
    """Bring the schema to ``target``; returns (revision before, revision after).

    Raises:
        StoreSchemaError: the database is at a revision this gateway does not know, or a migration failed.
        StoreUnavailableError: the database cannot be reached.
    """
    async with db.begin() as conn:
        if not db.is_sqlite:
            await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_ID})
        before = await conn.run_sync(_current)
        try:
            await conn.run_sync(_upgrade, target)
        except CommandError as exc:
            raise StoreSchemaError(
                f"cannot migrate the store from {before or 'an empty database'}: {exc}",
                hint="the database may belong to a newer gateway; upgrade the gateway or use another database",
            ) from None
        after = await conn.run_sync(_current)
    return before, after or ""
