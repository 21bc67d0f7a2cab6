"""Supervisors' management of accounts: finding users, switching an account off and on again.

Why accounts are deactivated and never deleted: events, decisions and issued permits name the user
who acted, and the audit trail must keep resolving to a person. A deactivated account cannot sign
in (ztl.accounts.staff) and loses its open sessions at once (Flask-Login asks `is_active`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select

from ztl.accounts import browser_sessions
from ztl.extensions import db
from ztl.infrastructure.events import record_event
from ztl.infrastructure.unit_of_work import Actor, ServiceError, unit_of_work
from ztl.models import User
from ztl.models.enums import Role

# The accounts a supervisor may create from the back office: staff, never residents (they register
# themselves with their codice fiscale) nor administrators (created on the command line).
STAFF_ROLES: tuple[str, ...] = (Role.CLERK.value, Role.POLICE.value, Role.SUPERVISOR.value)
LIST_LIMIT = 200


class UserAdminError(ServiceError):
    code = "user_admin"


@dataclass(frozen=True)
class UserPage:
    """One page of the user list: the rows shown and how many matched in all."""

    users: list[User]
    total: int


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_users(
    role: str | None = None, search: str | None = None, limit: int = LIST_LIMIT
) -> UserPage:
    """Users by e-mail, filtered by role and by a piece of e-mail or name (case-insensitive)."""
    conditions = []
    if role:
        conditions.append(User.role == role)
    text = (search or "").strip().lower()
    if text:
        pattern = f"%{_escape_like(text)}%"
        conditions.append(
            or_(
                func.lower(User.email).like(pattern, escape="\\"),
                func.lower(User.full_name).like(pattern, escape="\\"),
            )
        )
    total = db.session.scalar(select(func.count()).select_from(User).where(*conditions)) or 0
    users = db.session.scalars(select(User).where(*conditions).order_by(User.email).limit(limit))
    return UserPage(list(users), total)


def user_by_id(user_id: int) -> User | None:
    """One account, for the page that asks a supervisor to confirm its deactivation."""
    return db.session.get(User, user_id)


def set_active(user_id: int, active: bool, actor: Actor) -> User:
    """Deactivate or reactivate an account, with an event; repeating the same change does nothing.

    Refused: deactivating oneself (a supervisor could lock the office out by mistake), and changing
    an administrator unless the actor is an administrator (no one is shut out by a lesser role).
    """
    with unit_of_work() as session:
        user = session.scalar(select(User).where(User.id == user_id).with_for_update())
        if user is None:
            raise UserAdminError(f"no user with id {user_id}", code="not_found")
        if not active and actor.user_id == user.id:
            raise UserAdminError("you cannot deactivate your own account", code="own_account")
        if user.role == Role.ADMIN.value:
            acting = session.get(User, actor.user_id) if actor.user_id is not None else None
            if acting is None or acting.role != Role.ADMIN.value:
                raise UserAdminError(
                    "only an administrator changes an administrator's account", code="admin_only"
                )
        if user.active == active:
            return user
        user.active = active
        if active:
            # A fresh start: failures counted before the deactivation no longer lock the account.
            user.failed_logins = 0
            user.locked_until = None
        if not active:  # every open session ends now, not when its cookie expires
            browser_sessions.end_all(session, user.id, browser_sessions.DEACTIVATED)
        record_event(session, actor, "user", user.id, "reactivated" if active else "deactivated")
    return user
