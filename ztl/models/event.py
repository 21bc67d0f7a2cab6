"""The event history of applications and permits, which is also the audit trail.

Why one table: what a clerk sees as "history" and what an auditor checks must be the same data,
so every state change writes exactly one row here, in the same transaction as the change.

The rows are chained by hash (ztl.records.audit_chain): each committed event has a position
(`chain_seq`, in commit order), the hash of the event before it and its own hash, and the one row
of `audit_chain_head` holds the last position and hash. `ztl audit verify` recomputes the chain, so
a row edited or deleted behind the application's back shows. Events are therefore append-only:
never update or delete one (a correction is a new event). The one change allowed is retention's
redaction of the personal fields of an anonymised record's events (`redact_events`), which the
chain is built to survive.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ztl.models.base import Base, utcnow


class Event(Base):
    __tablename__ = "event"
    __table_args__ = (
        Index("ix_event_subject", "subject_type", "subject_id", "occurred_at"),
        # Unique among chained rows only: a row is inserted at flush with chain_seq 0 and gets its
        # position just before its transaction commits (positions follow commit order, ids don't).
        Index(
            "uq_event_chain_seq",
            "chain_seq",
            unique=True,
            sqlite_where=text("chain_seq > 0"),
            postgresql_where=text("chain_seq > 0"),
        ),
    )

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
    # The hash chain, filled in by the before_commit hook of ztl.records.audit_chain: 0 and ""
    # only while the writing transaction is open (a committed row with 0 was written around it).
    chain_seq: Mapped[int] = mapped_column(default=0)
    prev_hash: Mapped[str] = mapped_column(String(64), default="")
    hash: Mapped[str] = mapped_column(String(64), default="")
    # The personal fields (actor_label, reason, data) enter the chain through a salted digest, so
    # that retention can erase them later without breaking the chain (ztl.records.audit_chain):
    # the salt goes with them, and `redacted_at` says when.
    personal_digest: Mapped[str] = mapped_column(String(64), default="", server_default="")
    personal_salt: Mapped[str | None] = mapped_column(String(32))
    redacted_at: Mapped[dt.datetime | None]


class AuditChainHead(Base):
    """The single row (id 1) naming the last chained event: its position and its hash.

    Every transaction that writes events locks this row just before commit (after the enforcement
    lock) and holds it until commit, so chain positions follow commit order across processes. It
    also catches the deletion of the last events, which no later row would miss.
    """

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


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
