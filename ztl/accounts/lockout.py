"""Failed sign-ins counted per account, and the lock they lead to.

One counter for everything a person gets wrong while signing in: a wrong password and a wrong
second-factor code (ztl.accounts.second_factor) count alike, so that knowing the password does not
buy unlimited guesses at the code. The counter is reset only when a sign-in is complete.
Functions here work inside the caller's transaction (the caller holds the account's row lock).
"""

from __future__ import annotations

import datetime as dt

from flask import current_app

from ztl.infrastructure.events import record_event
from ztl.infrastructure.unit_of_work import Actor, AnySession
from ztl.models import User


def locked(user: User, now: dt.datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def count_failure(session: AnySession, user: User, now: dt.datetime) -> dt.datetime | None:
    """One more failure in a row; past ZTL_LOGIN_MAX_FAILURES the account is locked for
    ZTL_LOGIN_LOCKOUT_MINUTES (an event says so). Returns the end of the lock when this failure
    locked the account, else None."""
    max_failures = int(current_app.config["ZTL_LOGIN_MAX_FAILURES"])
    lock_minutes = int(current_app.config["ZTL_LOGIN_LOCKOUT_MINUTES"])
    user.failed_logins += 1
    if user.failed_logins < max_failures:
        return None
    user.locked_until = now + dt.timedelta(minutes=lock_minutes)
    user.failed_logins = 0
    record_event(
        session,
        Actor.system(),
        "user",
        user.id,
        "locked",
        reason=f"{max_failures} failed sign-ins",
    )
    return user.locked_until


def signed_in(user: User, now: dt.datetime) -> None:
    """A complete sign-in: the failures counted so far are forgotten."""
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
