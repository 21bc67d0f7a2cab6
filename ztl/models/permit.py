"""Issued permits, with their plates, zones and daily windows, and the per-year number counter.

A permit keeps a snapshot of its zones and windows: a later change of the category does not change
what an issued (and sealed) permit allows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ztl.models.base import Base, utcnow
from ztl.models.city import EVERY_DAY, WINDOW_CHECKS, Category, Zone
from ztl.models.enums import PermitStatus, check_in


class PermitNumberCounter(Base):
    """The last serial used per year: permit numbers are unique and without gaps per year."""

    __tablename__ = "permit_number_counter"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_serial: Mapped[int] = mapped_column(default=0)


class Permit(Base):
    __tablename__ = "permit"
    __table_args__ = (
        UniqueConstraint("year", "serial"),
        CheckConstraint(check_in("status", PermitStatus), name="status"),
        CheckConstraint("valid_from < valid_to", name="validity"),
        Index("ix_permit_status_valid_to", "status", "valid_to"),
        # At most one permit per application: its first; the ones that replace it (a plate change
        # of that permit) name their predecessor instead, and each predecessor has one successor.
        Index(
            "uq_permit_first_of_application",
            "application_id",
            unique=True,
            sqlite_where=text("replaces_id IS NULL"),
            postgresql_where=text("replaces_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # PO-2026-000123
    year: Mapped[int]
    serial: Mapped[int]
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("application.id", ondelete="SET NULL"), index=True
    )
    holder_id: Mapped[str] = mapped_column(String(16), index=True)
    holder_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default=PermitStatus.ACTIVE.value)
    valid_from: Mapped[dt.datetime]
    valid_to: Mapped[dt.datetime]
    issued_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    fee_cents: Mapped[int] = mapped_column(default=0)
    # The seal: cti (8 random bytes, hex) is also the revocation handle; kid names the signing key.
    seal_id: Mapped[str | None] = mapped_column(String(16), unique=True)
    seal_kid: Mapped[str | None] = mapped_column(String(16), index=True)
    seal_text: Mapped[str | None] = mapped_column(Text)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    ended_at: Mapped[dt.datetime | None]
    end_reason: Mapped[str | None] = mapped_column(Text)
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("permit.id", ondelete="SET NULL"))
    # The permit this one replaced (plate change, renewal): unique, so two racing changes of one
    # permit cannot both leave a live successor, whatever path forgot a lock.
    replaces_id: Mapped[int | None] = mapped_column(
        ForeignKey("permit.id", ondelete="SET NULL"), unique=True
    )
    # Set by the re-check against the registers: the permit waits in the clerks' queue, it is never
    # revoked silently. Cleared when a clerk decides or a later re-check passes.
    flagged_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    flag_checks: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # Set when the retention (ztl.records.retention) removed the holder's data years after
    # the end: the row stays for the numbering, statistics and the event history it anchors.
    anonymised_at: Mapped[dt.datetime | None]

    category: Mapped[Category] = relationship()
    plates: Mapped[list[PermitPlate]] = relationship(
        back_populates="permit", cascade="all, delete-orphan", order_by="PermitPlate.position"
    )
    zones: Mapped[list[Zone]] = relationship(secondary="permit_zone", order_by="Zone.code")
    windows: Mapped[list[PermitWindow]] = relationship(
        back_populates="permit", cascade="all, delete-orphan", order_by="PermitWindow.start_minute"
    )


class PermitPlate(Base):
    __tablename__ = "permit_plate"

    permit_id: Mapped[int] = mapped_column(
        ForeignKey("permit.id", ondelete="CASCADE"), primary_key=True
    )
    plate: Mapped[str] = mapped_column(String(12), primary_key=True, index=True)
    country: Mapped[str] = mapped_column(String(2), default="IT")
    position: Mapped[int] = mapped_column(default=0)

    permit: Mapped[Permit] = relationship(back_populates="plates")


class PermitZone(Base):
    __tablename__ = "permit_zone"

    permit_id: Mapped[int] = mapped_column(
        ForeignKey("permit.id", ondelete="CASCADE"), primary_key=True
    )
    zone_id: Mapped[int] = mapped_column(ForeignKey("zone.id"), primary_key=True)


class PermitWindow(Base):
    """A daily window of an issued permit (snapshot of its category's); none means always."""

    __tablename__ = "permit_window"
    __table_args__ = WINDOW_CHECKS

    id: Mapped[int] = mapped_column(primary_key=True)
    permit_id: Mapped[int] = mapped_column(ForeignKey("permit.id", ondelete="CASCADE"), index=True)
    start_minute: Mapped[int]
    end_minute: Mapped[int]
    weekdays: Mapped[int] = mapped_column(default=EVERY_DAY)

    permit: Mapped[Permit] = relationship(back_populates="windows")


class RevocationListState(Base):
    """The revocation list's sequence number, bumped in the transaction of every revocation.

    Verifiers refuse a list with a lower sequence than the one they hold, so the number only grows;
    a row lock on it also orders concurrent revocations.
    """

    __tablename__ = "revocation_list_state"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    sequence: Mapped[int] = mapped_column(default=0)
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
