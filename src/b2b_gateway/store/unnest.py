"""Many rows of many tables in one PostgreSQL statement: ``INSERT … SELECT … FROM unnest($1::t[], …)``.

The group writer's rows on PostgreSQL. Each table's rows go as one array per column, however many
rows there are, and every table of a batch is a data-modifying CTE of one statement:

.. code-block:: sql

    WITH w0 AS (INSERT INTO messages (id, …) SELECT id, … FROM unnest(CAST($1 AS TEXT[]), …)
                AS anon_1(id, …) ON CONFLICT (id) DO UPDATE SET …),
         w1 AS (INSERT INTO audit_events (…) SELECT … FROM unnest(…) … ON CONFLICT DO NOTHING)
    SELECT 1

So the statement depends only on which tables and columns a batch writes, not on how many rows or
documents it has: a handful of shapes, each compiled by SQLAlchemy once and prepared by the driver
once. The per-row parameter work of an ``executemany`` is gone too: each column's values go through
its type's bind processor (timestamps to UTC, JSON to text) in one loop.

Text columns are sent as ``text[]``, not ``varchar(n)[]``: a cast to ``varchar(n)`` cuts a value that
is too long without a word, the column itself rejects it (as a plain ``INSERT`` would).

A batch that cannot be written this way is answered ``None`` (:meth:`UnnestInserts.plan`), and the
caller writes it table by table:

* a statement that is not a plain ``INSERT`` (values of its own, ``RETURNING``);
* rows of one table with different columns;
* an ``ON CONFLICT DO UPDATE`` whose rows repeat a primary key (PostgreSQL refuses to update a row twice
  in one statement; one after the other, the second update wins).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Insert, String, bindparam, cast, column, func, literal_column, select
from sqlalchemy.dialects.postgresql import ARRAY, TEXT
from sqlalchemy.dialects.postgresql.dml import OnConflictDoUpdate
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from b2b_gateway.store.engine import Database

__all__ = ["Inserts", "UnnestInserts"]

Grouped = dict[str, tuple[Any, list[dict[str, Any]]]]
"""Key -> (the ``INSERT`` statement, its rows), as the group writer gathers a batch."""

_SHAPES = 64
"""Compiled statements kept (one per shape: the tables and the columns written)."""


@dataclass(frozen=True, slots=True)
class _Column:
    name: str
    process: Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    columns: tuple[tuple[_Column, ...], ...]
    """Per table of the shape, in parameter order."""


class UnnestInserts:
    """Builds (once per shape) and fills the one statement that writes a batch's rows, for ``dialect``."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._compiled: dict[tuple[Any, ...], _Compiled] = {}

    def plan(self, grouped: Grouped, returning: Sequence[Any] = ()) -> tuple[str, tuple[list[Any], ...]] | None:
        """The SQL and its parameters (one list of values per column of each table), or ``None`` when
        the rows cannot go in one statement (see the module's docstring).

        ``returning``: columns of the rows inserted to return, when ``grouped`` has one table only.
        """
        groups = [(statement, rows) for statement, rows in grouped.values() if rows]
        if not groups or (returning and len(groups) > 1):
            return None
        shape = []
        for statement, rows in groups:
            names = tuple(rows[0])
            if not _plain_insert(statement) or any(tuple(r) != names for r in rows[1:]):
                return None
            if isinstance(statement._post_values_clause, OnConflictDoUpdate) and not _unique_keys(statement, rows):
                return None
            shape.append((statement, names))
        key = (*shape, tuple(returning))
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self._compile(shape, returning)
            while len(self._compiled) > _SHAPES:
                self._compiled.pop(next(iter(self._compiled)))
        params: list[list[Any]] = []
        for columns, (_statement, rows) in zip(compiled.columns, groups, strict=True):
            for col in columns:
                name, process = col.name, col.process
                values = [row[name] for row in rows]
                params.append([process(v) for v in values] if process is not None else values)
        return compiled.sql, tuple(params)

    def _compile(self, shape: Sequence[tuple[Any, tuple[str, ...]]], returning: Sequence[Any]) -> _Compiled:
        inserts = []
        columns = []
        for i, (insert, names) in enumerate(shape):
            table = insert.table
            arrays = [cast(bindparam(f"u{i}_{n}"), ARRAY(self._array_type(table.c[n].type))) for n in names]
            unnest = func.unnest(*arrays).table_valued(*names).render_derived()
            inserts.append(insert.from_select(names, select(*(column(n) for n in names)).select_from(unnest)))
            columns.append(tuple(_Column(n, self._processor(table.c[n].type)) for n in names))
        if len(inserts) == 1:
            statement = inserts[0].returning(*returning) if returning else inserts[0]
        else:
            statement = select(literal_column("1")).add_cte(*(s.cte(f"w{i}") for i, s in enumerate(inserts)))
        compiled = statement.compile(dialect=self.dialect)
        expected = [f"u{i}_{c.name}" for i, cols in enumerate(columns) for c in cols]
        if list(compiled.positiontup or ()) != expected:  # the parameters are sent in this order
            raise AssertionError(f"unexpected parameters {compiled.positiontup} for {expected}")
        sql = str(compiled)
        return _Compiled(sql=sql, columns=tuple(columns))

    def _array_type(self, type_: Any) -> Any:
        impl = type_.dialect_impl(self.dialect)
        return TEXT() if isinstance(impl, String) else type_

    def _processor(self, type_: Any) -> Callable[[Any], Any] | None:
        return type_.dialect_impl(self.dialect).bind_processor(self.dialect)  # type: ignore[no-any-return]


def _plain_insert(statement: Any) -> bool:
    """An ``INSERT`` of rows given at execution: no values or ``SELECT`` of its own, nothing returned."""
    return (
        isinstance(statement, Insert)
        and not statement._values
        and not statement._multi_values
        and statement.select is None
        and not statement._returning
    )


def _unique_keys(statement: Any, rows: list[dict[str, Any]]) -> bool:
    """Whether ``rows`` carry the table's whole primary key and no key twice."""
    names = statement.table.primary_key.columns.keys()
    if not names or any(n not in rows[0] for n in names):
        return False
    keys = {tuple(row[n] for n in names) for row in rows}
    return len(keys) == len(rows)


class Inserts:
    """The dialect's ``INSERT`` of a table (``inserts(table)``, with ``ON CONFLICT`` available), and many
    rows through one: :meth:`rows` (in one ``unnest`` statement on PostgreSQL, ``executemany`` elsewhere)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.unnest = None if db.is_sqlite else UnnestInserts(db.write.dialect)
        self._ignoring: dict[str, Any] = {}

    def __call__(self, table: Any) -> Any:
        return self.db.insert(table)

    def ignoring(self, table: Any) -> Any:
        """The table's ``INSERT … ON CONFLICT DO NOTHING``, made once (its compiled form is kept by identity)."""
        statement = self._ignoring.get(table.name)
        if statement is None:
            statement = self._ignoring[table.name] = self.db.insert(table).on_conflict_do_nothing()
        return statement

    async def rows(
        self, conn: AsyncConnection, statement: Any, rows: list[dict[str, Any]], *returning: Any
    ) -> list[Any]:
        """Insert ``rows`` through ``statement``; the ``returning`` columns of those inserted (in no set order)."""
        if not rows:
            return []
        planned = self.unnest.plan({"rows": (statement, rows)}, returning) if self.unnest is not None else None
        if planned is not None:
            result = await conn.exec_driver_sql(*planned)
        else:
            result = await conn.execute(statement.returning(*returning) if returning else statement, rows)
        return list(result.all()) if returning else []
