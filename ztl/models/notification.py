"""E-mails sent to applicants, one row each: what was sent, to whom, and whether it went out.

Why a table: the expiry reminders run as a daily job and must be sent once per permit and threshold
even when the job runs twice or is retried after a failure (the unique constraint makes the second
attempt a no-op), and a clerk answering "I never got the e-mail" needs to see what was sent when.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ztl.models.base import Base, utcnow


class Notification(Base):
    __tablename__ = "notification"
    __table_args__ = (
        # One reminder of each kind per permit (expiry_60, expiry_30, expiry_7).
        UniqueConstraint("kind", "permit_id", name="uq_notification_kind_permit"),
        Index("ix_notification_application", "application_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("application.id", ondelete="SET NULL")
    )
    permit_id: Mapped[int | None] = mapped_column(
        ForeignKey("permit.id", ondelete="SET NULL"), index=True
    )
    recipient: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(5), default="it")
    subject: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    # The message's own key, chosen when it was decided (ztl.mail.notifications): a job on the
    # queue retried after a worker died finds its row and does not send it twice.
    idempotency_key: Mapped[str | None] = mapped_column(String(120), unique=True)
