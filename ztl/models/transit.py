"""The transit ledger: what the gates' cameras read, kept only as long as the law allows.

Why one row per reading, even an authorized one: a gate delivers at least once, so a reading comes
again after a lost answer, and the repeat must be recognised (the gate's own id, unique per gate)
and answered the same. An authorized reading keeps no personal trace: its row has no plate, no
exact instant and no image, only the gate, the gate's id, the hour and the answer, so the counts
per gate and hour come from these rows (and, once the rows are purged, from `transit_hour_count`).

A reading that is not authorized keeps its plate, instant and image while it matters: `pending`
until the longest retroactive window of its zone closes (a hotel or a CUDE registration may still
cover it: it is then `cleared` and forgets its plate), then a `violation` for an officer to review,
who `confirmed` or `dismissed` it. A reading at a gate the city does not know is `held`: it cannot
be judged until the gate is configured, and the situation room shows it as an alarm.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ztl.models.base import Base, utcnow
from ztl.models.enums import TransitStatus, check_in


class Transit(Base):
    """One reading of one gate, identified by the gate and the gate's own id for it."""

    __tablename__ = "transit"
    __table_args__ = (
        UniqueConstraint("gate", "source_id", name="uq_transit_gate_source"),
        CheckConstraint(check_in("status", TransitStatus), name="status"),
        CheckConstraint(check_in("answer", TransitStatus), name="answer"),
        CheckConstraint("confidence IS NULL OR confidence BETWEEN 0 AND 100", name="confidence"),
        Index("ix_transit_status_pending_until", "status", "pending_until"),
        Index("ix_transit_received_at", "received_at"),
        Index("ix_transit_hour_gate", "hour", "gate"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    gate: Mapped[str] = mapped_column(String(20))  # as the gate named itself, upper case
    source_id: Mapped[str] = mapped_column(String(64))  # the gate's own id for this reading
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    hour: Mapped[dt.datetime]  # the UTC hour the reading was taken in
    # The reading's clock minus the server's when it arrived (a gate out of step shows here).
    skew_seconds: Mapped[int] = mapped_column(default=0)
    channel: Mapped[str] = mapped_column(String(10))  # http, mqtt, file
    # The first answer given (a repeat is answered with it) and where the reading stands now.
    answer: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(12))
    zone: Mapped[str | None] = mapped_column(String(10))
    direction: Mapped[str | None] = mapped_column(String(5))
    # Personal data, only while the reading is not authorized (NULL otherwise, or once anonymised).
    plate: Mapped[str | None] = mapped_column(String(12), index=True)
    read_at: Mapped[dt.datetime | None]
    confidence: Mapped[int | None]  # the plate reader's confidence, percent
    image_ref: Mapped[str | None] = mapped_column(String(500))  # where the gate keeps its picture
    image_file: Mapped[str | None] = mapped_column(String(64))  # a picture sent with the reading
    image_type: Mapped[str | None] = mapped_column(String(20))
    pending_until: Mapped[dt.datetime | None]
    # Why no permit covered it: the permits considered, each with why it did not (JSON).
    considered: Mapped[str | None] = mapped_column(Text)
    # The officer's review (who and why are in the audit chain as well).
    reviewed_at: Mapped[dt.datetime | None]
    reviewed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    reviewed_by_label: Mapped[str | None] = mapped_column(String(200))
    dismissal: Mapped[str | None] = mapped_column(String(20))
    review_note: Mapped[str | None] = mapped_column(Text)
    # The last day a fine may be notified (art. 201 of the Codice della strada), for a violation.
    notify_by: Mapped[dt.date | None] = mapped_column(Date)
    anonymised_at: Mapped[dt.datetime | None]


class TransitHourCount(Base):
    """Authorized readings per gate and UTC hour, kept after their rows are purged (readings that
    were not authorized are anonymised, not deleted, so they count from their rows)."""

    __tablename__ = "transit_hour_count"

    gate: Mapped[str] = mapped_column(String(20), primary_key=True)
    hour: Mapped[dt.datetime] = mapped_column(primary_key=True)
    authorized: Mapped[int] = mapped_column(default=0)


class TransitRefusal(Base):
    """A message from a gate that could not be read as a transit (MQTT has nobody to answer a
    400 to): kept with its reason for the situation room, never with the message itself."""

    __tablename__ = "transit_refusal"
    __table_args__ = (Index("ix_transit_refusal_received_at", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    channel: Mapped[str] = mapped_column(String(10))
    gate: Mapped[str | None] = mapped_column(String(20))
    source_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
