"""A hotel's booklet of guest registrations (category 8A: 40 registrations for EUR 45).

Why a counter row and not a count of permits: registrations race (two receptionists, a batch upload),
and a row lock on the booklet makes "at most 40" hold without counting under a table lock.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ztl.models.base import Base, utcnow


class HotelBooklet(Base):
    __tablename__ = "hotel_booklet"
    __table_args__ = (
        CheckConstraint("used >= 0 AND used <= size", name="used"),
        CheckConstraint("price_cents >= 0", name="price"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The hotel: its partita IVA, and the account that bought the booklet and registers guests.
    holder_id: Mapped[str] = mapped_column(String(16), index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    size: Mapped[int] = mapped_column(default=40)
    used: Mapped[int] = mapped_column(default=0)
    price_cents: Mapped[int] = mapped_column(default=4500)
    payment_reference: Mapped[str | None] = mapped_column(String(40), unique=True)
    paid_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class GuestNight(Base):
    """A night a hotel registered a guest's plate for: one row per (hotel, plate, night).

    Why rows per night: "the same plate registered twice for overlapping stays" is then a primary
    key conflict, which both engines enforce under any concurrency without triggers or range types.
    A registration that ends early (revoked, given up) frees its nights.
    """

    __tablename__ = "guest_night"

    holder_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    plate: Mapped[str] = mapped_column(String(12), primary_key=True)
    night: Mapped[dt.date] = mapped_column(primary_key=True)
    permit_id: Mapped[int] = mapped_column(ForeignKey("permit.id", ondelete="CASCADE"), index=True)
