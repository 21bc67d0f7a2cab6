"""Reading issued permits (no state change): the signed PDF, for its holder, a clerk or the CLI."""

from __future__ import annotations

from sqlalchemy import select

from ztl.extensions import db
from ztl.models import Permit


def permit_pdf(number: str) -> bytes | None:
    return db.session.execute(
        select(Permit.pdf).where(Permit.number == number)
    ).scalar_one_or_none()
