"""The event history of applications and permits, which is also the audit trail.

Why one table: what a clerk sees as "history" and what an auditor checks must be the same data,
so every state change writes exactly one row here, in the same transaction as the change.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ztl.models.base import Base, utcnow


class Event(Base):
    __tablename__ = "event"
    __table_args__ = (Index("ix_event_subject", "subject_type", "subject_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Who: a user, or a label for the system, the CLI or a token ("cli", "system", "token:gate-a1").
    actor_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    actor_label: Mapped[str] = mapped_column(String(100))
    # What: application, permit, user, token, registry.
    subject_type: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class RegistryImport(Base):
    """One run of a registry import, with its counts: what was loaded, when, by whom."""

    __tablename__ = "registry_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    source_name: Mapped[str] = mapped_column(String(255))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
    rows_read: Mapped[int] = mapped_column(default=0)
    rows_imported: Mapped[int] = mapped_column(default=0)
    rows_rejected: Mapped[int] = mapped_column(default=0)
    actor_label: Mapped[str] = mapped_column(String(100))
