"""Staff sign-in with a second factor: time-based one-time codes (TOTP, RFC 6238) and recovery codes.

The one place for the decisions about it: who needs it (`second_step`), enrolment (`new_enrolment`,
`enrol`), the sign-in's code step (`verify`), new recovery codes (`renew_recovery_codes`) and a
supervisor's reset (`reset`). Each state change is one unit of work with its event.

- Who: clerks, supervisors, police and administrators. Residents never (they sign in with
  SPID/CIE). Staff who have an authenticator are always asked for its code; staff who have none
  must enrol when ZTL_STAFF_SECOND_FACTOR is on (always in production: ztl.config refuses it off).
- Codes: 6 digits, HMAC-SHA-1, 30-second steps (what every authenticator app does by default),
  the step before and after accepted too (clock drift). Each step is accepted once per account:
  the last accepted step is stored and a code of that step or an earlier one is refused (replay).
- What is stored: the secret encrypted with AES-GCM under a key derived with HKDF-SHA-256 from the
  application's SECRET_KEY and a fixed label, the account's id as associated data (a secret copied
  onto another account does not decrypt); recovery codes as SHA-256 hashes only. A new SECRET_KEY
  makes the stored secrets unreadable: those accounts sign in with a recovery code, or are reset.
- Failures: a wrong code counts towards the same lock-out as a wrong password
  (ztl.accounts.lockout); a right code already used is refused without counting (a double submit
  is not a guess).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import delete, func, select

from ztl.accounts import browser_sessions, lockout
from ztl.city.rules_config import current_rules
from ztl.extensions import db
from ztl.infrastructure.events import record_event
from ztl.infrastructure.unit_of_work import Actor, AnySession, ServiceError, unit_of_work
from ztl.models import RecoveryCode, SecondFactor, User, utcnow
from ztl.models.enums import Role

DIGITS = 6
INTERVAL = 30  # seconds in a time step
DIGEST = hashlib.sha1  # RFC 6238's default: the one every authenticator app supports
DRIFT_STEPS = 1  # the codes of the step before and the step after are accepted too
RECOVERY_CODES = 10
# Base32 (no 0, 1, 8 or 9); what people type for the missing digits is read as the letter.
RECOVERY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
RECOVERY_GROUPS = (4, 4)
_LOOKALIKES = str.maketrans({"0": "O", "1": "I", "8": "B"})
_CODE = re.compile(rf"[0-9]{{{DIGITS}}}")
# The key that encrypts stored secrets: HKDF of SECRET_KEY with this label (a new label, a new key).
KEY_LABEL = b"ztl staff second factor: TOTP secret v1"
_FORMAT = b"\x01"  # first byte of an encrypted secret: the format (version, 12-byte nonce, GCM)
_NONCE_BYTES = 12
# browser_session.end_reason of the sessions a reset ends.
RESET_ENDS_SESSIONS = "second factor reset"


class SecondFactorError(ServiceError):
    code = "second_factor"


class SecondStep(StrEnum):
    """What a person whose password was right still has to do before being signed in."""

    VERIFY = "verify"  # a code from the authenticator app, or a recovery code
    ENROL = "enrol"  # no authenticator yet and one is required: set it up now


class CodeOutcome(StrEnum):
    ACCEPTED = "accepted"  # a code of the app, for a time step not used before
    RECOVERY = "recovery"  # a recovery code, now spent
    WRONG = "wrong"  # counted towards the lock-out
    REPLAYED = "replayed"  # right, but its time step was already used: refused, not counted
    LOCKED = "locked"
    INACTIVE = "inactive"  # deactivated (or vanished) since the password step
    NOT_ENROLLED = "not_enrolled"  # reset since the password step
    UNREADABLE = "unreadable"  # the stored secret does not decrypt (the SECRET_KEY changed)


@dataclass(frozen=True)
class CodeResult:
    outcome: CodeOutcome
    user: User | None = None
    locked_until: dt.datetime | None = None
    recovery_codes_left: int | None = None

    @property
    def ok(self) -> bool:
        return self.outcome in (CodeOutcome.ACCEPTED, CodeOutcome.RECOVERY)


@dataclass(frozen=True)
class Status:
    """What a staff member's page shows about their second factor."""

    enrolled_at: dt.datetime | None
    recovery_codes_left: int

    @property
    def enrolled(self) -> bool:
        return self.enrolled_at is not None


# --- who needs it ---------------------------------------------------------------------------


def is_staff(user: User) -> bool:
    return user.role != Role.RESIDENT.value


