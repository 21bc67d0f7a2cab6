"""The Redis shared by the app nodes: one client per process and address, or None (one machine).

Why short timeouts: every user of Redis here has a fallback (local counters, polling, running the
job in-process), so a Redis that does not answer must cost a request a second at most, never the
30 s of a worker timeout. A failure is logged at most once a minute per process, not per request.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import current_app, has_app_context
from redis import Redis

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 0.5
READ_TIMEOUT_SECONDS = 2.0
_WARN_EVERY_SECONDS = 60.0

_clients: dict[str, Redis] = {}
_lock = threading.Lock()
_last_warning = [float("-inf")]


def redis_url() -> str | None:
    """ZTL_REDIS_URL of the current app; None outside an app or when unset."""
    if not has_app_context():
        return None
    return current_app.config.get("ZTL_REDIS_URL") or None


def client_for(url: str) -> Redis:
    """This process's client for `url` (redis-py's pool reconnects after a fork by itself)."""
    found = _clients.get(url)
    if found is None:
        with _lock:
            found = _clients.get(url)
            if found is None:
                found = Redis.from_url(
                    url,
                    socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
                    socket_timeout=READ_TIMEOUT_SECONDS,
                    health_check_interval=30,
                )
                _clients[url] = found
    return found


def prefix() -> str:
    """The start of every key and channel of this municipality: several may share one Redis
    (ZTL_REDIS_PREFIX, by default "ztl:" and the rules file's code, set by ztl.city.rules_config)."""
    return str(current_app.config.get("ZTL_REDIS_PREFIX") or "ztl").rstrip(":") + ":"


def warn_unavailable(what: str, exc: Exception) -> None:
    """Log that Redis failed and what was done instead, at most once a minute."""
    moment = time.monotonic()
    if moment - _last_warning[0] >= _WARN_EVERY_SECONDS:
        _last_warning[0] = moment
        logger.warning("Redis unavailable (%s): %s; %s", type(exc).__name__, exc, what)
