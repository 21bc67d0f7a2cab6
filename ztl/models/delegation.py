"""A person's delegation to act for a firm, and the two documents that back it.

Who may act for a firm (apply for its permits, buy its hotel booklets, register its guests): its
legal representatives, as the business register names them (ztl.models.registers.
BusinessRepresentative), and the people a clerk approved as its delegates here. A delegation is
asked with the signed delegation form and the delegate's identity document, decided by a clerk
(approved, or refused with a reason) and may be revoked at any time; the row keeps who decided or
revoked it, when and why.

Why a partial unique index: a person has at most one live delegation (asked or approved) per firm,
whatever two browser tabs send at the same moment; refused and revoked ones stay as history.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ztl.models.base import Base, utcnow
from ztl.models.enums import DelegationStatus, check_in

LIVE = "status IN ('requested', 'approved')"


class FirmDelegation(Base):
    __tablename__ = "firm_delegation"
    __table_args__ = (
        CheckConstraint(check_in("status", DelegationStatus), name="status"),
        Index(
            "uq_firm_delegation_live",
            "partita_iva",
            "delegate_user_id",
            unique=True,
            sqlite_where=text(LIVE),
            postgresql_where=text(LIVE),
        ),
        Index("ix_firm_delegation_queue", "status", "requested_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partita_iva: Mapped[str] = mapped_column(String(11), index=True)
    delegate_user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(10), default=DelegationStatus.REQUESTED.value)
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[dt.datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    # The clerk's words on a refusal (the person reads them).
    decision_reason: Mapped[str | None] = mapped_column(Text)
    revoked_at: Mapped[dt.datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    revocation_reason: Mapped[str | None] = mapped_column(Text)

    documents: Mapped[list[FirmDelegationDocument]] = relationship(
        back_populates="delegation",
        cascade="all, delete-orphan",
        order_by="FirmDelegationDocument.kind",
    )


class FirmDelegationDocument(Base):
    """One of a delegation's two files (the signed form, the delegate's identity document),
    stored like an application's documents: outside static/, under a random name."""

    __tablename__ = "firm_delegation_document"
    __table_args__ = (
        UniqueConstraint("delegation_id", "kind"),
        CheckConstraint("size_bytes >= 0", name="size_bytes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    delegation_id: Mapped[int] = mapped_column(
        ForeignKey("firm_delegation.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(40))  # delegation_form, identity_document
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(60))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    delegation: Mapped[FirmDelegation] = relationship(back_populates="documents")