def required() -> bool:
    """Every staff account must have a second factor (ZTL_STAFF_SECOND_FACTOR, on in production)."""
    return bool(current_app.config.get("ZTL_STAFF_SECOND_FACTOR", False))


def second_step(session: AnySession, user: User) -> SecondStep | None:
    """After a right password: the code, an enrolment, or nothing (signed in at once)."""
    if not is_staff(user):
        return None
    if _factor(session, user.id) is not None:
        return SecondStep.VERIFY
    return SecondStep.ENROL if required() else None


def status(user_id: int) -> Status:
    factor = db.session.get(SecondFactor, user_id)
    return Status(factor.enrolled_at if factor else None, _codes_left(db.session, user_id))


def enrolled_among(user_ids: Iterable[int]) -> set[int]:
    """Which of these accounts have an authenticator (the supervisors' user list)."""
    ids = list(user_ids)
    if not ids:
        return set()
    return set(
        db.session.scalars(select(SecondFactor.user_id).where(SecondFactor.user_id.in_(ids)))
    )


# --- codes ----------------------------------------------------------------------------------


def totp(secret: str, digits: int = DIGITS) -> pyotp.TOTP:
    """The code generator of a secret, as configured here (the tests check it against RFC 6238)."""
    return pyotp.TOTP(secret, digits=digits, digest=DIGEST, interval=INTERVAL)


def time_step(moment: dt.datetime) -> int:
    return int(moment.timestamp()) // INTERVAL


def _six_digits(code: str) -> str | None:
    compact = "".join((code or "").split())
    return compact if _CODE.fullmatch(compact) else None


def normalise_recovery_code(code: str) -> str | None:
    """ "abcd-efgh", "ABCD EFGH" and "ABCDEFGH" are the same code; None when it cannot be one."""
    compact = re.sub(r"[\s-]+", "", code or "").upper().translate(_LOOKALIKES)
    length = sum(RECOVERY_GROUPS)
    if len(compact) != length or any(c not in RECOVERY_ALPHABET for c in compact):
        return None
    return compact


def _matching_step(secret: str, code: str, now: dt.datetime) -> int | None:
    """The time step (now, or one step either side) whose code this is, or None."""
    generator = totp(secret)
    current = time_step(now)
    matched = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(generator.generate_otp(step), code):
            matched = step  # no early exit: every code costs the same work
    return matched


def _hash_recovery_code(normalised: str) -> str:
    return hashlib.sha256(normalised.encode("ascii")).hexdigest()


def _new_recovery_codes() -> list[str]:
    codes: set[str] = set()
    while len(codes) < RECOVERY_CODES:
        groups = [
            "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(n)) for n in RECOVERY_GROUPS
        ]
        codes.add("-".join(groups))
    return sorted(codes)


def _replace_recovery_codes(session: AnySession, user_id: int, now: dt.datetime) -> list[str]:
    """A new set: the old codes, used or not, stop working."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = _new_recovery_codes()
    for code in codes:
        normalised = normalise_recovery_code(code)
        assert normalised is not None
        session.add(
            RecoveryCode(user_id=user_id, code_hash=_hash_recovery_code(normalised), created_at=now)
        )
    return codes


def _codes_left(session: AnySession, user_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )


# --- the secret, encrypted ------------------------------------------------------------------


def _key() -> bytes:
    material = current_app.config["SECRET_KEY"]
    if isinstance(material, str):
        material = material.encode("utf-8")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=KEY_LABEL).derive(material)


def _seal(secret: str, context: bytes) -> bytes:
    nonce = os.urandom(_NONCE_BYTES)
    return _FORMAT + nonce + AESGCM(_key()).encrypt(nonce, secret.encode("ascii"), context)


def _unseal(blob: bytes, context: bytes) -> str | None:
    if len(blob) <= 1 + _NONCE_BYTES or blob[:1] != _FORMAT:
        return None
    nonce, sealed = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
    try:
        return AESGCM(_key()).decrypt(nonce, sealed, context).decode("ascii")
    except (InvalidTag, UnicodeDecodeError):
        return None


def _stored(user_id: int) -> bytes:
    return f"second_factor:{user_id}".encode()


def _pending(user_id: int) -> bytes:
    return f"enrolment:{user_id}".encode()


def new_enrolment(user_id: int) -> tuple[str, str]:
    """A new secret, and the same encrypted for the browser's session until it is confirmed:
    (secret, token). Nothing is stored before the first code proves the app has it."""
    secret = pyotp.random_base32()  # 32 characters: 160 bits, RFC 4226's recommended length
    token = base64.urlsafe_b64encode(_seal(secret, _pending(user_id))).decode("ascii")
    return secret, token


def enrolment_secret(token: str | None, user_id: int) -> str | None:
    """The secret of an enrolment token made for this account, or None (another account's, forged,
    or made under another SECRET_KEY)."""
    if not token:
        return None
    try:
        blob = base64.urlsafe_b64decode(token.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None
    return _unseal(blob, _pending(user_id))


def provisioning_uri(secret: str, email: str) -> str:
    """The otpauth:// URI the QR code carries: the municipality as issuer, the e-mail as account."""
    return str(totp(secret).provisioning_uri(name=email, issuer_name=current_rules().name))


