"""The processes that run the queue: a worker (`ztl jobs worker`) and the cron scheduler
(`ztl jobs scheduler`), both on RQ.

Why RQ's SimpleWorker: it runs each job in the worker's own process, inside the app context the
command opened, with the app's database pool, instead of forking a child per job. Nothing here
forks: a child inherits the parent's database sockets, and a worker killed in a transaction would
leave its connection open in the child, its locks held, and the retry of its job waiting on them
for ever. So the worker runs without RQ's scheduler (`with_scheduler` forks one), and the jobs
waiting for their retry interval are put back on the queue by `ztl jobs scheduler`, in a thread
beside RQ's cron scheduler. One job's database session is closed before the next starts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from redis.exceptions import RedisError
from rq import Queue, SimpleWorker
from rq.cron import CronScheduler
from rq.executions import Execution
from rq.job import Job
from rq.scheduler import RQScheduler

from ztl.cluster.redis_link import warn_unavailable
from ztl.extensions import db

# How often a worker looks for jobs that a dead worker left (RQ's default is 10 minutes). A job
# is "left" only once its execution's lease expired: the job's timeout plus a minute after it
# started (an e-mail: 3 minutes; a daily run: hours), since a worker running its own jobs in its
# own process cannot renew the lease while a job runs.
MAINTENANCE_SECONDS = 60


class _AppWorker(SimpleWorker):
    def perform_job(self, job: Job, queue: Queue, execution: Execution) -> bool:
        try:
            return super().perform_job(job, queue, execution)
        finally:
            db.session.remove()


def run_worker(queue: Queue, burst: bool = False) -> None:
    """Run jobs of `queue` until stopped (or, `burst`, until it is empty)."""
    worker = _AppWorker(
        [queue], connection=queue.connection, maintenance_interval=MAINTENANCE_SECONDS
    )
    worker.work(burst=burst, with_scheduler=False, logging_level="INFO")


def run_scheduler(queue: Queue, tick: Callable[..., Any], seconds: int) -> None:
    """Queue `tick` on `queue` every `seconds`, and put back the jobs whose retry is due, until
    stopped (SIGTERM, SIGINT). Several may run: RQ's lock lets one put the retries back."""
    retries = threading.Thread(target=_put_back_retries, args=(queue,), daemon=True)
    retries.start()
    # RQ's cron queues an interval job only once the interval has passed: a scheduler that
    # (re)starts looks at once, not a minute later.
    queue.enqueue(tick, job_timeout=300)
    cron = CronScheduler(connection=queue.connection)
    cron.register(tick, queue.name, interval=seconds, job_timeout=300)
    cron.start()


def _put_back_retries(queue: Queue) -> None:
    """RQ's scheduler of delayed jobs, in this thread: what its `work` loop does, without the
    signal handlers a thread may not install."""
    scheduler = RQScheduler([queue.name], connection=queue.connection)
    while True:
        try:
            if not scheduler.acquired_locks or scheduler.should_reacquire_locks:
                scheduler.acquire_locks()
            if scheduler.acquired_locks:
                scheduler.heartbeat()
                scheduler.enqueue_scheduled_jobs()
        except RedisError as exc:
            warn_unavailable("retries not put back on the queue", exc)
        time.sleep(scheduler.interval)
