"""Several nodes' shared state and background work, against a real Redis (a redis-server of the
tests' own, tests/cluster_nodes.py) and real worker processes (`ztl jobs worker`), on SQLite and
PostgreSQL.

"Another node" is another process: the `ztl` command run with the same database and Redis. What
each test proves fails without the shared Redis: a limit counted per process, a token or permit
change seen only after a polling interval set to an hour, a job run twice.
"""

from __future__ import annotations

import datetime as dt
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from rq import Queue, Worker
from rq.registry import StartedJobRegistry
from sqlalchemy import select

from tests.cluster_nodes import REDIS_MISSING, RedisServer, free_port, redis_binary, start_redis
from tests.conftest import Inbox, command_environment
from tests.factories import DEMO_OWN_CAR, issue_resident, make_user
from tests.test_daily_jobs import _events, _prepare
from ztl.accounts.api_tokens import authenticate_token, create_token
from ztl.cli.background import DAILY_JOBS, due_jobs, run_daily
from ztl.cluster.counters import SharedWindow
from ztl.cluster.notices import listening, publish
from ztl.cluster.queue import dispatch, job_queue
from ztl.cluster.queue import job_id as rq_job_id
from ztl.cluster.redis_link import prefix
from ztl.demo.generator import codice_fiscale
from ztl.enforcement.holder import current_index
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import Actor
from ztl.mail import notifications
from ztl.models import JobRun, Notification, Permit, utcnow
from ztl.permits.renewal_campaign import queue_renewals

