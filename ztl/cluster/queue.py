"""Background jobs: on the shared queue when there is a Redis, otherwise at once in this process.

Why RQ (on the same Redis as the rest of ztl.cluster): it is a small, maintained library whose
jobs are plain functions named by their import path, with retries and intervals, a registry of the
jobs a dead worker left (taken up again by the next worker's maintenance), a cron scheduler, and a
worker that needs nothing but Redis. Celery would add a broker abstraction and a beat process this
project does not need; Dramatiq has no scheduler of its own. RQ acknowledges a job only when it
finished, so a worker killed half-way leaves the job to be retried: every job here is therefore
written to have its effect once however often it runs (its idempotency key, a claim in the
database, a status checked under a row lock).

`dispatch` is the one place a caller hands work over. Without ZTL_REDIS_URL (and when Redis does
not answer) the function runs at once in the calling process, which is what one machine did before
there was a queue: the caller cannot tell the difference, and a job must not rely on either.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from redis.exceptions import RedisError
from rq import Queue, Retry

from ztl.cluster.redis_link import client_for, prefix, redis_url, warn_unavailable

logger = logging.getLogger(__name__)

QUEUE_NAME = "jobs"
# Seconds before each retry of a failed job: soon (a blip), then a mail server's restart, an hour.
RETRY_INTERVALS = (10, 60, 300, 900, 3600)
RESULT_TTL_SECONDS = 24 * 3600
FAILURE_TTL_SECONDS = 14 * 24 * 3600


def queue_name() -> str:
    """The queue of this municipality (several may share one Redis)."""
    return prefix() + QUEUE_NAME


def job_queue() -> Queue | None:
    """The shared queue, or None when this app runs alone."""
    url = redis_url()
    if url is None:
        return None
    return Queue(queue_name(), connection=client_for(url))


def dispatch(
    function: Callable[..., Any],
    *args: Any,
    key: str,
    retries: int = len(RETRY_INTERVALS),
    timeout: int = 600,
) -> str:
    """Run `function(*args)` in the background, or now. Returns "queued" or "ran".

    `key` names this piece of work (the job's id on the queue, so a job is found by what it does,
    and the function's own idempotency key where it has one). `function` must be importable by
    its module path and its arguments plain values: the worker that runs it is another process.
    """
    queue = job_queue()
    if queue is not None:
        try:
            queue.enqueue(
                function,
                *args,
                job_id=job_id(prefix() + key),
                retry=Retry(max=retries, interval=list(RETRY_INTERVALS[:retries]))
                if retries
                else None,
                job_timeout=timeout,
                result_ttl=RESULT_TTL_SECONDS,
                failure_ttl=FAILURE_TTL_SECONDS,
                description=key,
            )
            return "queued"
        except RedisError as exc:
            warn_unavailable(f"job {key} run in this process", exc)
    function(*args)
    return "ran"


def job_id(key: str) -> str:
    """RQ's job id for a key: its characters are limited (letters, digits, '-', '_'). The key
    starts with the municipality's prefix: ids are global in a Redis several municipalities share,
    and a second job of the same id would replace the first."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in key)[:200]
