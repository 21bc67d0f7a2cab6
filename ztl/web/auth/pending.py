"""Between the password and the code: what the browser's session holds while nobody is signed in.

After a right password, a staff member with a second factor is not signed in: the session keeps
only the account's id, when the password step happened, the step still due (a code, or an
enrolment) and the page to return to. It is valid for PENDING_MINUTES; then the person starts
again from the password. The session is a signed cookie, not an encrypted one: it never holds a
code or a secret in clear (an enrolment's new secret travels encrypted, ztl.accounts.second_factor).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from flask import session

from ztl.accounts.second_factor import SecondStep
from ztl.i18n import SESSION_KEY

PENDING_KEY = "ztl_second_step"
ENROLMENT_KEY = "ztl_enrolment"  # an enrolment's secret, encrypted, until its first code
PENDING_MINUTES = 5
# The page of each step (ztl.web.auth.second_factor_views).
STEP_ENDPOINTS = {
    SecondStep.VERIFY: "auth.second_factor_code",
    SecondStep.ENROL: "auth.second_factor_enrol",
}


@dataclass(frozen=True)
class Pending:
    user_id: int
    step: SecondStep
    next_url: str


def begin(user_id: int, step: SecondStep, next_url: str) -> None:
    """The password was right: a fresh session (nothing planted before survives) with the step due."""
    language = session.get(SESSION_KEY)
    session.clear()
    if language:
        session[SESSION_KEY] = language
    session[PENDING_KEY] = {
        "user": user_id,
        "at": int(time.time()),
        "step": step.value,
        "next": next_url,
    }


def current(now: float | None = None) -> tuple[Pending | None, bool]:
    """The step due, or None; and whether one was there but has expired (then it is forgotten)."""
    raw: Any = session.get(PENDING_KEY)
    if not isinstance(raw, dict):
        return None, False
    try:
        user_id, started, step = int(raw["user"]), int(raw["at"]), SecondStep(raw["step"])
        next_url = str(raw.get("next") or "")
    except (KeyError, TypeError, ValueError):
        forget()
        return None, False
    moment = time.time() if now is None else now
    if not 0 <= moment - started <= PENDING_MINUTES * 60:
        forget()
        return None, True
    return Pending(user_id, step, next_url), False


def move_to(step: SecondStep) -> None:
    """The step due changed (an enrolment finished elsewhere: the code is asked instead)."""
    raw = session.get(PENDING_KEY)
    if isinstance(raw, dict):
        session[PENDING_KEY] = {**raw, "step": step.value}


def forget() -> None:
    session.pop(PENDING_KEY, None)
    session.pop(ENROLMENT_KEY, None)


def enrolment_token(user_id: int) -> str | None:
    raw: Any = session.get(ENROLMENT_KEY)
    if isinstance(raw, dict) and raw.get("user") == user_id and isinstance(raw.get("token"), str):
        return str(raw["token"])
    return None


def keep_enrolment_token(user_id: int, token: str) -> None:
    session[ENROLMENT_KEY] = {"user": user_id, "token": token}


def forget_enrolment() -> None:
    session.pop(ENROLMENT_KEY, None)
