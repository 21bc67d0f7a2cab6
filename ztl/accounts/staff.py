"""Accounts: staff creation, password sign-in with lock-out, and (development only) residents with
a password.

Residents' identity comes from an identity provider (SPID, CIE: `ztl.accounts.verified_identity`).
Password registration, where a person types their own codice fiscale, exists for trying the
service without a provider: `ZTL_RESIDENT_PASSWORDS` turns it on, and production refuses it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from flask import current_app
from sqlalchemy import func, select

from ztl.accounts import lockout
from ztl.accounts.passwords import hash_password, password_problem, verify_password
from ztl.accounts.second_factor import SecondStep, second_step
from ztl.extensions import db
from ztl.infrastructure.events import record_event
from ztl.infrastructure.unit_of_work import Actor, ServiceError, unit_of_work
from ztl.models import User, utcnow
from ztl.models.enums import Role
from ztl.values import InvalidValue
from ztl.values.fiscal import parse_codice_fiscale, person_key


class AccountError(ServiceError):
    code = "account"


class SignInFailure(StrEnum):
    INVALID = "invalid"  # unknown e-mail or wrong password: the same answer for both
    LOCKED = "locked"
    INACTIVE = "inactive"
    PROVIDER_ONLY = "provider_only"  # a resident, where residents sign in with SPID/CIE only


@dataclass(frozen=True)
class SignInResult:
    """`ok`: the password was right. With a `second_step` (staff with a second factor), the person
    is not signed in until that step is done (ztl.accounts.second_factor)."""

    user: User | None
    failure: SignInFailure | None = None
    locked_until: dt.datetime | None = None
    second_step: SecondStep | None = None

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


def resident_passwords_allowed() -> bool:
    """Whether residents may register and sign in with a password (development and the demo)."""
    return bool(current_app.config.get("ZTL_RESIDENT_PASSWORDS"))


def register_resident(
    email: str, full_name: str, codice_fiscale: str, password: str, language: str = "it"
) -> User:
    """Create a resident account with a self-declared codice fiscale (development only).

    One account per person and per e-mail. The identity is not verified: the first SPID/CIE sign-in
    asserting this codice fiscale confirms or freezes it (ztl.accounts.verified_identity).
    """
    if not resident_passwords_allowed():
        raise AccountError("residents sign in with SPID or CIE", code="registration_closed")
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
    across processes and restarts (ztl.accounts.lockout). When a second step follows (a staff
    member's code), the counter is left as it is: only a complete sign-in resets it, so that the
    right password does not buy fresh guesses at the code.
    """
    now = now or utcnow()
    with unit_of_work() as session:
        user = session.scalar(
            select(User).where(User.email == normalise_email(email)).with_for_update()
        )
        if user is None:
            verify_password(None, password)
            return SignInResult(None, SignInFailure.INVALID)
        if lockout.locked(user, now):
            return SignInResult(None, SignInFailure.LOCKED, user.locked_until)
        if not verify_password(user.password_hash, password):
            until = lockout.count_failure(session, user, now)
            if until is not None:
                return SignInResult(None, SignInFailure.LOCKED, until)
            return SignInResult(None, SignInFailure.INVALID)
        if not user.is_active:
            return SignInResult(None, SignInFailure.INACTIVE)
        if user.role == Role.RESIDENT.value and not resident_passwords_allowed():
            return SignInResult(None, SignInFailure.PROVIDER_ONLY)
        step = second_step(session, user)
        if step is not None:
            return SignInResult(user, second_step=step)
        lockout.signed_in(user, now)
    return SignInResult(user)


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
