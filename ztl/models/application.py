"""Permit applications, the plates and zones they ask for, and the documents attached to them.

The facts gathered and the verdict of the rules are stored with the application as JSON, so a clerk
(and a judge) sees exactly what the decision was based on, even after the registers change.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ztl.models.base import Base, utcnow
from ztl.models.city import Category, Zone
from ztl.models.enums import ApplicationStatus, Outcome, check_in


class Application(Base):
    __tablename__ = "application"
    __table_args__ = (
        CheckConstraint(check_in("status", ApplicationStatus), name="status"),
        CheckConstraint(f"outcome IS NULL OR {check_in('outcome', Outcome)}", name="outcome"),
        CheckConstraint("fee_cents >= 0 AND stamp_duty_cents >= 0", name="money"),
        Index("ix_application_queue", "status", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The account that applied (a resident, a hotel's account, or a clerk at the counter).
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    # Whom the permit is for: a codice fiscale or a partita IVA.
    applicant_id: Mapped[str] = mapped_column(String(16), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=ApplicationStatus.DRAFT.value)
    requested_from: Mapped[dt.date | None] = mapped_column(Date)
    # Free data the category's form asks for (registration number, garage spaces, ...).
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    facts: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    verdict: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    outcome: Mapped[str | None] = mapped_column(String(14))
    checked_at: Mapped[dt.datetime | None]
    fee_cents: Mapped[int] = mapped_column(default=0)
    stamp_duty_cents: Mapped[int] = mapped_column(default=0)
    payment_reference: Mapped[str | None] = mapped_column(String(40), unique=True)
    paid_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[dt.datetime | None]
    decided_at: Mapped[dt.datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    decision_reason: Mapped[str | None] = mapped_column(Text)
    # Set when the retention (ztl.records.retention) removed the applicant's data years
    # after the application closed: the row stays for statistics and the event history.
    anonymised_at: Mapped[dt.datetime | None]

    category: Mapped[Category] = relationship()
    plates: Mapped[list[ApplicationPlate]] = relationship(
        back_populates="application",
        cascade="all, delete-orphan",
        order_by="ApplicationPlate.position",
    )
    zones: Mapped[list[Zone]] = relationship(secondary="application_zone", order_by="Zone.code")
    documents: Mapped[list[Document]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="Document.uploaded_at"
    )


class ApplicationPlate(Base):
    __tablename__ = "application_plate"

    application_id: Mapped[int] = mapped_column(
        ForeignKey("application.id", ondelete="CASCADE"), primary_key=True
    )
    plate: Mapped[str] = mapped_column(String(12), primary_key=True, index=True)
    # Foreign plates carry their country (ISO 3166-1 alpha-2); Italian ones "IT".
    country: Mapped[str] = mapped_column(String(2), default="IT")
    position: Mapped[int] = mapped_column(default=0)

    application: Mapped[Application] = relationship(back_populates="plates")


class ApplicationZone(Base):
    __tablename__ = "application_zone"

    application_id: Mapped[int] = mapped_column(
        ForeignKey("application.id", ondelete="CASCADE"), primary_key=True
    )
    zone_id: Mapped[int] = mapped_column(ForeignKey("zone.id"), primary_key=True)


class Document(Base):
    """An uploaded file; stored outside static/ under a random name, served only after a check."""

    __tablename__ = "document"
    __table_args__ = (CheckConstraint("size_bytes >= 0", name="size_bytes"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("application.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(40))
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(60))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )

    application: Mapped[Application] = relationship(back_populates="documents")
