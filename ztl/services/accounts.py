"""Accounts: resident registration, staff creation, password sign-in with lock-out, external identities.

Sign-in is provider-neutral: `sign_in_external` links a login at an identity provider (SPID, CIE) to a
user by the provider's subject, or by the codice fiscale the provider asserts, so a provider plugs in
beside local passwords without changing the rest of the system.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from flask import current_app
from sqlalchemy import func, select

from ztl.extensions import db
from ztl.models import ExternalIdentity, User, utcnow
from ztl.models.enums import Role
from ztl.services.events import record_event
from ztl.services.passwords import hash_password, password_problem, verify_password
from ztl.services.unit_of_work import Actor, ServiceError, unit_of_work
from ztl.values import InvalidValue
from ztl.values.fiscal import parse_codice_fiscale, person_key


class AccountError(ServiceError):
    code = "account"


class SignInFailure(StrEnum):
    INVALID = "invalid"  # unknown e-mail or wrong password: the same answer for both
    LOCKED = "locked"
    INACTIVE = "inactive"


@dataclass(frozen=True)
class SignInResult:
    user: User | None
    failure: SignInFailure | None = None
    locked_until: dt.datetime | None = None

    @property
    def ok(self) -> bool:
        return self.user is not None and self.failure is None


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def _check_new_password(password: str, staff: bool, *personal: str) -> None:
    problem = password_problem(password, staff=staff, personal=personal)
    if problem:
        raise AccountError(problem, code=f"password_{problem}")


def register_resident(
    email: str, full_name: str, codice_fiscale: str, password: str, language: str = "it"
) -> User:
    """Create a resident account tied to a codice fiscale: one account per person and per e-mail."""
    try:
        cf = parse_codice_fiscale(codice_fiscale)
    except InvalidValue as exc:
        raise AccountError(str(exc), code="codice_fiscale_invalid") from exc
    _check_new_password(password, False, email, full_name, cf)
    email = normalise_email(email)
    key = person_key(cf)
    with unit_of_work() as session:
        if session.scalar(select(func.count()).select_from(User).where(User.email == email)):
            raise AccountError("e-mail already registered", code="email_taken")
        if session.scalar(select(func.count()).select_from(User).where(User.person_key == key)):
            raise AccountError("codice fiscale already registered", code="codice_fiscale_taken")
        user = User(
            email=email,
            full_name=full_name.strip(),
            role=Role.RESIDENT.value,
            password_hash=hash_password(password),
            codice_fiscale=cf,
            person_key=key,
            language=language if language in {"it", "en"} else "it",
        )
        session.add(user)
        session.flush()
        record_event(session, Actor("self", user.id), "user", user.id, "registered")
    return user


def create_user(
    role: str,
    email: str,
    password: str,
    full_name: str = "",
    codice_fiscale: str | None = None,
    actor: Actor | None = None,
) -> User:
    """Create an account of any role (CLI, supervisors); staff accounts need no codice fiscale."""
    try:
        role_value = Role(role).value
    except ValueError as exc:
        roles = ", ".join(r.value for r in Role)
        raise AccountError(f"unknown role {role!r}; roles: {roles}", code="role_unknown") from exc
    email = normalise_email(email)
    if "@" not in email:
        raise AccountError(f"invalid e-mail {email!r}", code="email_invalid")
    staff = role_value != Role.RESIDENT.value
    _check_new_password(password, staff, email, full_name, codice_fiscale or "")
    cf = key = None
    if codice_fiscale:
        try:
            cf = parse_codice_fiscale(codice_fiscale)
        except InvalidValue as exc:
            raise AccountError(str(exc), code="codice_fiscale_invalid") from exc
        key = person_key(cf)
    actor = actor or Actor.cli()
    with unit_of_work() as session:
        if session.scalar(select(func.count()).select_from(User).where(User.email == email)):
            raise AccountError(f"e-mail already registered: {email}", code="email_taken")
        user = User(
            email=email,
            full_name=full_name.strip() or email,
            role=role_value,
            password_hash=hash_password(password),
            codice_fiscale=cf,
            person_key=key,
        )
        session.add(user)
        session.flush()
        record_event(session, actor, "user", user.id, "created", data={"role": role_value})
    return user


def sign_in_with_password(
    email: str, password: str, now: dt.datetime | None = None
) -> SignInResult:
    """Check a password, counting failures; too many in a row lock the account for a while.

    The failure counter and the lock are committed even when sign-in fails, so the lock holds
    across processes and restarts.
    """
    now = now or utcnow()
    max_failures = int(current_app.config["ZTL_LOGIN_MAX_FAILURES"])
    lock_minutes = int(current_app.config["ZTL_LOGIN_LOCKOUT_MINUTES"])
    with unit_of_work() as session:
        user = session.scalar(
            select(User).where(User.email == normalise_email(email)).with_for_update()
        )
        if user is None:
            verify_password(None, password)
            return SignInResult(None, SignInFailure.INVALID)
        if user.locked_until is not None and user.locked_until > now:
            return SignInResult(None, SignInFailure.LOCKED, user.locked_until)
        if not verify_password(user.password_hash, password):
            user.failed_logins += 1
            if user.failed_logins >= max_failures:
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
                return SignInResult(None, SignInFailure.LOCKED, user.locked_until)
            return SignInResult(None, SignInFailure.INVALID)
        if not user.active:
            return SignInResult(None, SignInFailure.INACTIVE)
        user.failed_logins = 0
        user.locked_until = None
        user.last_login_at = now
    return SignInResult(user)


def sign_in_external(provider: str, subject: str, codice_fiscale: str | None) -> User | None:
    """Find the user behind an identity provider's assertion, linking it on first use.

    A provider (SPID, CIE) asserts its own subject id and usually the codice fiscale; the first time,
    the identity is linked to the resident account with the same person, and later the subject alone
    is enough. Returns None when no account matches (the caller offers registration).
    """
    with unit_of_work() as session:
        identity = session.scalar(
            select(ExternalIdentity).where(
                ExternalIdentity.provider == provider, ExternalIdentity.subject == subject
            )
        )
        if identity is not None:
            return identity.user if identity.user.active else None
        if not codice_fiscale:
            return None
        try:
            key = person_key(parse_codice_fiscale(codice_fiscale))
        except InvalidValue:
            return None
        user = session.scalar(select(User).where(User.person_key == key))
        if user is None or not user.active:
            return None
        session.add(ExternalIdentity(user=user, provider=provider, subject=subject))
        record_event(
            session,
            Actor(provider, user.id),
            "user",
            user.id,
            "identity_linked",
            data={"provider": provider},
        )
    return user


def load_user(user_id: str) -> User | None:
    """Flask-Login's loader: an unknown or malformed id is simply no user."""
    try:
        return db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None


def remember_language(user_id: int, language: str) -> None:
    """Keep a signed-in user's language choice: their next sessions and their e-mails use it."""
    if language not in {"it", "en"}:
        raise AccountError(f"unsupported language {language!r}", code="language_unknown")
    with unit_of_work() as session:
        user = session.get(User, user_id)
        if user is not None and user.language != language:
            user.language = language
