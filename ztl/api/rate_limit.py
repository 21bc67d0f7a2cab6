"""Per-token request limits for machine clients: a runaway gate must not starve the others.

A sliding window of one minute per token, kept in the process (each gunicorn worker counts for
itself, so the effective limit is per worker; a shared limiter would need Redis, which a small
municipality may not run). ZTL_API_RATE_PER_MINUTE sets the limit (0 turns it off). Past it the
answer is 429 with Retry-After.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from flask import current_app

WINDOW_SECONDS = 60.0
DEFAULT_PER_MINUTE = 1200


class SlidingWindow:
    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, limit: int, now: float | None = None) -> float | None:
        """None when allowed; otherwise the seconds until the next request would be."""
        moment = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= moment - WINDOW_SECONDS:
                hits.popleft()
            if len(hits) >= limit:
                return max(0.0, hits[0] + WINDOW_SECONDS - moment)
            hits.append(moment)
            return None


_WINDOW = SlidingWindow()


def retry_after(token_key: str) -> float | None:
    """None when the token (keyed by its hash) may make this request, else seconds to wait."""
    limit = int(current_app.config.get("ZTL_API_RATE_PER_MINUTE", DEFAULT_PER_MINUTE))
    if limit <= 0:
        return None
    return _WINDOW.allow(token_key, limit)
