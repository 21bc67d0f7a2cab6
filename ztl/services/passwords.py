"""Password hashing with argon2id (argon2-cffi), and the policy for new passwords."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
MIN_LENGTH = 10
# Verified against when the e-mail is unknown, so that the answer takes the same time either way.
_DUMMY_HASH = _hasher.hash("not-a-real-password-for-timing")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_problem(password: str) -> str | None:
    """Why a new password is not acceptable, or None. Messages are keys translated by callers."""
    if len(password) < MIN_LENGTH:
        return "too_short"
    if password.isdigit() or password.isalpha():
        return "too_simple"
    return None
