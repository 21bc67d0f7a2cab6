"""`ztl jobs ...`: the background work of several nodes, and the daily jobs run once a day.

The daily jobs are the commands a single machine runs from cron (`ztl permits expire`, ...): here
they run as the same commands, in-process, so there is one place that decides what each does. Every
node may run `ztl jobs scheduler` (RQ's cron scheduler): each minute it queues `tick`, which claims
(job, local day) in the database for every job due today. The first claim of the day wins, from
whichever node; the others find the row and queue nothing. So a day's job is queued once, and the
claim survives a restart of Redis (which keeps nothing on disk).

A worker killed while a job runs leaves the job to RQ's maintenance, which gives it to another
worker (`retry`); the command then runs again, and the commands are written so that a second run
has no second effect (each permit expired once, each reminder sent once, ...). Without a shared
Redis, `ztl jobs run-due` from cron does the same claim and runs the due jobs in its own process.

The day's jobs run as one job, in the order of DAILY_JOBS (permits expire before the reminders
are chosen), whatever the number of workers.

Exit status: 0 done; 1 a job failed (`run-due`: the next tick does not start it again that day,
`ztl jobs run NAME` does); 2 bad input.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import traceback
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import with_appcontext
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ztl.city.rules_config import current_rules
from ztl.cli.common import BadInput, Refused
from ztl.cluster.queue import dispatch, job_queue
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import unit_of_work
from ztl.models import JobRun, utcnow
from ztl.values import InvalidValue
from ztl.values.times import parse_instant

# The daily jobs in the order they run, each the command a cron line would call.
DAILY_JOBS: dict[str, tuple[str, ...]] = {
    "expire": ("permits", "expire"),
    "remind": ("permits", "remind"),
    "recheck": ("permits", "recheck"),
    "reconcile": ("payments", "reconcile"),
    "retention": ("retention", "purge"),
    "audit": ("audit", "verify"),
}
OUTPUT_CHARS = 4000
TICK_SECONDS = 60


class DailyJobFailed(Exception):
    """The command exited with an error: raised in the worker so that the queue retries it."""


def local_day(now: dt.datetime) -> dt.date:
    return now.astimezone(ZoneInfo(current_rules().timezone)).date()


def due_jobs(now: dt.datetime) -> list[str]:
    """The daily jobs due at `now`: all of them once the local time is past ZTL_DAILY_JOBS_AT."""
    hours, _, minutes = str(current_app.config["ZTL_DAILY_JOBS_AT"]).partition(":")
    local = now.astimezone(ZoneInfo(current_rules().timezone))
    if (local.hour, local.minute) < (int(hours), int(minutes or 0)):
        return []
    return list(DAILY_JOBS)


def claim(names: list[str], day: dt.date) -> list[str]:
    """Those of `names` whose run on `day` is ours to start, claimed together in one transaction:
    two ticks at the same instant (two nodes) cannot split the day's jobs between them, so they
    run as one job, in order. Looked for before they are inserted, so that only two claims at the
    same instant meet the unique key (each scheduler asks every minute of the day)."""
    if not names:
        return []
    try:
        with unit_of_work() as session:
            taken = set(
                session.scalars(
                    select(JobRun.name).where(JobRun.name.in_(names), JobRun.day == day)
                )
            )
            free = [name for name in names if name not in taken]
            session.add_all(JobRun(name=n, day=day, status="queued", attempts=0) for n in free)
    except IntegrityError:  # another tick claimed them first: all of ours are undone
        return []
    return free


def tick(at: str | None = None) -> tuple[list[str], str | None]:
    """Claim every daily job due and not yet claimed today, and hand them over as one job that
    runs them in order (expire before remind...): queued on the shared queue, or, alone, run now.

    (the names claimed, what became of them: "queued", "done", "failed", or None for nothing).
    """
    now = dt.datetime.fromisoformat(at) if at else utcnow()
    day = local_day(now)
    claimed = claim(due_jobs(now), day)
    if not claimed:
        return [], None
    key = f"daily-{day.isoformat()}-{'-'.join(claimed)}"
    try:
        outcome = dispatch(run_day, day.isoformat(), claimed, key=key, retries=3, timeout=4 * 3600)
    except DailyJobFailed:
        return claimed, "failed"
    return claimed, "done" if outcome == "ran" else "queued"


def run_day(day: str, names: list[str]) -> list[str]:
    """The job of a day's claimed daily jobs, in order. A job that fails does not stop the
    others; the job raises at the end, for the queue to retry it (done ones are skipped then)."""
    failed = []
    for name in names:
        try:
            run_daily(name, day)
        except DailyJobFailed:
            failed.append(name)
    if failed:
        raise DailyJobFailed(f"daily jobs failed for {day}: {', '.join(failed)}")
    return names


def run_daily(name: str, day: str) -> str:
    """The job: run the command of `name` for `day`, record it on the day's row. A run already
    done is not repeated (a duplicate on the queue); a failed one raises, for the queue to retry."""
    the_day = dt.date.fromisoformat(day)
    with unit_of_work() as session:
        row = session.scalar(
            select(JobRun).where(JobRun.name == name, JobRun.day == the_day).with_for_update()
        )
        if row is None:  # run by hand (`ztl jobs run`) without a claim: the claim is made now
            row = JobRun(name=name, day=the_day, status="queued", attempts=0)
            session.add(row)
        if row.status == "done":
            return "already done"
        row.status, row.attempts, row.started_at = "running", row.attempts + 1, utcnow()
    code, output = run_command(DAILY_JOBS[name])
    with unit_of_work() as session:
        row = session.scalars(
            select(JobRun).where(JobRun.name == name, JobRun.day == the_day)
        ).one()
        row.status = "done" if code == 0 else "failed"
        row.finished_at = utcnow()
        row.output = output[-OUTPUT_CHARS:]
    if code != 0:
        raise DailyJobFailed(f"{name} for {day} exited {code}: {output[-500:]}")
    return output


def run_command(args: tuple[str, ...]) -> tuple[int, str]:
    """(exit status, what it printed) of a `ztl` command run in this process and app."""
    printed = io.StringIO()
    code = 0
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
        try:
            current_app.cli.main(args=list(args), prog_name="ztl", standalone_mode=False)
        except click.exceptions.Exit as exc:
            code = exc.exit_code
        except click.ClickException as exc:
            exc.show(file=printed)
            code = exc.exit_code
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except Exception:  # a bug in one job: recorded on its row, the day's other jobs still run
            printed.write(traceback.format_exc())
            code = 1
    db.session.remove()  # the command's session ends with it
    return code, printed.getvalue()


@click.group(help="Background jobs: the queue's workers and scheduler, the daily jobs.")
def jobs() -> None:
    pass


@jobs.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty (tests, one-off runs).")
@with_appcontext
def worker(burst: bool) -> None:
    """Take jobs from the shared queue and run them, one at a time, until stopped (SIGTERM: the
    job in hand is finished first). Needs ZTL_REDIS_URL."""
    from ztl.cluster.workers import run_worker

    queue = job_queue()
    if queue is None:
        raise BadInput("no ZTL_REDIS_URL: without a shared Redis, jobs run where they are asked")
    run_worker(queue, burst=burst)


@jobs.command("scheduler")
@with_appcontext
def scheduler() -> None:
    """Queue the daily jobs' tick every minute (RQ's cron scheduler), until stopped. Any number of
    nodes may run one: the day's claim in the database lets each job start once."""
    from ztl.cluster.workers import run_scheduler

    queue = job_queue()
    if queue is None:
        raise BadInput("no ZTL_REDIS_URL: run `ztl jobs run-due` from cron instead")
    run_scheduler(queue, tick, TICK_SECONDS)


