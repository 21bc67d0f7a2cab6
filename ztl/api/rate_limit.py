"""Per-key request limits an API operation declares: a runaway gate must not starve the others.

Each limit is a setting (requests, or units such as plates, per minute; per worker process on one
machine, for all the nodes together when they share a Redis: ztl.cluster.counters; 0 turns it off) and a sliding window (ztl.rate_limit). Past it the answer is 429 with Retry-After.
ZTL_API_RATE_PER_MINUTE limits each machine token; the operations that take tokens charge it in
the guard, before the view runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app

from ztl.cluster.counters import SharedWindow
from ztl.rate_limit import SlidingWindow

DEFAULT_PER_MINUTE = 1200
_WINDOW = SharedWindow("api-token")


@dataclass(frozen=True)
class RateLimit:
    """At most `setting` (default `default`) per key and minute.

    `window` is called each time, so a test may replace the module's window with its own clock.
    `what` says what is counted, for the OpenAPI document.
    """

    setting: str
    default: int
    window: Callable[[], SlidingWindow]
    what: str

    def per_minute(self) -> int:
        return int(current_app.config.get(self.setting, self.default))

    def wait(self, key: str, cost: int = 1) -> float | None:
        """None when `key` may spend `cost` more (and it is counted), else the seconds to wait
        (answered as 429 with Retry-After: ztl.api.auth.rate_limited)."""
        limit = self.per_minute()
        if limit <= 0:
            return None
        window = self.window()
        for _ in range(max(1, cost)):
            wait = window.allow(key, limit)
            if wait is not None:
                return wait
        return None


TOKEN_RATE = RateLimit(
    "ZTL_API_RATE_PER_MINUTE",
    DEFAULT_PER_MINUTE,
    lambda: _WINDOW,
    "Too many requests for this token in the last minute.",
)
