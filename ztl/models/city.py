"""The municipality's own configuration: its identity, zones with their calendars, gates, categories.

Why in the database as well as in the municipality's rules file (the single source, kept in step by
ztl.city.sync at start-up and on `ztl db upgrade`, never edited by hand): permits, gates and
applications refer to zones and categories by key, every process reads the same zone calendars, and
a change of the file can be compared with what is in force and refused when it would orphan data.
Money is not copied here: fees are computed from the rules file by ztl.rules.fees alone.
Daily windows are minutes from local midnight; an end at or before the start crosses midnight
(20:00-10:00), and 0-1440 means the whole day.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ztl.models.base import Base
from ztl.models.enums import Decider, check_in

WINDOW_CHECKS = (
    CheckConstraint("start_minute BETWEEN 0 AND 1439", name="start_minute"),
    CheckConstraint("end_minute BETWEEN 1 AND 1440", name="end_minute"),
    CheckConstraint("weekdays BETWEEN 1 AND 127", name="weekdays"),
)
EVERY_DAY = 127  # bit 0 = Monday ... bit 6 = Sunday


EMPTY_CALENDAR = '{"entries": [], "patron_saint": null}'


class City(Base):
    """The municipality in force (one row): whose permits these are and when the rules were read.

    Kept so that a rules file of another municipality (another code) is refused on a database that
    already holds permits issued, and sealed, under the first one.
    """

    __tablename__ = "city"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, default=1)
    code: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64))
    patron_saint: Mapped[str | None] = mapped_column(String(5))
    # SHA-256 of the canonical form of everything synced: equal means nothing to compare or write.
    digest: Mapped[str] = mapped_column(String(64))
    synced_at: Mapped[dt.datetime]


class Zone(Base):
    __tablename__ = "zone"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    # The calendar as canonical JSON (ztl.rules.calendar.calendar_data): when restrictions apply.
    calendar: Mapped[str] = mapped_column(Text, default=EMPTY_CALENDAR)
    # False once the rules file no longer has the zone but old permits still name it.
    active: Mapped[bool] = mapped_column(default=True)

    gates: Mapped[list[Gate]] = relationship(back_populates="zone", order_by="Gate.code")


class Gate(Base):
    """A camera gate (varco) at an entrance (or exit) of a zone."""

    __tablename__ = "gate"
    __table_args__ = (CheckConstraint("direction IN ('in', 'out', 'both')", name="direction"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(150))
    zone_id: Mapped[int] = mapped_column(ForeignKey("zone.id"), index=True)
    direction: Mapped[str] = mapped_column(String(5), default="in")

    zone: Mapped[Zone] = relationship(back_populates="gates")


class Category(Base):
    """A permit category of the catalogue (code 1 residenti, H CUDE, G/A daily, ...)."""

    __tablename__ = "category"
    __table_args__ = (
        CheckConstraint(check_in("decided_by", Decider), name="decided_by"),
        CheckConstraint("max_plates >= 1", name="max_plates"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    name_it: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    decided_by: Mapped[str] = mapped_column(String(30))
    max_plates: Mapped[int] = mapped_column(default=1)
    # ISO 8601 duration of one permit ("P1Y", "P1D", "PT2H"); rules may offer several (1 or 2 years).
    validity: Mapped[str] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(default=True)

    zones: Mapped[list[Zone]] = relationship(secondary="category_zone", order_by="Zone.code")
    windows: Mapped[list[CategoryWindow]] = relationship(
        back_populates="category",
        cascade="all, delete-orphan",
        order_by="CategoryWindow.start_minute",
    )


class CategoryZone(Base):
    __tablename__ = "category_zone"

    category_id: Mapped[int] = mapped_column(
        ForeignKey("category.id", ondelete="CASCADE"), primary_key=True
    )
    zone_id: Mapped[int] = mapped_column(
        ForeignKey("zone.id", ondelete="CASCADE"), primary_key=True
    )


class CategoryWindow(Base):
    """A daily window in which a category's permits authorise transit; none means always."""

    __tablename__ = "category_window"
    __table_args__ = (*WINDOW_CHECKS, UniqueConstraint("category_id", "start_minute", "end_minute"))

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(
        ForeignKey("category.id", ondelete="CASCADE"), index=True
    )
    start_minute: Mapped[int]
    end_minute: Mapped[int]
    weekdays: Mapped[int] = mapped_column(default=EVERY_DAY)

    category: Mapped[Category] = relationship(back_populates="windows")
