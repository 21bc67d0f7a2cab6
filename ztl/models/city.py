"""The municipality's own configuration: zones, their gates and active hours, permit categories.

Why in the database as well as in the municipality's rules file: permits, gates and applications refer
to zones and categories by key, and clerks and the enforcement index need them with one query.
Daily windows are minutes from local midnight (Europe/Rome); an end at or before the start crosses
midnight (20:00-10:00), and 0-1440 means the whole day.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ztl.models.base import Base
from ztl.models.enums import Decider, check_in

WINDOW_CHECKS = (
    CheckConstraint("start_minute BETWEEN 0 AND 1439", name="start_minute"),
    CheckConstraint("end_minute BETWEEN 1 AND 1440", name="end_minute"),
    CheckConstraint("weekdays BETWEEN 1 AND 127", name="weekdays"),
)
EVERY_DAY = 127  # bit 0 = Monday ... bit 6 = Sunday


class Zone(Base):
    __tablename__ = "zone"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(100))

    gates: Mapped[list[Gate]] = relationship(back_populates="zone", order_by="Gate.code")
    windows: Mapped[list[ZoneWindow]] = relationship(
        back_populates="zone", cascade="all, delete-orphan", order_by="ZoneWindow.start_minute"
    )


class ZoneWindow(Base):
    """When a zone is active (restrictions apply); outside every window no permit is needed."""

    __tablename__ = "zone_window"
    __table_args__ = WINDOW_CHECKS

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zone.id", ondelete="CASCADE"), index=True)
    start_minute: Mapped[int]
    end_minute: Mapped[int]
    weekdays: Mapped[int] = mapped_column(default=EVERY_DAY)

    zone: Mapped[Zone] = relationship(back_populates="windows")


class Gate(Base):
    """A camera gate (varco) at an entrance of a zone."""

    __tablename__ = "gate"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(150))
    zone_id: Mapped[int] = mapped_column(ForeignKey("zone.id"), index=True)

    zone: Mapped[Zone] = relationship(back_populates="gates")


class Category(Base):
    """A permit category of the catalogue (code 1 residenti, H CUDE, G/A daily, ...)."""

    __tablename__ = "category"
    __table_args__ = (
        CheckConstraint(check_in("decided_by", Decider), name="decided_by"),
        CheckConstraint("fee_cents >= 0", name="fee_cents"),
        CheckConstraint("max_plates >= 1", name="max_plates"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    name_it: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    fee_cents: Mapped[int] = mapped_column(default=0)
    stamp_duty_exempt: Mapped[bool] = mapped_column(default=False)
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
