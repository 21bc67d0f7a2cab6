"""The processes that run the queue: a worker (`ztl jobs worker`) and the cron scheduler
(`ztl jobs scheduler`), both on RQ.

Why RQ's SimpleWorker: it runs each job in the worker's own process, inside the app context the
command opened, with the app's database pool, instead of forking a child per job (which would
inherit open database connections). A job's failure is retried by RQ as the job asked
(ztl.cluster.queue.dispatch); with_scheduler lets the worker put back the jobs waiting for their
retry interval. One job's database session is closed before the next starts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rq import Queue, SimpleWorker
from rq.cron import CronScheduler
from rq.executions import Execution
from rq.job import Job

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
    worker.work(burst=burst, with_scheduler=True, logging_level="INFO")


def run_scheduler(queue: Queue, tick: Callable[..., Any], seconds: int) -> None:
    """Queue `tick` on `queue` every `seconds`, until stopped (SIGTERM, SIGINT)."""
    cron = CronScheduler(connection=queue.connection)
    cron.register(tick, queue.name, interval=seconds, job_timeout=300)
    cron.start()
