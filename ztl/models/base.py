"""Declarative base, constraint naming convention and the UTC time column type.

Why: Alembic needs deterministic constraint names to alter them later (and SQLite needs batch mode);
times are stored in UTC on both engines, and SQLite forgets the offset, so the column type puts it back.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import DateTime, Dialect, MetaData
from sqlalchemy.orm import DeclarativeBase, registry
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware datetime stored in UTC; naive values are refused, never guessed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime: times are stored in UTC and must carry an offset")
        utc = value.astimezone(dt.UTC)
        if dialect.name == "sqlite":
            return utc.replace(tzinfo=None)
        return utc

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def driver_instant(value: dt.datetime | None, sqlite: bool) -> Any:
    """An instant as UTCDateTime would hand it to the database driver, for the hot paths that
    write through the driver itself (plate lookups, gate readings): aware and in UTC, or on
    SQLite SQLAlchemy's DATETIME text, which UTCDateTime reads back as UTC. Naive is refused."""
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime: times are stored in UTC and must carry an offset")
    utc = value.astimezone(dt.UTC)
    if sqlite:
        return utc.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    return utc


def utcnow() -> dt.datetime:
    """The current time in UTC, aware: the only clock models use for defaults."""
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    # One registry carries both the naming convention and the UTC mapping of datetime annotations.
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={dt.datetime: UTCDateTime()},
    )
