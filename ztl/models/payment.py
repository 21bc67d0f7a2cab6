"""Money owed and money received: debt positions at the pagoPA intermediary, the receipts that came
back, and the refunds the accounting office owes.

Why positions are rows here and not only at the intermediary: the notice number is fixed before the
intermediary is called (a retry then carries the same number), a position whose call failed is
found and opened again by the daily job, and the accounting office reads positions, receipts and
refunds from one database, in integer cents, whatever the intermediary's own console says.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ztl.models.base import Base, utcnow
from ztl.models.enums import PositionState, RefundReason, check_in


class PaymentPosition(Base):
    """One debt position: what one payer owes for one application or booklet.

    An application has at most one position that is not cancelled (the partial unique index), so
    submitting twice, or the daily job retrying, finds the same one.
    """

    __tablename__ = "payment_position"
    __table_args__ = (
        CheckConstraint(check_in("state", PositionState), name="state"),
        CheckConstraint(
            "fee_cents >= 0 AND stamp_duty_cents >= 0 AND amount_cents = fee_cents + "
            "stamp_duty_cents AND amount_cents > 0",
            name="money",
        ),
        CheckConstraint("(application_id IS NULL) <> (booklet_id IS NULL)", name="one_debt"),
        Index(
            "uq_payment_position_live_application",
            "application_id",
            unique=True,
            sqlite_where=text("state NOT IN ('cancelling', 'cancelled')"),
            postgresql_where=text("state NOT IN ('cancelling', 'cancelled')"),
        ),
        Index("ix_payment_position_state", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    iuv: Mapped[str] = mapped_column(String(17), unique=True)
    notice_number: Mapped[str] = mapped_column(String(18), unique=True)
    # The position's id at the intermediary (GovPay's idPendenza): derived from the IUV.
    remote_id: Mapped[str] = mapped_column(String(35), unique=True)
    provider: Mapped[str] = mapped_column(String(20))
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("application.id", ondelete="RESTRICT"), index=True
    )
    booklet_id: Mapped[int | None] = mapped_column(
        ForeignKey("hotel_booklet.id", ondelete="RESTRICT"), index=True
    )
    # What is paid for, for the accounting office's totals: the category's code and why.
    category_code: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(String(20))  # application, renewal, booklet
    fee_cents: Mapped[int]
    stamp_duty_cents: Mapped[int]
    amount_cents: Mapped[int]
    payer_kind: Mapped[str] = mapped_column(String(1))  # F: a person, G: a firm (pagoPA's)
    payer_tax_code: Mapped[str] = mapped_column(String(16))
    payer_name: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(140))  # the causale the payer reads
    expires_on: Mapped[dt.date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(20), default=PositionState.OPENING.value)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    opened_at: Mapped[dt.datetime | None]
    paid_at: Mapped[dt.datetime | None]
    cancelled_at: Mapped[dt.datetime | None]
    receipt_id: Mapped[str | None] = mapped_column(String(64))
    # The last failure talking to the intermediary, and when: for the accounting office, and so
    # that a page asking again waits a minute between tries.
    last_error: Mapped[str | None] = mapped_column(Text)
    failed_at: Mapped[dt.datetime | None]


class PaymentNotification(Base):
    """A receipt as it reached us (the intermediary's notification, the daily reconciliation, or a
    signed notification), with what we did with it.

    Why every attempt is kept: the accounting office must see refused ones (an amount or a payer
    that does not match, an unknown notice, a cancelled one, a replay) as well as accepted ones.
    The partial unique index makes a receipt accepted at most once on both engines, whatever the
    timing of two deliveries.
    """

    __tablename__ = "payment_notification"
    __table_args__ = (
        Index(
            "uq_payment_notification_accepted_receipt",
            "receipt_id",
            unique=True,
            sqlite_where=text("outcome = 'accepted'"),
            postgresql_where=text("outcome = 'accepted'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_id: Mapped[str] = mapped_column(String(64), index=True)
    iuv: Mapped[str] = mapped_column(String(40), index=True)
    amount_cents: Mapped[int]
    paid_at: Mapped[dt.datetime]
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    outcome: Mapped[str] = mapped_column(String(20))  # accepted, replay, refused
    # The outcome's code (paid, already_recorded, amount_mismatch, ...: payment_receipts); the
    # reason is its message, for people.
    code: Mapped[str | None] = mapped_column(String(30))
    reason: Mapped[str | None] = mapped_column(Text)
    body_sha256: Mapped[str] = mapped_column(String(64))
    # How it came: notification (the intermediary's call), reconciliation (the daily job found
    # it), signed (the generic signed notification).
    channel: Mapped[str] = mapped_column(String(20), default="signed")
    payer_tax_code: Mapped[str | None] = mapped_column(String(16))
    position_id: Mapped[int | None] = mapped_column(
        ForeignKey("payment_position.id", ondelete="SET NULL"), index=True
    )


class RefundRequest(Base):
    """Money to give back, for the accounting office to pay and mark done.

    One per receipt (the unique receipt id): a rejection noticed twice, or a double payment
    reported by both paths, asks once.
    """

    __tablename__ = "refund_request"
    __table_args__ = (
        CheckConstraint(check_in("reason", RefundReason), name="reason"),
        CheckConstraint("amount_cents > 0", name="amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    position_id: Mapped[int] = mapped_column(
        ForeignKey("payment_position.id", ondelete="RESTRICT"), index=True
    )
    receipt_id: Mapped[str] = mapped_column(String(64), unique=True)
    amount_cents: Mapped[int]
    reason: Mapped[str] = mapped_column(String(20))
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    done_at: Mapped[dt.datetime | None]
    done_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
