"""One effect per form submission: claim a submission's key before acting, remember what came of it.

Why: the services refuse a second payment, a second approval, a second plate change of one
permit; but a repeated form should not even reach them as a "new" request, and the person who
pressed twice should see the first one's result, not an error. So the web layer claims the form's
key (a random value in every form) before the view runs; the claim is a row whose unique key hash
the database enforces on both engines. A twin arriving while the first runs waits for it (for at
most `WAIT_SECONDS`) and is then sent where the first one went.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from ztl.extensions import db
from ztl.infrastructure.unit_of_work import unit_of_work
from ztl.models import FormSubmission, utcnow

RUNNING = "running"
DONE = "done"
WAIT_SECONDS = 15.0
POLL_SECONDS = 0.05
KEEP = dt.timedelta(days=1)


@dataclass(frozen=True)
class Earlier:
    """What became of the first submission with this key: done (and where it led) or running."""

    state: str
    location: str | None


def key_hash(scope: str, key: str) -> str:
    return hashlib.sha256(f"{scope}\x00{key}".encode()).hexdigest()


def claim(scope: str, key: str, user_id: int | None, endpoint: str) -> int | Earlier:
    """The new submission's id, or what the first one with this key came to.

    On a connection of its own, in a transaction of its own: the claim must be visible to a twin
    before the view runs, and the request's session (the signed-in user it loaded) stays as it is.
    """
    digest = key_hash(scope, key)
    try:
        with _bookkeeping() as connection:
            new_id = connection.execute(
                insert(FormSubmission)
                .values(
                    key_hash=digest,
                    user_id=user_id,
                    endpoint=endpoint[:80],
                    state=RUNNING,
                    created_at=utcnow(),
                )
                .returning(FormSubmission.id)
            ).scalar_one()
        return int(new_id)
    except IntegrityError:
        return _wait_for(digest)


@contextmanager
def _bookkeeping() -> Iterator[Connection]:
    """A short write transaction outside the request's session (on SQLite its first statement
    writes, so it takes the write lock at once: ztl.database)."""
    with db.engine.begin() as connection:
        yield connection


def _wait_for(digest: str) -> Earlier:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        db.session.rollback()  # a fresh read each time: the twin's commit must become visible
        found = db.session.execute(
            select(FormSubmission.state, FormSubmission.location).where(
                FormSubmission.key_hash == digest
            )
        ).first()
        if found is None:  # the first one failed and released its claim: nothing was done
            return Earlier("released", None)
        state, location = found
        if state == DONE or time.monotonic() >= deadline:
            return Earlier(state, location)
        time.sleep(POLL_SECONDS)


def finish(submission_id: int, location: str | None, result: dict[str, Any] | None) -> None:
    with _bookkeeping() as connection:
        connection.execute(
            update(FormSubmission)
            .where(FormSubmission.id == submission_id)
            .values(
                state=DONE,
                location=(location or "")[:500] or None,
                result=result,
                finished_at=utcnow(),
            )
        )


def release(submission_id: int) -> None:
    """The submission changed nothing (refused input, an error): the same form may be sent again."""
    with _bookkeeping() as connection:
        connection.execute(delete(FormSubmission).where(FormSubmission.id == submission_id))


def result_of(scope: str, key: str) -> dict[str, Any] | None:
    """What a finished submission left to show (a file's report) to the person who sent it."""
    with unit_of_work() as session:
        found = session.scalar(
            select(FormSubmission.result).where(
                FormSubmission.key_hash == key_hash(scope, key), FormSubmission.state == DONE
            )
        )
    return dict(found) if isinstance(found, dict) else None


def forget_old(now: dt.datetime) -> int:
    """Submissions older than a day: nobody resubmits a form that late (the daily retention)."""
    with unit_of_work() as session:
        result = session.execute(
            delete(FormSubmission).where(FormSubmission.created_at < now - KEEP)
        )
    return int(getattr(result, "rowcount", 0) or 0)
