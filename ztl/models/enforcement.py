"""What enforcement keeps in the database: the index's version, its change log, and plate lookups.

Each app process holds the enforcement index in memory. To stay consistent with the others (several
gunicorn workers, several hosts, one PostgreSQL), every transaction that changes a permit bumps the
one row of `enforcement_state` and writes which permits changed under that version. The row lock
orders those transactions, so versions commit in order and a process that has applied version N
can fetch "everything after N" with one indexed query and miss nothing.

Plate lookups are personal data (where a car was, who asked): each one is recorded with who asked,
when, which plate and what was answered, kept for the retention the municipality sets, then
anonymised (the plate is blanked, the rest stays for statistics).
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ztl.models.base import Base, utcnow


class EnforcementState(Base):
    """The single row (id 1) whose version grows with every committed permit change."""

    __tablename__ = "enforcement_state"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    # New when the row is (re)created: a restored or emptied database is never mistaken for the
    # one a process indexed, even once its version has grown past the number the process holds.
    epoch: Mapped[str] = mapped_column(String(32), default=lambda: secrets.token_hex(16))
    version: Mapped[int] = mapped_column(default=0)
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class EnforcementChange(Base):
    """Permit `permit_id` changed (issued, revoked, replaced, expired...) at `version`."""

    __tablename__ = "enforcement_change"

    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    permit_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)


class PlateLookup(Base):
    """One answer given about a plate: by the API, the police page or a transit check."""

    __tablename__ = "plate_lookup"
    __table_args__ = (Index("ix_plate_lookup_asked_at", "asked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    asked_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Who asked: a token (gate, police device) or a signed-in officer; the label survives deletion.
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_token.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    actor_label: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(20))  # authorization, transit, police_page
    plate: Mapped[str | None] = mapped_column(String(12), index=True)  # None once anonymised
    zone: Mapped[str | None] = mapped_column(String(10))
    # The gate a transit was read at (transit checks); a gate with recorded transits stays.
    gate: Mapped[str | None] = mapped_column(String(10), index=True)
    at: Mapped[dt.datetime]  # the instant the question was about
    authorized: Mapped[bool]
    pending_until: Mapped[dt.datetime | None]
    reason: Mapped[str] = mapped_column(Text)
    # A violation stays (plate included) until the police close it; then retention applies.
    violation_closed_at: Mapped[dt.datetime | None]
    anonymised_at: Mapped[dt.datetime | None]
