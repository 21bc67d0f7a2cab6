"""Plate lookups written to the database in small batches, off the request's path.

Why: every answer about a plate must be recorded, but a commit per answer (a disk flush on
PostgreSQL) cost more than the answer itself. Answers are queued in the process and written every
ZTL_LOOKUP_FLUSH_SECONDS (default 0.2) by a background thread, in one transaction per batch, and at
interpreter exit. The price: a process killed without warning loses at most that interval's
lookups (the answers themselves are unaffected). 0 writes each answer in the request, as tests do.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Sequence
from typing import Any

from flask import Flask, current_app
from sqlalchemy import insert

from ztl.models import PlateLookup
from ztl.services.unit_of_work import unit_of_work

EXTENSION_KEY = "ztl_lookup_recorder"
FLUSH_NOW_ABOVE = 5_000


class LookupRecorder:
    def __init__(self, app: Flask) -> None:
        self._app = app
        self._rows: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0
        atexit.register(self.flush)

    def record(self, rows: Sequence[dict[str, Any]]) -> None:
        interval = float(self._app.config.get("ZTL_LOOKUP_FLUSH_SECONDS", 0.2))
        if interval <= 0:
            _write(list(rows))
            return
        with self._lock:
            self._rows.extend(rows)
            backlog = len(self._rows)
            if self._pid != os.getpid() or self._thread is None or not self._thread.is_alive():
                self._start(interval)
        if backlog > FLUSH_NOW_ABOVE:
            self.flush()

    def _start(self, interval: float) -> None:
        """A writer thread per process (after a fork the parent's thread does not exist)."""
        self._pid = os.getpid()
        stop = threading.Event()

        def run() -> None:
            while not stop.wait(interval):
                self.flush()

        self._thread = threading.Thread(target=run, name="lookup-recorder", daemon=True)
        self._thread.start()

    def flush(self) -> int:
        with self._lock:
            rows, self._rows = self._rows, []
        if rows:
            with self._app.app_context():
                _write(rows)
        return len(rows)


def _write(rows: list[dict[str, Any]]) -> None:
    if rows:
        with unit_of_work() as session:
            session.execute(insert(PlateLookup), rows)


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
