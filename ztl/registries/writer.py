"""The writing half of an import: a thread that upserts batches while the caller reads the next.

Why a thread: reading and validating a row is Python (the codice fiscale check alone is several
microseconds) and writing it is mostly database work; with SQLite the batch statement runs inside
the library with the GIL released (see ztl.registries.upsert), so on two cores the two halves
overlap and a row costs about the larger of the two instead of their sum. With PostgreSQL the
server does the work and the thread waits on the network.

The thread owns one connection for the whole run. Each batch is one transaction: the rows, the rows
they own in other tables (a firm's legal representatives, ztl.registries.related), then the run's
counts (RegistryImport), then commit. The main thread must not write to the database while
the writer runs (SQLite has one writer at a time); it hands over batches through a queue of one,
so at most three batches are in memory: being read, waiting, being written.
"""

from __future__ import annotations

import contextlib
import json
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine

from ztl.registries.duplicates import KeyIndex
from ztl.registries.upsert import Upsert

# The run's counts, written in each batch's transaction: (connection, rows_read, imported, rejected).
CountWriter = Callable[[Connection, int, int, int], None]
# The rows a batch's rows own elsewhere, written after them: (connection, batch, refused indexes).
RelatedWriter = Callable[[Connection, "Batch", set[int]], None]
_POLL_SECONDS = 0.5
_SQLITE_DEFAULT_CACHE = -2000  # SQLite's default page cache: 2000 KiB


@dataclass(frozen=True)
class Batch:
    """A batch as the writer needs it: encoded rows (Upsert.encode), and their keys and lines."""

    encoded: Any
    size: int
    keys: str  # JSON [[key, line], ...], in the order of the rows
    rows_read: int  # counts of the run when the batch was cut, for the run record
    rejected: int  # rows the reader rejected so far
    related: tuple[Any, ...] = ()  # per related column, [(key, items), ...] in the rows' order


@dataclass
class Written:
    """What became of one batch: refused rows and earlier rows replaced by a later one."""

    rows_read: int
    imported: int
    refused: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)
    replaced: list[tuple[int, int, str]] = field(default_factory=list)  # (line, by line, key)


class BatchWriter:
    """Writes batches in order on its own thread; results come back in order."""

    def __init__(
        self,
        engine: Engine,
        upsert: Upsert,
        counts: CountWriter,
        sqlite_cache_kib: int,
        related: RelatedWriter | None = None,
    ):
        self._engine = engine
        self._upsert = upsert
        self._counts = counts
        self._related = related
        self._cache_kib = sqlite_cache_kib
        self._inbox: queue.Queue[Batch | None] = queue.Queue(maxsize=1)
        self._outbox: queue.Queue[Written | BaseException] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="registry-writer", daemon=True)
        self._thread.start()

    def submit(self, batch: Batch) -> list[Written]:
        """Queue a batch (waits while the writer is a batch behind); return what is done so far."""
        while True:
            try:
                self._inbox.put(batch, timeout=_POLL_SECONDS)
                break
            except queue.Full:
                if not self._thread.is_alive():
                    break
        return self._done()

    def close(self) -> list[Written]:
        """Wait for every batch to be written; re-raise the writer's error, if it had one."""
        while self._thread.is_alive():
            try:
                self._inbox.put(None, timeout=_POLL_SECONDS)
                break
            except queue.Full:
                continue
        self._thread.join()
        return self._done()

    def _done(self) -> list[Written]:
        results: list[Written] = []
        while True:
            try:
                item = self._outbox.get(block=False)
            except queue.Empty:
                return results
            if isinstance(item, BaseException):
                raise item
            results.append(item)

    def _run(self) -> None:
        keys = KeyIndex()
        imported = refused = 0
        try:
            with self._engine.connect() as connection:
                sqlite = connection.dialect.name == "sqlite"
                if sqlite:  # per connection; put back below, the connection returns to the pool
                    connection.exec_driver_sql(f"PRAGMA cache_size = -{self._cache_kib}")
                try:
                    while (batch := self._inbox.get()) is not None:
                        result = self._write(connection, batch, keys, imported, refused)
                        imported += result.imported
                        refused += len(result.refused)
                        self._outbox.put(result)
                finally:
                    if sqlite:  # best effort: after a failure the connection may be unusable
                        with contextlib.suppress(Exception):
                            connection.rollback()
                            connection.exec_driver_sql(
                                f"PRAGMA cache_size = {_SQLITE_DEFAULT_CACHE}"
                            )
        except BaseException as exc:  # handed to the main thread, which raises it
            self._outbox.put(exc)
        finally:
            keys.close()

    def _write(
        self, connection: Connection, batch: Batch, keys: KeyIndex, imported: int, refused: int
    ) -> Written:
        failed = self._upsert.execute(connection, batch.encoded)
        if self._related is not None and batch.related:
            self._related(connection, batch, {index for index, _ in failed})
        result = Written(batch.rows_read, batch.size - len(failed))
        self._counts(
            connection,
            batch.rows_read,
            imported + result.imported,
            batch.rejected + refused + len(failed),
        )
        connection.commit()
        seen = batch.keys
        if failed:
            pairs = json.loads(seen)
            result.refused = [(int(pairs[index][1]), reason) for index, reason in failed]
            skip = {index for index, _ in failed}
            seen = json.dumps([pair for index, pair in enumerate(pairs) if index not in skip])
        result.replaced = keys.add_json(seen)
        return result
