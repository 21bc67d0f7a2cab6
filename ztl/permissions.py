"""Who may see and do what: the one place the system answers that question.

Blueprints guard whole roles with `guard_blueprint`; views that touch one object (an application, a
document, a permit) also ask `may_access_subject` so that guessing another id gets a 404, not data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, abort, request
from flask_login import current_user

from ztl.models.enums import Role

F = TypeVar("F", bound=Callable[..., Any])

RESIDENTS = frozenset({Role.RESIDENT})
CLERKS = frozenset({Role.CLERK, Role.SUPERVISOR, Role.ADMIN})
SUPERVISORS = frozenset({Role.SUPERVISOR, Role.ADMIN})
POLICE = frozenset({Role.POLICE, Role.ADMIN})
ADMINS = frozenset({Role.ADMIN})
EVERYONE_SIGNED_IN = frozenset(Role)

# The page each role lands on after signing in (endpoint names).
HOME_ENDPOINT: dict[str, str] = {
    Role.RESIDENT: "resident.home",
    Role.CLERK: "clerk.home",
    Role.SUPERVISOR: "supervisor.home",
    Role.POLICE: "police.home",
    Role.ADMIN: "admin.home",
}


def has_role(user: Any, roles: Iterable[str]) -> bool:
    """True when a signed-in, active user holds one of the roles."""
    return bool(
        getattr(user, "is_authenticated", False)
        and getattr(user, "is_active", False)
        and user.role in {str(r) for r in roles}
    )


def enforce(roles: Iterable[str]) -> None:
    """401 (to the login page) for anonymous users, 403 for a signed-in user without the role."""
    if not getattr(current_user, "is_authenticated", False):
        from ztl.extensions import login_manager

        abort(login_manager.unauthorized())
    if not has_role(current_user, roles):
        abort(403)


def guard_blueprint(blueprint: Blueprint, roles: Iterable[str]) -> None:
    """Every view of the blueprint requires one of the roles: a new view cannot forget the check."""
    allowed = frozenset(str(r) for r in roles)

    @blueprint.before_request
    def _require_role() -> None:
        if request.endpoint and request.endpoint.endswith(".static"):
            return
        enforce(allowed)


def role_required(*roles: str) -> Callable[[F], F]:
    """A finer guard for a single view inside a blueprint open to more roles."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            enforce(roles)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def may_access_subject(user: Any, subject_id: str, owner_user_id: int | None) -> bool:
    """A resident sees only what is theirs; clerks and above see everything."""
    if has_role(user, CLERKS):
        return True
    if not has_role(user, RESIDENTS):
        return False
    return owner_user_id == user.id or (
        user.person_key is not None and subject_id in {user.codice_fiscale, user.person_key}
    )
