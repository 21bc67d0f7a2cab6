"""Batched upsert of validated rows: INSERT ... ON CONFLICT (key) DO UPDATE, SQLite and PostgreSQL.

The statement is built with SQLAlchemy's dialect inserts and compiled once per import. Rows are
plain tuples in `Upsert.fields` order; a batch is sent in one of two shapes:

- SQLite: the whole batch as one JSON array, inserted with `INSERT ... SELECT ... FROM json_each(?)`.
  Why: one statement runs entirely inside SQLite, which releases the GIL while it works, so the
  writer thread (ztl.registries.writer) inserts one batch while the main thread validates the
  next. An executemany binds every row in Python, taking the GIL back per row, which serialises
  the two threads. It is also faster on its own (no per-row statement reset and bind).
- PostgreSQL (and SQLite without JSON functions): one DBAPI executemany of the tuples (psycopg
  pipelines it).

The update is conditional (only when a value differs), so re-importing an unchanged file rewrites
nothing: no write amplification, and no dead rows for PostgreSQL's vacuum.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    Dialect,
    String,
    Table,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError

Row = tuple[Any, ...]
# Errors that mean "the database refuses this data" (a constraint, a type): the batch is retried row
# by row to find the rows. Anything else (locked, disconnected) stops the import.
REFUSALS = (IntegrityError, DataError)


@dataclass(frozen=True)
class Upsert:
    """A compiled upsert: SQL text, field order of the row tuples, how a batch is sent."""

    sql: str
    fields: tuple[str, ...]
    as_json: bool
    # (position, converter) for fields whose type needs one on this driver (dates on SQLite).
    converters: tuple[tuple[int, Callable[[Any], Any]], ...]

    def encode(self, rows: list[Row]) -> Any:
        """The batch as the statement's parameters (call on the reading thread: it is Python)."""
        if self.converters:
            rows = [self._convert(row) for row in rows]
        if self.as_json:
            return (json.dumps(rows, ensure_ascii=False, separators=(",", ":")),)
        return rows

    def rows_of(self, encoded: Any) -> list[Row]:
        """The rows of an encoded batch, each as a batch of one (to retry them one by one)."""
        if self.as_json:
            return [(json.dumps([row], ensure_ascii=False),) for row in json.loads(encoded[0])]
        return [[row] for row in encoded]  # type: ignore[misc]

    def execute(self, connection: Connection, encoded: Any) -> list[tuple[int, str]]:
        """Upsert an encoded batch in the connection's transaction (the caller commits).

        Returns (index in the batch, reason) for every row the database refuses. Validation mirrors
        the constraints, so this should not happen; when it does (a constraint added later, a value
        a parser let through), one bad row must neither sink its batch nor vanish: the transaction
        is rolled back and the batch retried row by row, each row committed on its own.
        """
        try:
            connection.exec_driver_sql(self.sql, encoded)
            return []
        except REFUSALS:
            connection.rollback()
        refused: list[tuple[int, str]] = []
        for index, single in enumerate(self.rows_of(encoded)):
            try:
                connection.exec_driver_sql(self.sql, single)
                connection.commit()
            except REFUSALS as exc:
                connection.rollback()
                refused.append((index, _reason(exc)))
        return refused

    def _convert(self, row: Row) -> Row:
        values = list(row)
        for position, convert in self.converters:
            values[position] = convert(values[position])
        return tuple(values)


def compile_upsert(
    table: Table,
    dialect: Dialect,
    key: Sequence[str],
    update: Sequence[str],
    use_json: bool = True,
) -> Upsert:
    """INSERT ... ON CONFLICT (key) DO UPDATE SET update ... WHERE a value differs, compiled."""
    fields = (*key, *update)
    as_json = use_json and dialect.name == "sqlite"
    if dialect.name == "sqlite":
        stmt: sqlite.Insert | postgresql.Insert = sqlite.insert(table)
    elif dialect.name == "postgresql":
        stmt = postgresql.insert(table)
    else:
        raise NotImplementedError(f"registry import does not support {dialect.name!r} databases")
    if as_json:
        batch = func.json_each(bindparam("batch", type_=String)).table_valued("value")
        values = [
            func.json_extract(batch.c.value, literal_column(f"'$[{i}]'"))
            for i in range(len(fields))
        ]
        # "WHERE true" is how SQLite tells the upsert's ON CONFLICT from a join's ON.
        stmt = stmt.from_select(list(fields), select(*values).select_from(batch).where(true()))
    excluded = stmt.excluded
    changed = or_(*(table.c[field].is_distinct_from(excluded[field]) for field in update))
    upsert = stmt.on_conflict_do_update(
        index_elements=[table.c[field] for field in key],
        set_={field: excluded[field] for field in update},
        where=changed,
    )
    # Positional parameters, so rows are plain tuples: the driver's own style when it has one
    # (SQLite's "?"), else "%s" (psycopg takes both "%s" and "%(name)s").
    dialect_class: Any = type(dialect)
    positional = dialect if dialect.positional else dialect_class(paramstyle="format")
    compiled = upsert.compile(dialect=positional, column_keys=list(fields))
    order = tuple(compiled.positiontup or ())
    if as_json:
        order = fields if order == ("batch",) else ()
    if sorted(order) != sorted(fields):
        raise RuntimeError(f"unexpected parameters {order} for {fields}")
    converters = []
    for position, field in enumerate(order):
        convert = table.c[field].type.dialect_impl(dialect).bind_processor(dialect)
        if convert is not None:
            converters.append((position, convert))
    return Upsert(str(compiled), order, as_json, tuple(converters))


def sqlite_has_json(connection: Connection) -> bool:
    """Whether this SQLite has the JSON functions (built in since 3.38, usually compiled in before)."""
    try:
        connection.exec_driver_sql("SELECT json_extract('[1]', '$[0]')").scalar()
        return True
    except DBAPIError:
        connection.rollback()
        return False


def _reason(exc: DBAPIError) -> str:
    message = str(exc.orig or exc).strip() or type(exc).__name__
    return f"rifiutata dal database / refused by the database: {message.splitlines()[0][:200]}"
