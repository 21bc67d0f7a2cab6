"""The daily jobs, run as cron runs them (the `ztl` command, separate processes), twice at once or
killed half-way and run again: the same end state as one clean run, each e-mail sent once.

A retried cron line, a timer that fired twice, an operator who started the job by hand while the
timer ran it: two processes at the same moment, on SQLite as on PostgreSQL. The reminders go
through a real SMTP server (aiosmtpd on loopback), the one the kill test slows down to kill the
job while it is sending.
"""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from flask import Flask
from sqlalchemy import select, update

from tests.conftest import Inbox, command_environment
from tests.factories import make_user
from tests.test_concurrency_matrix import _residents_with_cars
from ztl.applications.counter import CounterRequest, issue_at_counter
from ztl.eligibility.service import PlateInput
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import Actor
from ztl.models import Event, Notification, Permit, Vehicle, utcnow

ZTL = str(Path(sys.executable).parent / "ztl")


def _environment(app: Flask, port: int) -> dict[str, str]:
    return command_environment(app, ZTL_SMTP_HOST="127.0.0.1", ZTL_SMTP_PORT=str(port))


def _start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [ZTL, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _twice_at_once(env: dict[str, str], *args: str) -> None:
    runs = [_start(env, *args), _start(env, *args)]
    for run in runs:
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, out + err


def _prepare(now: dt.datetime) -> dict[str, list[int]]:
    """Permits for every job: ended by date, in a reminder window (with an account), failing a
    re-check (car deregistered), and ended long enough ago to be anonymised."""
    groups: dict[str, list[int]] = {"expire": [], "remind": [], "recheck": [], "retention": []}
    for index, (cf, plate) in enumerate(_residents_with_cars()[:8]):
        result = issue_at_counter(CounterRequest("1", cf, (PlateInput(plate),)), Actor.cli())
        permit = db.session.get(Permit, result.permit_id)
        assert permit is not None
        kind = ("expire", "remind", "recheck", "retention")[index % 4]
        groups[kind].append(permit.id)
        if kind == "expire":
            permit.valid_to = now - dt.timedelta(hours=1)
            permit.valid_from = now - dt.timedelta(days=300)
        elif kind == "remind":
            permit.valid_from = now - dt.timedelta(days=300)
            permit.valid_to = now + dt.timedelta(days=20)
            user = make_user("resident", f"promemoria{index}@esempio.it", codice_fiscale=cf)
            permit.holder_user_id = user.id
        elif kind == "recheck":
            vehicle = db.session.scalars(select(Vehicle).where(Vehicle.plate == plate)).one()
            vehicle.status = "deregistered"
        else:
            permit.status = "expired"
            permit.valid_from = now - dt.timedelta(days=365 * 13)
            permit.valid_to = now - dt.timedelta(days=365 * 12)
            permit.ended_at = permit.valid_to
    db.session.commit()
    return groups


def _events(ids: list[int], action: str) -> Counter[str]:
    db.session.expire_all()
    rows = db.session.scalars(
        select(Event.subject_id).where(
            Event.subject_type == "permit",
            Event.subject_id.in_([str(i) for i in ids]),
            Event.action == action,
        )
    ).all()
    return Counter(rows)


def test_every_daily_job_run_twice_at_once_has_the_effect_of_one_run(
    city: Flask, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    now = utcnow()
    groups = _prepare(now)
    env = _environment(city, port)

    _twice_at_once(env, "permits", "expire")
    _twice_at_once(env, "permits", "remind")
    _twice_at_once(env, "permits", "recheck")
    _twice_at_once(env, "retention", "purge")

    assert _events(groups["expire"], "expired") == dict.fromkeys(map(str, groups["expire"]), 1)
    assert _events(groups["recheck"], "recheck_failed") == dict.fromkeys(
        map(str, groups["recheck"]), 1
    )
    assert _events(groups["retention"], "anonymised") == dict.fromkeys(
        map(str, groups["retention"]), 1
    )
    reminders = db.session.scalars(
        select(Notification).where(Notification.permit_id.in_(groups["remind"]))
    ).all()
    assert sorted(n.permit_id or 0 for n in reminders) == sorted(groups["remind"])
    assert all(n.sent_at is not None and n.kind == "expiry_30" for n in reminders)
    assert sorted(inbox.received) == sorted(
        f"promemoria{i}@esempio.it" for i in range(8) if i % 4 == 1
    )


def test_a_reminder_run_killed_while_sending_is_finished_by_the_next_run(
    city: Flask, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    now = utcnow()
    groups = _prepare(now)
    env = _environment(city, port)
    due = len(groups["remind"])
    inbox.delay = 30  # the server holds each message: the job is killed while it waits

    killed = _start(env, "permits", "remind")
    deadline = time.monotonic() + 60
    while inbox.started == 0:
        assert time.monotonic() < deadline and killed.poll() is None, "the job sent nothing"
        time.sleep(0.05)
    killed.send_signal(signal.SIGKILL)
    killed.wait(10)
    inbox.delay = 0
    db.session.expire_all()
    claims = db.session.scalars(
        select(Notification).where(Notification.permit_id.in_(groups["remind"]))
    ).all()
    assert len(claims) == 1 and claims[0].sent_at is None and claims[0].error is None

    # Run again at once: the other reminders go; the claim of the killed run is still fresh (it
    # might be a run still sending), so it is left alone.
    _twice_at_once(env, "permits", "remind")
    assert len(inbox.received) == due - 1
    # A quarter of an hour later the killed run's claim is abandoned: the next run sends it.
    db.session.execute(
        update(Notification)
        .where(Notification.id == claims[0].id)
        .values(created_at=utcnow() - dt.timedelta(minutes=16))
    )
    db.session.commit()
    _twice_at_once(env, "permits", "remind")

    db.session.expire_all()
    reminders = db.session.scalars(
        select(Notification).where(Notification.permit_id.in_(groups["remind"]))
    ).all()
    assert len(reminders) == due and all(n.sent_at is not None for n in reminders)
    assert Counter(inbox.received) == dict.fromkeys(
        (f"promemoria{i}@esempio.it" for i in range(8) if i % 4 == 1), 1
    )
