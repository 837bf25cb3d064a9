"""Database engines for the store: SQLite in WAL mode under the data directory, or PostgreSQL by URL.

SQLite gets two engines over one file: a single *writer* connection whose transactions start with
``BEGIN IMMEDIATE`` (so a write waits for the lock up to ``busy_timeout`` instead of failing half-way),
and a pool of *reader* connections (WAL lets them read while the writer writes). PostgreSQL gets a
small pool for the writer (no ping before each transaction) and a pinged pool for reads.
Driver errors that mean "not now" (locked, unreachable, timed out) become
:class:`~b2b_gateway.errors.StoreUnavailableError`, so the transport leaves the input unacknowledged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Table, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from b2b_gateway.errors import GatewayError, StoreUnavailableError
from b2b_gateway.settings import PathSettings, StoreSettings

__all__ = ["Database", "open_database", "store_errors"]

_TRANSIENT_WORDS = (
    "locked",
    "busy",
    "timeout",
    "timed out",
    "connection",
    "terminat",
    "shutdown",
    "refused",
    "deadlock",
    "could not serialize",
    "does not allow connections",
    "too many clients",
)


@dataclass(slots=True)
class Database:
    """The store's engines and what dialect they speak."""

    url: str
    write: AsyncEngine
    read: AsyncEngine
    dialect: str

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def insert(self, table: Table) -> Any:
        """A dialect ``INSERT`` with ``on_conflict_do_nothing``/``on_conflict_do_update`` available."""
        return sqlite.insert(table) if self.is_sqlite else postgresql.insert(table)

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction (committed on exit), with driver errors translated."""
        with store_errors():
            async with self.write.begin() as conn:
                yield conn

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        """A read-only connection, with driver errors translated."""
        with store_errors():
            async with self.read.connect() as conn:
                yield conn

    async def dispose(self) -> None:
        await self.write.dispose()
        if self.read is not self.write:
            await self.read.dispose()


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, PoolTimeoutError | DisconnectionError | OSError | TimeoutError):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        text = str(exc.orig if exc.orig is not None else exc).lower()
        return any(word in text for word in _TRANSIENT_WORDS)
    return False


@contextmanager
def store_errors() -> Iterator[None]:
    """Translate driver errors: "not now" becomes StoreUnavailableError, anything else a GatewayError."""
    try:
        yield
    except GatewayError:
        raise
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        if _is_transient(exc):
            detail = str(getattr(exc, "orig", None) or exc).splitlines()[0][:300]
            raise StoreUnavailableError(
                f"the store is unavailable: {detail}", hint="the input stays queued and is processed when it returns"
            ) from exc
        raise GatewayError(f"store error: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}") from exc


def _sqlite_engines(url: str, settings: StoreSettings) -> tuple[AsyncEngine, AsyncEngine]:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    connect_args = {"timeout": settings.busy_timeout_ms / 1000}

    def pragmas(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (see the begin hooks)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={settings.sqlite_synchronous}")
        cursor.execute(f"PRAGMA busy_timeout={int(settings.busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=OFF")
        cursor.close()

    write = create_async_engine(url, connect_args=connect_args, pool_size=1, max_overflow=0, pool_timeout=60)
    read = create_async_engine(url, connect_args=connect_args, pool_size=max(2, settings.pool_size), max_overflow=4)
    for engine, begin in ((write, "BEGIN IMMEDIATE"), (read, "BEGIN")):
        event.listen(engine.sync_engine, "connect", pragmas)

        def do_begin(conn: Any, statement: str = begin) -> None:
            conn.exec_driver_sql(statement)

        event.listen(engine.sync_engine, "begin", do_begin)
    return write, read


def open_database(settings: StoreSettings, paths: PathSettings) -> Database:
    """Engines for the configured store (nothing connects until first use)."""
    url = settings.resolved_url(paths)
    dialect = make_url(url).get_backend_name()
    if dialect == "sqlite":
        write, read = _sqlite_engines(url, settings)
        return Database(url=url, write=write, read=read, dialect="sqlite")
    connect_args: dict[str, Any] = {}
    if dialect == "postgresql":
        connect_args = {
            "server_settings": {
                "lock_timeout": str(int(settings.lock_timeout_ms)),
                "application_name": "b2b-gateway",
            },
            "timeout": 10,
        }
    read = create_async_engine(
        url,
        pool_size=settings.pool_size,
        max_overflow=settings.pool_size,
        pool_pre_ping=True,
        pool_timeout=30,
        connect_args=connect_args,
    )
    # The group-commit writer's own pool, without the ping before each checkout (a round trip per
    # transaction): a connection the server dropped fails its transaction as StoreUnavailableError
    # (the input stays queued), is invalidated, and the next transaction gets a fresh one.
    write = create_async_engine(
        url, pool_size=4, max_overflow=4, pool_timeout=30, pool_recycle=600, connect_args=connect_args
    )
    return Database(url=url, write=write, read=read, dialect=dialect)
