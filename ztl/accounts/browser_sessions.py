"""Signed-in browsers, known to the server: a session ends when the person signs out, ends it from
another browser, or is deactivated, and every copy of its cookie stops working at once.

The cookie carries a random token (never stored: the row keeps its SHA-256). Each request of a
signed-in person asks `is_live`; the answer is one primary-key read, and the "last seen" time is
written at most every few minutes, so reading pages costs no writes. Staff sessions last
`ZTL_STAFF_SESSION_HOURS` (a working shift), residents' `ZTL_SESSION_HOURS`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import select, update

from ztl.extensions import db
from ztl.infrastructure.unit_of_work import AnySession, unit_of_work
from ztl.models import BrowserSession, User, utcnow
from ztl.models.enums import Role

SEEN_EVERY = dt.timedelta(minutes=5)
SIGNED_OUT = "signed out"
ENDED_BY_PERSON = "ended by the person"
DEACTIVATED = "account deactivated"
EXPIRED = "expired"


@dataclass(frozen=True)
class OpenSession:
    """What the person sees of one of their sessions (never its token)."""

    id: int
    started_at: dt.datetime
    last_seen_at: dt.datetime
    browser: str
    current: bool


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def lifetime(role: str) -> dt.timedelta:
    staff = role != Role.RESIDENT.value
    hours = current_app.config["ZTL_STAFF_SESSION_HOURS" if staff else "ZTL_SESSION_HOURS"]
    return dt.timedelta(hours=int(hours))


def open_session(user_id: int, browser: str) -> str:
    """A new session for a person who just signed in; the token goes in their cookie."""
    token = secrets.token_urlsafe(32)
    with unit_of_work() as session:
        session.add(BrowserSession(token_hash=_hash(token), user_id=user_id, browser=browser[:200]))
    return token


def is_live(token: str | None, user_id: int, now: dt.datetime | None = None) -> bool:
    """The session of this cookie is open, belongs to this person and has not outlived its role."""
    if not token:
        return False
    moment = now or utcnow()
    found = db.session.execute(
        select(BrowserSession, User.role)
        .join(User, User.id == BrowserSession.user_id)
        .where(BrowserSession.token_hash == _hash(token))
    ).first()
    if found is None:
        return False
    row, role = found
    if row.user_id != user_id or row.ended_at is not None:
        return False
    if moment - row.started_at > lifetime(role):
        _end(row.id, EXPIRED, moment)
        return False
    if moment - row.last_seen_at > SEEN_EVERY:
        with unit_of_work() as session:
            session.execute(
                update(BrowserSession)
                .where(BrowserSession.id == row.id)
                .values(last_seen_at=moment)
            )
    return True


def end_session(token: str | None, reason: str = SIGNED_OUT) -> None:
    """Sign-out: this browser's session ends on the server."""
    if not token:
        return
    with unit_of_work() as session:
        session.execute(
            update(BrowserSession)
            .where(BrowserSession.token_hash == _hash(token), BrowserSession.ended_at.is_(None))
            .values(ended_at=utcnow(), end_reason=reason, kept_answers=None)
        )


def _end(session_id: int, reason: str, now: dt.datetime) -> None:
    with unit_of_work() as session:
        session.execute(
            update(BrowserSession)
            .where(BrowserSession.id == session_id, BrowserSession.ended_at.is_(None))
            .values(ended_at=now, end_reason=reason, kept_answers=None)
        )


def end_all(session: AnySession, user_id: int, reason: str, keep: str | None = None) -> int:
    """Every open session of the person, in the caller's transaction (a deactivation), or all but
    the current one (`keep`: "sign out everywhere else")."""
    query = update(BrowserSession).where(
        BrowserSession.user_id == user_id, BrowserSession.ended_at.is_(None)
    )
    if keep:
        query = query.where(BrowserSession.token_hash != _hash(keep))
    result = session.execute(query.values(ended_at=utcnow(), end_reason=reason, kept_answers=None))
    return int(getattr(result, "rowcount", 0) or 0)


def end_others(user_id: int, current: str | None) -> int:
    with unit_of_work() as session:
        return end_all(session, user_id, ENDED_BY_PERSON, keep=current)


def end_own(user_id: int, session_id: int) -> bool:
    """The person ends one of their sessions (another browser); someone else's is not found."""
    with unit_of_work() as session:
        result = session.execute(
            update(BrowserSession)
            .where(
                BrowserSession.id == session_id,
                BrowserSession.user_id == user_id,
                BrowserSession.ended_at.is_(None),
            )
            .values(ended_at=utcnow(), end_reason=ENDED_BY_PERSON, kept_answers=None)
        )
    return bool(getattr(result, "rowcount", 0))


def open_sessions(user_id: int, current: str | None) -> list[OpenSession]:
    current_hash = _hash(current) if current else None
    rows = db.session.scalars(
        select(BrowserSession)
        .where(BrowserSession.user_id == user_id, BrowserSession.ended_at.is_(None))
        .order_by(BrowserSession.last_seen_at.desc())
    ).all()
    return [
        OpenSession(r.id, r.started_at, r.last_seen_at, r.browser, r.token_hash == current_hash)
        for r in rows
    ]


# The last answers kept with a session (the police home's plate checks): a short list, newest
# first, of small JSON objects. Kept on the server with this browser's open session only: another
# browser, another person or the next sign-in starts with none, and ending the session empties it.
KEPT_ANSWERS = 5


def keep_answer(token: str | None, user_id: int, answer: dict[str, Any]) -> None:
    """Put an answer first in this session's kept answers, keeping the last KEPT_ANSWERS."""
    if not token:
        return
    with unit_of_work() as session:
        found = session.execute(
            select(BrowserSession.id, BrowserSession.kept_answers)
            .where(
                BrowserSession.token_hash == _hash(token),
                BrowserSession.user_id == user_id,
                BrowserSession.ended_at.is_(None),
            )
            .with_for_update()  # two answers at once: neither is lost
        ).first()
        if found is None:
            return
        kept = [answer, *json.loads(found.kept_answers or "[]")][:KEPT_ANSWERS]
        session.execute(
            update(BrowserSession)
            .where(BrowserSession.id == found.id)
            .values(kept_answers=json.dumps(kept))
        )


def kept_answers(token: str | None, user_id: int) -> list[dict[str, Any]]:
    """This session's kept answers, newest first; none for a session that is not open."""
    if not token:
        return []
    value = db.session.scalar(
        select(BrowserSession.kept_answers).where(
            BrowserSession.token_hash == _hash(token),
            BrowserSession.user_id == user_id,
            BrowserSession.ended_at.is_(None),
        )
    )
    return list(json.loads(value or "[]"))


def clear_answers(token: str | None, user_id: int) -> None:
    """The person empties this session's kept answers."""
    if not token:
        return
    with unit_of_work() as session:
        session.execute(
            update(BrowserSession)
            .where(BrowserSession.token_hash == _hash(token), BrowserSession.user_id == user_id)
            .values(kept_answers=None)
        )
