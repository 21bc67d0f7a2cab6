"""The daily jobs' runs, one row per job and local day: the claim that makes a day's run happen once.

Why in the database and not only in Redis: every node's scheduler asks at the same minute, and the
first INSERT of (job, day) wins, whichever node it came from; the row outlives a Redis restart
(which keeps nothing on disk), so a day's run is never started twice. The row also tells an
operator what ran, when, how often it was attempted and what it said (`ztl jobs status`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ztl.models.base import Base, utcnow


class JobRun(Base):
    __tablename__ = "job_run"
    __table_args__ = (UniqueConstraint("name", "day", name="uq_job_run_name_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))  # expire, remind, recheck, retention, ...
    day: Mapped[dt.date] = mapped_column(Date)  # the municipality's local date it ran for
    status: Mapped[str] = mapped_column(String(12))  # queued, running, done, failed
    attempts: Mapped[int] = mapped_column(default=0)
    queued_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    output: Mapped[str | None] = mapped_column(Text)  # what the command printed, cut short
