"""Password hashing with argon2id (argon2-cffi), and the policy for new passwords.

The policy refuses what guessing tries first: short passwords (12 characters for staff, who see
everyone's data; 10 for residents), passwords of only letters or only digits, and passwords that
zxcvbn (a maintained estimator built on lists of common and leaked passwords, names and keyboard
patterns) scores below 3 of 4, such as `password12`; the person's own e-mail and name count as
guessable. Leading or trailing blanks are refused: they are invisible and usually a paste error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn import zxcvbn

_hasher = PasswordHasher()
MIN_LENGTH = 10
MIN_STAFF_LENGTH = 12
MIN_STRENGTH = 3  # zxcvbn's score, 0 (guessed at once) to 4
_ESTIMATED_CHARACTERS = 100  # zxcvbn slows down on long input; the start decides anyway
# Verified against when the e-mail is unknown, so that the answer takes the same time either way.
_DUMMY_HASH = _hasher.hash("not-a-real-password-for-timing")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_problem(
    password: str, staff: bool = False, personal: Iterable[str] = ()
) -> str | None:
    """Why a new password is not acceptable, or None. Messages are keys translated by callers.

    `personal`: what is known about the person (e-mail, name, codice fiscale), guessable by anyone.
    """
    if password != password.strip():
        return "blank_padded"
    if len(password) < (MIN_STAFF_LENGTH if staff else MIN_LENGTH):
        return "too_short_staff" if staff else "too_short"
    if password.isdigit() or password.isalpha():
        return "too_simple"
    values = [value for value in personal if value]
    hints = values + [part for value in values for part in re.split(r"[@.\s_-]+", value) if part]
    if zxcvbn(password[:_ESTIMATED_CHARACTERS], user_inputs=hints)["score"] < MIN_STRENGTH:
        return "too_common"
    return None
