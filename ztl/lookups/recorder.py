"""Plate lookups written to the database in batches, not one commit per answer.

Why: every answer about a plate must be recorded, but a commit per answer (a disk flush on
PostgreSQL) cost more than the answer itself. Answers are queued in the process and written every
ZTL_LOOKUP_FLUSH_SECONDS (default 0.2), in one transaction per batch, and at interpreter exit. The
price: a process killed without warning loses at most that interval's lookups (the answers
themselves are unaffected). 0 writes each answer in the request, as tests do.

Who writes a batch: under load, the request that finds the interval elapsed, in its own thread
(one request in a few hundred waits a few milliseconds more). A background thread writing the
batches instead competed with the request thread for the GIL: every time the request thread gave
the GIL up for a socket call it waited for the writer's slice to get it back, which cost more
throughput than the writes themselves (bench/enforcement.py). The background thread stays for the
quiet moments: it writes what is queued when no request has done so within the interval.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Sequence
from typing import Any

from flask import Flask, current_app
from sqlalchemy import insert
from sqlalchemy.exc import SQLAlchemyError

from ztl.infrastructure.unit_of_work import unit_of_work
from ztl.models import PlateLookup
from ztl.models.base import driver_instant

EXTENSION_KEY = "ztl_lookup_recorder"
FLUSH_NOW_ABOVE = 5_000
# Rows kept in memory while the database refuses them (about a minute of a busy worker's answers);
# past this the oldest are dropped, and the log says how many.
MAX_QUEUED = 100_000
log = logging.getLogger(__name__)


class LookupRecorder:
    def __init__(self, app: Flask) -> None:
        self._app = app
        self._rows: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._queued_since = 0.0  # when the oldest row waiting was queued
        self._retry_at = 0.0  # after a failed write: no new attempt before this
        atexit.register(self.flush)

    def record(self, rows: Sequence[dict[str, Any]]) -> None:
        interval = float(self._app.config.get("ZTL_LOOKUP_FLUSH_SECONDS", 0.2))
        if interval <= 0:
            _write(list(rows))
            return
        now = time.monotonic()
        with self._lock:
            if not self._rows:
                self._queued_since = now
            self._rows.extend(rows)
            due = now >= self._retry_at and (
                now - self._queued_since >= interval or len(self._rows) > FLUSH_NOW_ABOVE
            )
            if self._pid != os.getpid() or self._thread is None or not self._thread.is_alive():
                self._start(interval)
        if due:
            self.flush()

    def _start(self, interval: float) -> None:
        """A writer thread per process (after a fork the parent's thread does not exist)."""
        self._pid = os.getpid()
        stop = threading.Event()

        def run() -> None:
            while not stop.wait(interval):
                moment = time.monotonic()
                quiet = moment - self._queued_since >= interval and moment >= self._retry_at
                if self._rows and quiet:
                    self.flush()  # no request came to write it

        self._thread = threading.Thread(target=run, name="lookup-recorder", daemon=True)
        self._thread.start()

    def flush(self) -> int:
        """Write what is queued; how many rows were written.

        A database that refuses the batch (down, full, restarting) does not fail the answer that
        happened to write it, nor lose the rows: they go back to the queue and the next attempt
        comes one interval later (so that an outage does not cost every answer a failed write).
        """
        with self._lock:
            rows, self._rows = self._rows, []
        if not rows:
            return 0
        try:
            with self._app.app_context():
                _write(rows)
        except SQLAlchemyError as exc:
            self._requeue(rows, exc)
            return 0
        return len(rows)

    def _requeue(self, rows: list[dict[str, Any]], error: Exception) -> None:
        interval = float(self._app.config.get("ZTL_LOOKUP_FLUSH_SECONDS", 0.2))
        with self._lock:
            queued = rows + self._rows
            dropped = max(0, len(queued) - MAX_QUEUED)
            self._rows = queued[dropped:]
            self._retry_at = time.monotonic() + max(interval, 0.05)
        log.error("plate lookups not written (%d queued): %s", len(queued) - dropped, error)
        if dropped:
            log.error(
                "%d plate lookups dropped: the queue is full while the database is away", dropped
            )


# The columns a lookup row fills, in the order of the raw INSERT below; the instants among them.
COLUMNS = (
    "asked_at",
    "token_id",
    "user_id",
    "actor_label",
    "channel",
    "plate",
    "zone",
    "gate",
    "at",
    "authorized",
    "pending_until",
    "reason",
)
INSTANTS = frozenset({"asked_at", "at", "pending_until"})
# Built from the constants above only (no input reaches them): the driver binds every value.
SQLITE_INSERT = (
    f"INSERT INTO {PlateLookup.__tablename__} ({', '.join(COLUMNS)}) "  # noqa: S608
    f"VALUES ({', '.join('?' * len(COLUMNS))})"
)
POSTGRES_COPY = f"COPY {PlateLookup.__tablename__} ({', '.join(COLUMNS)}) FROM STDIN"


def _write(rows: list[dict[str, Any]]) -> None:
    """One transaction per batch, written by the driver itself: COPY on PostgreSQL, executemany
    on SQLite, without SQLAlchemy's per-value type processing. Every plate answer writes a row, so
    the write's cost per row is part of the cost of every answer (bench/enforcement.py). The
    instants are converted here exactly as ztl.models.base.UTCDateTime would (aware, stored in UTC;
    naive on SQLite), and a naive one is refused as it would be there."""
    if not rows:
        return
    with unit_of_work() as session:
        connection = session.connection()
        dialect = connection.dialect.name
        if dialect not in ("sqlite", "postgresql"):
            session.execute(insert(PlateLookup), rows)
            return
        naive = dialect == "sqlite"
        params = [
            tuple(
                driver_instant(row.get(c), naive) if c in INSTANTS else row.get(c) for c in COLUMNS
            )
            for row in rows
        ]
        if naive:
            connection.exec_driver_sql(SQLITE_INSERT, params)
            return
        driver = connection.connection.driver_connection  # psycopg 3, inside this transaction
        with driver.cursor() as cursor, cursor.copy(POSTGRES_COPY) as copy:  # type: ignore[union-attr]
            for values in params:
                copy.write_row(values)


def recorder() -> LookupRecorder:
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    found = app.extensions.get(EXTENSION_KEY)
    if found is None:
        found = app.extensions.setdefault(EXTENSION_KEY, LookupRecorder(app))
    return found


def record_lookups(rows: Sequence[dict[str, Any]]) -> None:
    recorder().record(rows)


def flush_lookups() -> int:
    """Write what is queued now (tests, and before reading the log in the same process)."""
    return recorder().flush()