# --- state changes --------------------------------------------------------------------------


def _locked_user(session: AnySession, user_id: int) -> User | None:
    # The row lock serialises the checks of one account's codes: a code is accepted once even
    # when twins of the request arrive together (SQLite: the unit of work's write lock). Read
    # afresh under the lock, whatever the request loaded before.
    return session.scalar(
        select(User)
        .where(User.id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _factor(session: AnySession, user_id: int) -> SecondFactor | None:
    """The account's authenticator as the database holds it now (the caller locked the account)."""
    return session.scalar(
        select(SecondFactor)
        .where(SecondFactor.user_id == user_id)
        .execution_options(populate_existing=True)
    )


def enrol(
    user_id: int,
    secret: str,
    code: str,
    actor: Actor,
    now: dt.datetime | None = None,
    signing_in: bool = False,
) -> list[str]:
    """Confirm a new authenticator with a first code from it: the secret is stored (encrypted) with
    a new set of recovery codes, returned to be shown once. `signing_in`: this completes a sign-in
    (the enrolment a required second factor forces after the password).

    Refused (SecondFactorError.code): not_found, not_staff, inactive, locked, already_enrolled,
    wrong_code. A wrong first code is not counted towards the lock-out: the person holds a fresh
    secret of their own, there is nothing to guess.
    """
    now = now or utcnow()
    digits = _six_digits(code)
    with unit_of_work() as session:
        user = _locked_user(session, user_id)
        if user is None:
            raise SecondFactorError(f"no user with id {user_id}", code="not_found")
        if not is_staff(user):
            raise SecondFactorError("residents have no second factor", code="not_staff")
        if not user.is_active:
            raise SecondFactorError("the account is deactivated", code="inactive")
        if signing_in and lockout.locked(user, now):
            raise SecondFactorError("the account is locked", code="locked")
        if _factor(session, user.id) is not None:
            raise SecondFactorError("a second factor is already set up", code="already_enrolled")
        step = _matching_step(secret, digits, now) if digits else None
        if step is None:
            raise SecondFactorError("the code does not match the new secret", code="wrong_code")
        session.add(
            SecondFactor(
                user_id=user.id,
                secret_encrypted=_seal(secret, _stored(user.id)),
                last_step=step,  # the confirming code cannot be used again to sign in
                enrolled_at=now,
            )
        )
        codes = _replace_recovery_codes(session, user.id, now)
        if signing_in:
            lockout.signed_in(user, now)
        record_event(session, actor, "user", user.id, "second_factor_enrolled")
    return codes


def _check_code(
    session: AnySession,
    user: User,
    factor: SecondFactor,
    code: str,
    now: dt.datetime,
    recovery_allowed: bool,
) -> CodeOutcome:
    digits = _six_digits(code)
    if digits is not None:
        secret = _unseal(factor.secret_encrypted, _stored(user.id))
        if secret is None:
            return CodeOutcome.UNREADABLE
        step = _matching_step(secret, digits, now)
        if step is None:
            return CodeOutcome.WRONG
        if step <= factor.last_step:
            return CodeOutcome.REPLAYED
        factor.last_step = step
        return CodeOutcome.ACCEPTED
    normalised = normalise_recovery_code(code) if recovery_allowed else None
    if normalised is None:
        return CodeOutcome.WRONG
    row = session.scalar(
        select(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash_recovery_code(normalised),
            RecoveryCode.used_at.is_(None),
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if row is None:
        return CodeOutcome.WRONG
    row.used_at = now
    session.flush()
    record_event(
        session,
        Actor.of_user(user),
        "user",
        user.id,
        "recovery_code_used",
        data={"left": _codes_left(session, user.id)},
    )
    return CodeOutcome.RECOVERY


def verify(user_id: int, code: str, now: dt.datetime | None = None) -> CodeResult:
    """The sign-in's second step: a code of the app or a recovery code (spent by its use).

    Right: the sign-in is complete (the failures counted so far are forgotten). Wrong: one more
    failure towards the lock, as a wrong password. A right code of a step already used: refused,
    not counted.
    """
    now = now or utcnow()
    with unit_of_work() as session:
        user = _locked_user(session, user_id)
        if user is None or not user.is_active:
            return CodeResult(CodeOutcome.INACTIVE)
        if lockout.locked(user, now):
            return CodeResult(CodeOutcome.LOCKED, locked_until=user.locked_until)
        factor = _factor(session, user.id)
        if factor is None:
            return CodeResult(CodeOutcome.NOT_ENROLLED)
        outcome = _check_code(session, user, factor, code, now, recovery_allowed=True)
        if outcome is CodeOutcome.WRONG:
            until = lockout.count_failure(session, user, now)
            if until is not None:
                return CodeResult(CodeOutcome.LOCKED, locked_until=until)
            return CodeResult(CodeOutcome.WRONG)
        if outcome not in (CodeOutcome.ACCEPTED, CodeOutcome.RECOVERY):
            return CodeResult(outcome)
        lockout.signed_in(user, now)
        left = _codes_left(session, user.id) if outcome is CodeOutcome.RECOVERY else None
    return CodeResult(outcome, user, recovery_codes_left=left)


def renew_recovery_codes(
    user_id: int, code: str, actor: Actor, now: dt.datetime | None = None
) -> list[str]:
    """A new set of recovery codes, the old ones void, for a signed-in staff member who gives a
    current code of their app (not a recovery code: whoever finds an open session must not get a
    fresh set with the old set's last code). A wrong code counts towards the lock-out.

    Refused (SecondFactorError.code): the CodeOutcome that was not ACCEPTED (wrong, replayed,
    locked, not_enrolled, unreadable, inactive).
    """
    now = now or utcnow()
    codes: list[str] = []
    with unit_of_work() as session:
        user = _locked_user(session, user_id)
        factor = _factor(session, user_id) if user is not None else None
        if user is None or not user.is_active:
            outcome = CodeOutcome.INACTIVE
        elif factor is None:
            outcome = CodeOutcome.NOT_ENROLLED
        elif lockout.locked(user, now):
            outcome = CodeOutcome.LOCKED
        else:
            outcome = _check_code(session, user, factor, code, now, recovery_allowed=False)
            if outcome is CodeOutcome.ACCEPTED:
                codes = _replace_recovery_codes(session, user.id, now)
                record_event(session, actor, "user", user.id, "recovery_codes_renewed")
            elif outcome is CodeOutcome.WRONG:
                until = lockout.count_failure(session, user, now)
                outcome = CodeOutcome.WRONG if until is None else CodeOutcome.LOCKED
    if outcome is not CodeOutcome.ACCEPTED:
        raise SecondFactorError(f"recovery codes not renewed: {outcome}", code=outcome.value)
    return codes


def reset(user_id: int, actor: Actor) -> tuple[User, int]:
    """A supervisor's (or the command line's) reset of someone's second factor (a lost phone):
    the authenticator and the recovery codes are deleted and every open session of the person ends;
    they enrol again at their next sign-in (required) or from their sessions page. Returns the
    account and how many sessions ended.

    Refused (SecondFactorError.code): not_found, not_staff, own_second_factor (a supervisor
    resets their own through another supervisor), admin_only (an administrator's, by anyone but
    an administrator or the command line), not_enrolled (nothing to reset).
    """
    with unit_of_work() as session:
        user = _locked_user(session, user_id)
        if user is None:
            raise SecondFactorError(f"no user with id {user_id}", code="not_found")
        if not is_staff(user):
            raise SecondFactorError("residents have no second factor", code="not_staff")
        if actor.user_id is not None:
            if actor.user_id == user.id:
                raise SecondFactorError(
                    "you cannot reset your own second factor", code="own_second_factor"
                )
            acting = session.get(User, actor.user_id)
            if user.role == Role.ADMIN.value and (
                acting is None or acting.role != Role.ADMIN.value
            ):
                raise SecondFactorError(
                    "only an administrator resets an administrator's second factor",
                    code="admin_only",
                )
        factor = _factor(session, user.id)
        if factor is None and not _codes_left(session, user.id):
            raise SecondFactorError(f"{user.email} has no second factor", code="not_enrolled")
        if factor is not None:
            session.delete(factor)
        session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        ended = browser_sessions.end_all(session, user.id, RESET_ENDS_SESSIONS)
        record_event(
            session,
            actor,
            "user",
            user.id,
            "second_factor_reset",
            data={"sessions_ended": ended},
        )
    return user, ended
