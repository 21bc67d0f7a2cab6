"""Rate-limit windows counted in the shared Redis, so a limit holds across every node and worker.

Why the `limits` library (the storage and strategies under Flask-Limiter): its moving window in
Redis is one Lua script per hit, maintained and tested against Redis, and it counts exactly what
ztl.rate_limit.SlidingWindow counts in a process (at most N in any 60 seconds). Flask-Limiter's
decorators would replace the limits' own settings and answers, which the API declares per
operation (ztl.api.rate_limit) and documents in the OpenAPI file; only the counting moves.

When Redis does not answer, the window counts in the process instead (a limit per worker, as on
one machine) rather than refusing every request or letting every request through.
"""

from __future__ import annotations

import threading
import time

from limits import RateLimitItemPerMinute
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError

from ztl.cluster.redis_link import prefix, redis_url, warn_unavailable
from ztl.rate_limit import SlidingWindow

_limiters: dict[str, MovingWindowRateLimiter] = {}
_lock = threading.Lock()


def _limiter(url: str) -> MovingWindowRateLimiter:
    found = _limiters.get(url)
    if found is None:
        with _lock:
            found = _limiters.get(url)
            if found is None:
                storage = RedisStorage(url, socket_connect_timeout=0.5, socket_timeout=2.0)
                found = MovingWindowRateLimiter(storage)
                _limiters[url] = found
    return found


class SharedWindow(SlidingWindow):
    """A SlidingWindow whose counts live in the shared Redis when there is one.

    `name` separates the limits (tokens, sign-ins, plates asked) in Redis. A caller passing its
    own `now` (a test's clock) is counted in the process: Redis keeps its own time.
    """

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def allow(self, key: str, limit: int, now: float | None = None) -> float | None:
        url = redis_url() if now is None else None
        if url is None:
            return super().allow(key, limit, now)
        item = RateLimitItemPerMinute(limit)
        scope = prefix() + self.name
        try:
            limiter = _limiter(url)
            if limiter.hit(item, scope, key):
                return None
            stats = limiter.get_window_stats(item, scope, key)
        except RedisError as exc:
            warn_unavailable("rate limits counted per process", exc)
            return super().allow(key, limit, now)
        return max(0.0, stats.reset_time - time.time())
