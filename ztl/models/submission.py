"""Form submissions already received: the memory behind "a repeated form has one effect".

Why a table: a double tap, a retry on a slow network or a reload resubmits a form; two gunicorn
workers may even run the twins at the same moment. Each form carries a random key; its first
arrival claims this row (unique on the key's hash, within the person's scope), and later arrivals
get the first one's result instead of a second effect. Rows live a day (`ztl retention run`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ztl.models.base import Base, utcnow


class FormSubmission(Base):
    __tablename__ = "form_submission"

    id: Mapped[int] = mapped_column(primary_key=True)
    # SHA-256 of (scope, key): the scope is the account, or the visitor's session before sign-in,
    # so nobody can replay or read another person's submission by guessing its key.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    endpoint: Mapped[str] = mapped_column(String(80))
    state: Mapped[str] = mapped_column(String(10), default="running")  # running, done
    location: Mapped[str | None] = mapped_column(String(500))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[dt.datetime | None]
