"""Sliding-window request counters, kept in the process: tokens, sign-ins, registrations.

Why in the process: a small municipality may not run Redis, and each limit only has to stop a
runaway client or a password-guessing script, not count exactly. Each gunicorn worker counts for
itself, so the effective limit is the configured one times the workers.
"""

from __future__ import annotations

import threading
import time
from collections import deque

WINDOW_SECONDS = 60.0


class SlidingWindow:
    """At most `limit` events per key in any 60 seconds."""

    MAX_KEYS = 100_000

    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, limit: int, now: float | None = None) -> float | None:
        """None when allowed (and counted); otherwise the seconds until the next one would be."""
        moment = time.monotonic() if now is None else now
        with self._lock:
            if len(self._hits) > self.MAX_KEYS:  # a flood of distinct keys: start again
                self._hits.clear()
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= moment - WINDOW_SECONDS:
                hits.popleft()
            if len(hits) >= limit:
                return max(0.0, hits[0] + WINDOW_SECONDS - moment)
            hits.append(moment)
            return None
