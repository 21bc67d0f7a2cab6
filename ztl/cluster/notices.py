"""Notices of change sent to every process of every node at once, over the shared Redis's pub/sub.

Why: a process keeps things it read from the database (the enforcement index, what a token is) and
must learn when another process changed them. Alone, it asks the database every so often; with a
shared Redis, the process that committed a change publishes a notice, and each process's listener
(one thread, started at the first use) tells the handlers registered for that kind at once.

Pub/sub delivers at most once and only to listeners connected at that moment, so a notice is a
hint, never the truth: the handlers re-read the database. While a process's listener is not
connected (Redis down, reconnecting) `listening()` is False and the callers go back to polling;
each (re)connection calls every handler once, for whatever was missed meanwhile.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable

from flask import current_app, has_app_context
from redis.exceptions import RedisError

from ztl.cluster.redis_link import client_for, prefix, redis_url, warn_unavailable

logger = logging.getLogger(__name__)

Handler = Callable[[str | None], None]  # the notice's text, or None after a (re)connection
CHANNEL = "notices"
_RETRY_SECONDS = (0.1, 0.5, 1.0, 2.0, 5.0)

_handlers: dict[str, list[Handler]] = {}


def on(kind: str, handler: Handler) -> None:
    """Call `handler` with every notice of `kind` this process receives (registered at import)."""
    _handlers.setdefault(kind, []).append(handler)


def publish(kind: str, text: str = "") -> bool:
    """Tell every process of this municipality; False when there is no shared Redis or it failed
    (the others then see the change when they next read the database)."""
    url = redis_url()
    if url is None:
        return False
    try:
        client_for(url).publish(_channel(), f"{kind} {text}".strip())
    except RedisError as exc:
        warn_unavailable("notices not sent; other processes poll the database", exc)
        return False
    return True


def _channel() -> str:
    return prefix() + CHANNEL


class _Listener:
    """One thread per process (re-created after a fork) reading the channel."""

    def __init__(self, url: str, channel: str) -> None:
        self.url, self.channel = url, channel
        self.pid = os.getpid()
        self.connected = threading.Event()
        self.thread = threading.Thread(target=self._run, name="ztl-notices", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        failures = 0
        while True:
            pubsub = client_for(self.url).pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(self.channel)
                self.connected.set()
                failures = 0
                _dispatch(None)  # anything published while not connected is re-read
                while True:
                    message = pubsub.get_message(timeout=1.0)
                    if message is not None and message.get("type") == "message":
                        _dispatch(message["data"].decode("utf-8", "replace"))
            except (RedisError, OSError) as exc:
                self.connected.clear()
                warn_unavailable("notices not received; this process polls the database", exc)
                time.sleep(_RETRY_SECONDS[min(failures, len(_RETRY_SECONDS) - 1)])
                failures += 1
            finally:
                with contextlib.suppress(RedisError, OSError):  # already broken: nothing to close
                    pubsub.close()


def _dispatch(text: str | None) -> None:
    targets: list[tuple[Handler, str | None]]
    if text is None:
        targets = [(h, None) for handlers in _handlers.values() for h in handlers]
    else:
        kind, _, rest = text.partition(" ")
        targets = [(h, rest) for h in _handlers.get(kind, ())]
    for handler, argument in targets:
        try:
            handler(argument)
        except Exception:  # one broken handler must not stop the others or the thread
            logger.exception("notice handler failed")


_listeners: dict[tuple[str, str], _Listener] = {}
_lock = threading.Lock()


def listening() -> bool:
    """True when this process receives notices now (a shared Redis, the listener connected).

    Starts the listener at the first call of a process: threads do not survive gunicorn's fork,
    so it cannot be started when the app is built.
    """
    if not has_app_context():
        return False
    url = current_app.config.get("ZTL_REDIS_URL")
    if not url:
        return False
    key = (url, _channel())
    listener = _listeners.get(key)
    if listener is None or listener.pid != os.getpid():
        with _lock:
            listener = _listeners.get(key)
            if listener is None or listener.pid != os.getpid():
                listener = _Listener(*key)
                _listeners[key] = listener
    return listener.connected.is_set()


def start_listening() -> None:
    """Every request of a process with a shared Redis: the listener runs from the first one on,
    whatever the process serves (a token's revocation must reach a process that never answered
    a plate check). After the first call, a dictionary lookup."""
    listening()
