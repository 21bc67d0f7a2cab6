"""The transaction boundary every service uses: all of a state change commits, or none of it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy.orm import Session, scoped_session

from ztl.database import writing
from ztl.extensions import db


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in user, or the system, the CLI, a machine token."""

    label: str
    user_id: int | None = None

    @classmethod
    def cli(cls) -> Actor:
        return cls(label="cli")

    @classmethod
    def system(cls) -> Actor:
        return cls(label="system")

    @classmethod
    def of_user(cls, user: Any) -> Actor:
        """A signed-in user, named by e-mail in the history (the id keeps the link)."""
        return cls(label=str(user.email), user_id=int(user.id))


class ServiceError(Exception):
    """A refusal a person can understand; `code` is stable for APIs and tests."""

    code = "refused"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code


@contextmanager
def unit_of_work() -> Iterator[scoped_session[FlaskSession]]:
    """Commit on success, roll back on any error, so nothing is half-written.

    On SQLite the transaction takes the write lock at its start (ztl.database.writing): what it
    reads is still true when it writes, even with several gunicorn workers.
    """
    session = db.session
    with writing(session):
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# What services pass around inside a transaction: the Flask-SQLAlchemy scoped session or a plain one.
AnySession = Session | scoped_session[Any]