@jobs.command("run-due")
@click.option("--at", "at", default=None, metavar="TIME", help="As of this instant (ISO 8601).")
@with_appcontext
def run_due(at: str | None) -> None:
    """Start the daily jobs due now and not yet started today (cron, every few minutes)."""
    try:
        moment = parse_instant(at) if at else utcnow()
    except InvalidValue as exc:
        raise BadInput(str(exc)) from exc
    claimed, outcome = tick(moment.isoformat())
    if outcome is None:
        click.echo("no daily job due: none left for today, or before ZTL_DAILY_JOBS_AT")
        return
    click.echo(f"{len(claimed)} daily jobs {outcome}: {', '.join(claimed)}")
    if outcome == "failed":
        raise Refused("some failed: see `ztl jobs status`, run one again with `ztl jobs run NAME`")


@jobs.command("run")
@click.argument("name", type=click.Choice(list(DAILY_JOBS)))
@click.option("--day", default=None, metavar="YYYY-MM-DD", help="The local day (default today).")
@with_appcontext
def run_one(name: str, day: str | None) -> None:
    """Run one daily job for a day now, in this process, unless that day's run is done: the way
    to finish a run that failed or was left half-way."""
    try:
        the_day = dt.date.fromisoformat(day) if day else local_day(utcnow())
    except ValueError as exc:
        raise BadInput(f"--day: not a date YYYY-MM-DD: {day!r}") from exc
    try:
        click.echo(run_daily(name, the_day.isoformat()).rstrip())
    except DailyJobFailed as exc:
        raise Refused(str(exc)) from exc


@jobs.command("status")
@click.option("--days", type=click.IntRange(1, 366), default=3, show_default=True)
@with_appcontext
def status(days: int) -> None:
    """The daily jobs' runs of the last days, and the queue's length."""
    since = local_day(utcnow()) - dt.timedelta(days=days - 1)
    rows = db.session.scalars(
        select(JobRun).where(JobRun.day >= since).order_by(JobRun.day.desc(), JobRun.id)
    )
    for row in rows:
        ended = row.finished_at.isoformat(timespec="seconds") if row.finished_at else "-"
        click.echo(
            f"{row.day} {row.name:10} {row.status:8} attempts {row.attempts} "
            f"queued {row.queued_at.isoformat(timespec='seconds')} ended {ended}"
        )
    queue = job_queue()
    if queue is not None:
        try:
            click.echo(f"queue {queue.name}: {queue.count} waiting")
        except RedisError as exc:
            raise Refused(f"the queue's Redis does not answer: {exc}") from exc
