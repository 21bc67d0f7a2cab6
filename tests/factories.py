"""Small builders for test data, going through the services like real callers do."""

from __future__ import annotations

from ztl.models import User
from ztl.services.accounts import create_user

PASSWORD = "correct-horse-42"
# Valid codici fiscali (check characters computed by python-stdnum).
CF_MARIO = "RSSMRA85T10A562S"


def make_user(
    role: str, email: str | None = None, password: str = PASSWORD, codice_fiscale: str | None = None
) -> User:
    return create_user(
        role,
        email or f"{role}@example.test",
        password,
        f"Test {role}",
        codice_fiscale=codice_fiscale,
    )
