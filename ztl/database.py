"""SQLite as a server's database: WAL, a busy timeout, and write transactions that lock at their start.

Why: `make run` serves SQLite to several gunicorn workers, so two requests can really overlap. Out
of the box, Python's sqlite3 starts a transaction lazily and SQLite takes the write lock only at the
first write. Two requests that both read "not yet paid" and then both write issue two permits; and a
transaction that read first and then wants to write can be refused at once (SQLITE_BUSY, no waiting)
when another one committed in between. PostgreSQL avoids the first with row locks (FOR UPDATE), which
SQLite ignores.

So on SQLite:
- every transaction that changes state (a unit of work, `ztl.infrastructure.unit_of_work`) starts with
  `BEGIN IMMEDIATE`: it holds the database's single write lock from its first statement, the writers
  run one after the other, and what a writer reads is still true when it writes. The services' row
  locks and the database's constraints keep PostgreSQL equally safe;
- reads start with a plain `BEGIN`: with WAL (write-ahead log) they never wait for a writer and never
  block one, so pages and plate checks keep their speed while a permit is being issued;
- a writer waits up to `ZTL_DB_BUSY_TIMEOUT` seconds for the lock; beyond that the request answers
  503 with Retry-After (`ztl.web.errors`), nothing half-written;
- foreign keys are enforced, as PostgreSQL always does.

The cost of serialised writers was measured with bench/load.py and bench/pages.py (docs/integrity.md).
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, make_url
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

DEFAULT_BUSY_TIMEOUT_SECONDS = 5.0

# Set while the current thread or task is inside a unit of work: nested ones leave it in charge.
_writing: contextvars.ContextVar[bool] = contextvars.ContextVar("ztl_sqlite_writing", default=False)
# Statements that only read; anything else (INSERT, UPDATE, DELETE, DDL, SAVEPOINT) writes.
_READS = re.compile(r"\s*(SELECT|PRAGMA|EXPLAIN)\b", re.IGNORECASE)
_CTE_WRITES = re.compile(r"\b(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
_installed = False
_busy_timeout_ms = int(DEFAULT_BUSY_TIMEOUT_SECONDS * 1000)


def install_sqlite_behaviour() -> None:
    """Hook every SQLite engine (idempotent): the connection's pragmas, and BEGIN IMMEDIATE before
    the first write of a transaction that did not take the lock yet."""
    global _installed
    if _installed:
        return
    event.listen(Engine, "connect", _on_connect)
    event.listen(Engine, "before_cursor_execute", _before_execute)
    _installed = True


def create_sqlite_file_owner_only(url: str) -> None:
    """Create a new SQLite database file readable by its owner only (SQLite would make it, and
    its WAL and shared-memory files, which take the same mode, world-readable under the usual
    umask). An existing file is left as its administrator set it."""
    parsed = make_url(url)
    if (
        parsed.get_backend_name() != "sqlite"
        or not parsed.database
        or parsed.database == ":memory:"
    ):
        return
    path = Path(parsed.database)
    if path.exists():
        return
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):  # another worker made it first
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def configure_busy_timeout(seconds: float) -> None:
    """How long a writer waits for SQLite's write lock (ZTL_DB_BUSY_TIMEOUT) before giving up."""
    global _busy_timeout_ms
    _busy_timeout_ms = int(seconds * 1000)


def _is_sqlite(dbapi_connection: Any) -> bool:
    return type(dbapi_connection).__module__.startswith("sqlite3")


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    if not _is_sqlite(dbapi_connection):
        return
    # We issue BEGIN ourselves (below): pysqlite's implicit BEGIN is the deferred kind, which takes
    # the lock only at the first write, after reads that may no longer be true.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {_busy_timeout_ms}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")  # safe with WAL: a crash loses no commit
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _writes(statement: str) -> bool:
    if _READS.match(statement):
        return False
    if statement.lstrip()[:4].upper() == "WITH":
        return bool(_CTE_WRITES.search(statement))
    return True


def _before_execute(
    connection: Connection, _cursor: Any, statement: str, *_args: Any, **_kwargs: Any
) -> None:
    """Reads run outside any transaction (each sees the latest commit); the first write of a
    transaction opens it with the write lock: BEGIN IMMEDIATE, waiting up to the busy timeout."""
    if connection.dialect.name != "sqlite":
        return
    raw = connection.connection.driver_connection
    if raw is not None and not raw.in_transaction and _writes(statement):
        _begin_immediate(raw)


def _begin_immediate(raw: Any) -> None:
    """Take the write lock, waiting up to the busy timeout; beyond it, the error SQLAlchemy would
    raise for any statement (OperationalError), so the same handlers answer 503."""
    try:
        raw.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        raise OperationalError("BEGIN IMMEDIATE", None, exc) from exc


@contextmanager
def writing(session: Any) -> Iterator[None]:
    """Inside: the session's transaction holds SQLite's write lock from its start.

    Objects the session loaded before (the request read the signed-in user, a page read a list) are
    expired and read again inside, under the lock: what a decision reads is what the database holds.
    Changes not yet flushed are written first, so they are part of the transaction. Nested uses
    leave the outer one in charge. Not SQLite: nothing (PostgreSQL's services lock rows).
    """
    plain = session() if callable(session) else session  # a scoped_session: the thread's session
    if _writing.get() or plain.get_bind().dialect.name != "sqlite":
        yield
        return
    plain.flush()
    raw = plain.connection().connection.driver_connection
    if not raw.in_transaction:
        _begin_immediate(raw)
        plain.expire_all()
    token = _writing.set(True)
    try:
        yield
    finally:
        _writing.reset(token)


@contextmanager
def driver_transaction(engine: Engine) -> Iterator[Any]:
    """A write transaction on a pooled driver connection, committed on success, rolled back on
    any error: for the hot paths that write every statement by hand (gate readings), where the
    ORM session's own bookkeeping cost more than the statements (bench/transits.py).

    On SQLite it starts with BEGIN IMMEDIATE, like every other write here. Driver errors come out
    as SQLAlchemy's (OperationalError, IntegrityError, DataError...), so the same handlers answer
    them (a locked database is a 503, not a 500).
    """
    pooled = engine.raw_connection()
    driver = pooled.driver_connection
    errors = engine.dialect.loaded_dbapi.Error
    try:
        if _is_sqlite(driver):
            _begin_immediate(driver)
        yield driver
        pooled.commit()
    except errors as exc:
        pooled.rollback()
        raise DBAPIError.instance(None, None, exc, errors) from exc
    except BaseException:
        pooled.rollback()
        raise
    finally:
        pooled.close()


def is_busy(exc: BaseException) -> bool:
    """The database stayed locked beyond the timeout (SQLite) or a lock wait gave up (PostgreSQL)."""
    if not isinstance(exc, DBAPIError):
        return False
    text = str(exc.orig).lower()
    return (
        "database is locked" in text
        or "database table is locked" in text
        or "lock timeout" in text
        or "could not obtain lock" in text
    )