ZTL = str(Path(sys.executable).parent / "ztl")


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    if redis_binary() is None:
        pytest.skip(REDIS_MISSING)
    server = start_redis(tmp_path_factory.mktemp("redis"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def shared(city: Flask, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch) -> Flask:
    """The test's app as one node of a cluster: the shared Redis, under a prefix of this test's
    own (as two municipalities sharing one Redis would be)."""
    monkeypatch.setitem(city.config, "ZTL_REDIS_URL", redis_server.url)
    monkeypatch.setitem(city.config, "ZTL_REDIS_PREFIX", f"ztl-test-{secrets.token_hex(4)}")
    monkeypatch.setitem(city.config, "ZTL_DAILY_JOBS_AT", "00:00")  # due whenever the test runs
    return city


def _env(app: Flask, **extra: str) -> dict[str, str]:
    """The environment of another node's `ztl` command: the same database, keys and Redis."""
    env = command_environment(app, ZTL_DB_BUSY_TIMEOUT="60")
    names = (
        "ZTL_REDIS_URL",
        "ZTL_REDIS_PREFIX",
        "ZTL_SMTP_HOST",
        "ZTL_SMTP_PORT",
        "ZTL_DAILY_JOBS_AT",
    )
    for name in names:
        if app.config.get(name):
            env[name] = str(app.config[name])
    env.update(extra)
    return env


def _ztl(app: Flask, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    run = subprocess.run(
        [ZTL, *args], env=_env(app, **extra), capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return run


def _start(app: Flask, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [ZTL, *args], env=_env(app), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def _wait_for(condition: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def _queue() -> Queue:
    queue = job_queue()
    assert queue is not None
    return queue


# --- shared state ---------------------------------------------------------------------------------


def test_a_limit_is_counted_once_for_all_the_processes(
    shared: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two windows of the same name stand for two worker processes: with Redis they share the
    count, alone each would allow the limit by itself."""
    with shared.app_context():
        first, second = SharedWindow("sign-in"), SharedWindow("sign-in")
        assert [first.allow("ip:10.0.0.1", 3) for _ in range(2)] == [None, None]
        assert second.allow("ip:10.0.0.1", 3) is None
        wait = second.allow("ip:10.0.0.1", 3)
        assert wait is not None and 0 < wait <= 60
        assert first.allow("ip:10.0.0.2", 3) is None  # another address has its own count
    monkeypatch.setitem(shared.config, "ZTL_REDIS_URL", None)
    with shared.app_context():
        alone = SharedWindow("sign-in")
        assert [alone.allow("ip:10.0.0.1", 3) for _ in range(3)] == [None, None, None]


def test_limits_count_in_the_process_while_redis_does_not_answer(
    shared: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(
        shared.config, "ZTL_REDIS_URL", f"redis://127.0.0.1:{free_port()}/0"
    )  # nobody listens
    with shared.app_context():
        window = SharedWindow("api-token")
        assert [window.allow("token", 2) for _ in range(2)] == [None, None]
        assert window.allow("token", 2) is not None


def test_an_api_limit_holds_across_nodes(shared: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """The token's limit through the API: requests spent on another node count here."""
    monkeypatch.setitem(shared.config, "ZTL_API_RATE_PER_MINUTE", 3)
    with shared.app_context():
        token, plaintext = create_token("gate-limit", "police")
        other_node = SharedWindow("api-token")  # what another process's guard charges
        other_node.allow(token.token_hash, 3)
        other_node.allow(token.token_hash, 3)
    client = shared.test_client()
    headers = {"Authorization": f"Bearer {plaintext}"}
    assert client.get(f"/api/v1/authorizations/{DEMO_OWN_CAR}", headers=headers).status_code == 200
    refused = client.get(f"/api/v1/authorizations/{DEMO_OWN_CAR}", headers=headers)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1


def test_a_token_revoked_on_another_node_is_refused_here_at_once(
    shared: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(
        shared.config, "ZTL_TOKEN_CACHE_SECONDS", 3600
    )  # without the notice: an hour
    with shared.app_context():
        create_token("camera-7", "gate")
    _, plaintext = _created("camera-8", shared)
    with shared.app_context():
        assert authenticate_token(plaintext) is not None  # cached for an hour
        _wait_for(listening, 10, "the notices' listener did not connect")
    _ztl(shared, "tokens", "revoke", "camera-8")
    with shared.app_context():
        _wait_for(lambda: authenticate_token(plaintext) is None, 5, "revocation not seen")


def _created(name: str, app: Flask) -> tuple[object, str]:
    with app.app_context():
        return create_token(name, "gate")


def test_a_permit_revoked_on_another_node_reaches_the_index_without_polling(
    shared: Flask,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(shared.config, "ZTL_ENFORCEMENT_REFRESH_SECONDS", 3600)
    monkeypatch.setitem(shared.config, "ZTL_ENFORCEMENT_NOTIFIED_REFRESH_SECONDS", 3600)
    with shared.app_context():
        issued = issue_resident()
        _wait_for(listening, 10, "the notices' listener did not connect")
        index = current_index(db.session)
        assert any(g.number == issued.number for g in index.grants(DEMO_OWN_CAR))
    _ztl(shared, "permits", "revoke", issued.number, "--reason", "test")

    def revoked_here() -> bool:
        with shared.app_context():
            grants = current_index(db.session).grants(DEMO_OWN_CAR)
            permit = next(g for g in grants if g.number == issued.number)
            return permit.end <= time.time()

    _wait_for(revoked_here, 5, "the revocation did not reach this process's index")


# --- the queue ------------------------------------------------------------------------------------


def _burst(app: Flask) -> str:
    return _ztl(app, "jobs", "worker", "--burst").stdout


def test_an_email_goes_through_the_queue_once_however_often_its_job_runs(
    shared: Flask, monkeypatch: pytest.MonkeyPatch, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    monkeypatch.setitem(shared.config, "ZTL_SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(shared.config, "ZTL_SMTP_PORT", port)
    with shared.app_context():
        user = make_user("resident", "coda@esempio.it", codice_fiscale=codice_fiscale(4242))
        issued = issue_resident()
        permit = db.session.get(Permit, issued.permit_id)
        assert permit is not None
        permit.holder_user_id = user.id
        db.session.commit()
        notifications.notify_permit_issued(issued.permit_id)
        assert _queue().count == 1 and inbox.received == []  # queued, not sent in the request
        job = _queue().jobs[0]
    _burst(shared)
    assert inbox.received == ["coda@esempio.it"]
    with shared.app_context():
        _queue().enqueue_job(job)  # the same job again (a retry after a worker died)
    _burst(shared)
    assert inbox.received == ["coda@esempio.it"]
    with shared.app_context():
        rows = db.session.scalars(select(Notification)).all()
        assert [(r.kind, r.sent_at is not None) for r in rows] == [("permit_issued", True)]
        assert rows[0].idempotency_key is not None


def test_an_email_the_server_refused_is_retried_by_the_queue_and_sent_once(
    shared: Flask, monkeypatch: pytest.MonkeyPatch, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    closed = free_port()
    monkeypatch.setitem(shared.config, "ZTL_SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(shared.config, "ZTL_SMTP_PORT", closed)
    with shared.app_context():
        issued = issue_resident()
        user = make_user("resident", "riprova@esempio.it", codice_fiscale=codice_fiscale(4242))
        db.session.get(Permit, issued.permit_id).holder_user_id = user.id  # type: ignore[union-attr]
        db.session.commit()
        notifications.notify_permit_issued(issued.permit_id)
    _burst(shared)  # the mail server is down: the job fails and waits for its retry
    with shared.app_context():
        queue = _queue()
        waiting = queue.scheduled_job_registry.get_job_ids()
        assert len(waiting) == 1 and queue.count == 0
        failed = db.session.scalars(select(Notification)).one()
        assert failed.sent_at is None and failed.error
        monkeypatch.setitem(shared.config, "ZTL_SMTP_PORT", port)
        retry = queue.fetch_job(waiting[0])
        assert retry is not None
        queue.enqueue_job(retry)  # its retry interval has passed
    _ztl(shared, "jobs", "worker", "--burst", ZTL_SMTP_PORT=str(port))
    assert inbox.received == ["riprova@esempio.it"]
    with shared.app_context():
        sent = db.session.scalars(select(Notification)).one()
        assert sent.sent_at is not None and sent.error is None


def test_the_daily_jobs_are_queued_once_whatever_the_number_of_schedulers(
    shared: Flask,
) -> None:
    now = utcnow()
    with shared.app_context():
        groups = _prepare(now)
    at = now.isoformat()
    ticks = [_start(shared, "jobs", "run-due", "--at", at) for _ in range(3)]  # three nodes
    outputs = [t.communicate(timeout=120)[0] for t in ticks]
    assert all(t.returncode == 0 for t in ticks), outputs
    with shared.app_context():
        assert _queue().count == 1  # the day's jobs, in order, as one job
        runs = db.session.scalars(select(JobRun)).all()
        assert sorted(r.name for r in runs) == sorted(DAILY_JOBS)
    _burst(shared)
    with shared.app_context():
        db.session.expire_all()
        runs = db.session.scalars(select(JobRun)).all()
        assert {(r.name, r.status, r.attempts) for r in runs} == {
            (name, "done", 1) for name in DAILY_JOBS
        }, [(r.name, r.output) for r in runs if r.status != "done"]
        assert _events(groups["expire"], "expired") == dict.fromkeys(map(str, groups["expire"]), 1)
        again = _ztl(shared, "jobs", "run-due", "--at", at)
        assert again.stdout.startswith("no daily job due") and _queue().count == 0


def test_two_nodes_schedulers_start_each_daily_job_once(shared: Flask) -> None:
    """`ztl jobs scheduler` on two nodes and a worker: RQ's cron scheduler queues the tick at once
    and every minute on both; the day's claim lets each job run once."""
    now = utcnow()
    with shared.app_context():
        groups = _prepare(now)
    processes = [_start(shared, "jobs", "scheduler") for _ in range(2)]
    processes.append(_start(shared, "jobs", "worker"))
    try:

        def all_done() -> bool:
            with shared.app_context():
                runs = db.session.scalars(select(JobRun)).all()
                db.session.rollback()
                return len(runs) == len(DAILY_JOBS) and all(r.status == "done" for r in runs)

        _wait_for(all_done, 120, "the daily jobs did not all run")
        with shared.app_context():
            _wait_for(lambda: _queue().count == 0, 30, "the ticks were not all taken")
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        outputs = [p.communicate(timeout=90)[0] for p in processes]
    with shared.app_context():
        runs = db.session.scalars(select(JobRun)).all()
        assert sorted((r.name, r.attempts) for r in runs) == sorted(
            (name, 1) for name in DAILY_JOBS
        ), outputs
        assert _events(groups["expire"], "expired") == dict.fromkeys(map(str, groups["expire"]), 1)


def test_a_daily_job_whose_worker_was_killed_is_retried_and_has_its_effect_once(
    shared: Flask,
) -> None:
    now = utcnow()
    with shared.app_context():
        groups = _prepare(now)
        day = now.date().isoformat()
    worker = _start(shared, "jobs", "worker")
    blocker = None
    try:
        with shared.app_context():
            _wait_for(lambda: Worker.count(queue=_queue()) == 1, 30, "the worker did not start")
        blocker = _hold_permits(shared)  # the job will wait for the permits, mid-run
        with shared.app_context():
            dispatch(run_daily, "expire", day, key=f"daily-expire-{day}", retries=3, timeout=600)
            job_id = rq_job_id(prefix() + f"daily-expire-{day}")
            started = StartedJobRegistry(queue=_queue())
            _wait_for(lambda: job_id in started.get_job_ids(), 30, "the job never started")
        time.sleep(0.5)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        if blocker is not None:
            blocker.rollback()
            blocker.close()
    with shared.app_context():
        expired = _events(groups["expire"], "expired")
        assert expired == {}, "the killed job had an effect"
        # RQ's maintenance, as the next worker runs it once the dead one's heartbeat expired
        # (about a minute and a half): the job goes back on the queue for its retry.
        # The job waits for its retry interval, then RQ's scheduler puts it back on the queue.
        StartedJobRegistry(queue=_queue()).cleanup(timestamp=time.time() + 3600)
        assert _queue().scheduled_job_registry.get_job_ids() == [job_id]
        retry = _queue().fetch_job(job_id)
        assert retry is not None and retry.retries_left == 2
        _queue().enqueue_job(retry)
    _burst(shared)
    with shared.app_context():
        db.session.expire_all()
        assert _events(groups["expire"], "expired") == dict.fromkeys(map(str, groups["expire"]), 1)
        run = db.session.scalars(select(JobRun).where(JobRun.name == "expire")).one()
        assert run.status == "done"


def _hold_permits(app: Flask) -> Any:
    """A connection holding the permit table (PostgreSQL) or the database (SQLite) for writing."""
    with app.app_context():
        engine = db.engine
        connection = engine.raw_connection()
    cursor = connection.cursor()
    if engine.dialect.name == "postgresql":
        cursor.execute("BEGIN")
        cursor.execute("LOCK TABLE permit IN ACCESS EXCLUSIVE MODE")
    else:
        connection.isolation_level = None  # type: ignore[attr-defined]
        cursor.execute("BEGIN EXCLUSIVE")
    return connection


def test_a_renewal_campaign_is_spread_over_the_workers_and_renews_each_permit_once(
    shared: Flask,
) -> None:
    with shared.app_context():
        issued = [issue_resident()]
        at = issued[0].valid_to - dt.timedelta(days=20)
        outcomes = queue_renewals(Actor.cli(), batch=1, at=at)
        assert outcomes == {"queued": len(issued), "ran": 0} and _queue().count == len(issued)
        job = _queue().jobs[0]
    workers = [_start(shared, "jobs", "worker", "--burst") for _ in range(2)]
    for worker in workers:
        out, _ = worker.communicate(timeout=300)
        assert worker.returncode == 0, out
    with shared.app_context():
        _queue().enqueue_job(job)  # the batch again: a retry after its worker died
    _burst(shared)
    with shared.app_context():
        db.session.expire_all()
        old = db.session.get(Permit, issued[0].permit_id)
        assert old is not None and old.status == "replaced"
        renewed = db.session.scalars(select(Permit).where(Permit.replaces_id == old.id)).all()
        assert len(renewed) == 1 and renewed[0].pdf is not None


def test_alone_the_daily_jobs_run_in_the_command_once_a_day(
    city: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(city.config, "ZTL_DAILY_JOBS_AT", "00:00")  # due whenever the test runs
    now = utcnow()
    with city.app_context():
        groups = _prepare(now)
    first = _ztl(city, "jobs", "run-due", "--at", now.isoformat())
    assert first.stdout.strip() == f"{len(DAILY_JOBS)} daily jobs done: {', '.join(DAILY_JOBS)}"
    with city.app_context():
        assert _events(groups["expire"], "expired") == dict.fromkeys(map(str, groups["expire"]), 1)
        runs = db.session.scalars(select(JobRun)).all()
        assert {(r.name, r.status) for r in runs} == {(name, "done") for name in DAILY_JOBS}
    again = _ztl(city, "jobs", "run-due", "--at", now.isoformat())
    assert again.stdout.startswith("no daily job due")
    assert _ztl(city, "jobs", "run", "expire").stdout.strip() == "already done"
    status = _ztl(city, "jobs", "status").stdout
    assert status.count(" done ") == len(DAILY_JOBS) and "attempts 1" in status
    with city.app_context():
        assert job_queue() is None and not listening()


def test_the_daily_jobs_are_due_from_their_local_time_on_dst_days_too(city: Flask) -> None:
    """ZTL_DAILY_JOBS_AT is the municipality's wall clock: 03:00 in Rome is 01:00 UTC in summer,
    02:00 UTC in winter, and on the night the clocks go back."""
    with city.app_context():
        assert city.config["ZTL_DAILY_JOBS_AT"] == "03:00"
        summer = dt.datetime(2026, 7, 1, 0, 59, tzinfo=dt.UTC)
        assert due_jobs(summer) == [] and due_jobs(summer + dt.timedelta(minutes=1)) == list(
            DAILY_JOBS
        )
        back = dt.datetime(2026, 10, 25, 1, 59, tzinfo=dt.UTC)  # 02:59 CET, after the change
        assert due_jobs(back) == [] and due_jobs(back + dt.timedelta(minutes=1)) == list(DAILY_JOBS)


def test_with_redis_down_work_is_done_in_the_process_that_asked(
    shared: Flask, monkeypatch: pytest.MonkeyPatch, smtp: tuple[Inbox, int]
) -> None:
    """Redis configured but not answering: an e-mail is sent in the request, a notice is not sent
    (and the index polls), the daily jobs run in the command; nothing raises."""
    inbox, port = smtp
    monkeypatch.setitem(shared.config, "ZTL_REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    monkeypatch.setitem(shared.config, "ZTL_SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(shared.config, "ZTL_SMTP_PORT", port)
    with shared.app_context():
        user = make_user("resident", "senza@esempio.it", codice_fiscale=codice_fiscale(4343))
        issued = issue_resident()
        db.session.get(Permit, issued.permit_id).holder_user_id = user.id  # type: ignore[union-attr]
        db.session.commit()
        notifications.notify_permit_issued(issued.permit_id)
        assert inbox.received == ["senza@esempio.it"]  # sent here, at once
        assert not publish("enforcement") and not listening()
        outcome = dispatch(len, [1, 2], key="a-job")
        assert outcome == "ran"
    done = _ztl(shared, "jobs", "run-due")
    assert done.stdout.startswith(f"{len(DAILY_JOBS)} daily jobs done:")


def test_a_daily_job_that_crashes_is_recorded_and_the_others_still_run(
    city: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unexpected error in one command (a bug) is not a traceback out of `run-due`: the job is
    marked failed with the error, the jobs after it run, and the exit status says so."""
    from ztl.cli import background

    def broken(_now: object) -> int:
        raise RuntimeError("expire is broken")

    monkeypatch.setattr("ztl.cli.jobs.expire_permits", broken)
    monkeypatch.setitem(city.config, "ZTL_DAILY_JOBS_AT", "00:00")
    with city.app_context():
        claimed, outcome = background.tick(utcnow().isoformat())
        assert claimed == list(DAILY_JOBS) and outcome == "failed"
        runs = {r.name: r for r in db.session.scalars(select(JobRun))}
        assert runs["expire"].status == "failed" and "expire is broken" in (
            runs["expire"].output or ""
        )
        assert {n for n, r in runs.items() if r.status == "done"} == set(DAILY_JOBS) - {"expire"}
