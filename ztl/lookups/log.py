"""The record of plate lookups as supervisors read it: newest first, filtered, a page at a time.

Every answer given about a plate is a row (ztl.enforcement.authorizations records them): who asked,
when, which plate, what was answered. Supervisors read that record to see that lookups are used
for their purpose; they filter by plate (exact, normalised like everywhere else, so it uses the
plate index) and by channel.

Why the count stops at MAX_COUNTED: gate systems check every transit, so the table grows by
thousands of rows a day and is never emptied (anonymised rows stay for statistics). Counting every
matching row for a page footer would read them all; the count is therefore capped, the page says
"more than" when it is reached, and the pages beyond it are not offered: a filter by plate or
channel reaches any row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select

from ztl.extensions import db
from ztl.models import PlateLookup
from ztl.values import InvalidValue
from ztl.values.plates import normalise_plate

# Where a lookup came from (PlateLookup.channel): the API's single question, a batch of camera
# transits (API or file), the police page, a signed-in person's eligibility question.
AUTHORIZATION = "authorization"
TRANSIT = "transit"
POLICE_PAGE = "police_page"
ELIGIBILITY = "eligibility"
CHANNELS = (AUTHORIZATION, TRANSIT, POLICE_PAGE, ELIGIBILITY)
PER_PAGE = 50
MAX_COUNTED = 10_000


@dataclass(frozen=True)
class LookupQuery:
    plate: str = ""  # as typed; normalised here
    channel: str = ""  # "" for every channel
    page: int = 1


@dataclass(frozen=True)
class LookupPage:
    rows: list[PlateLookup]
    total: int  # matching rows, at most MAX_COUNTED
    more: bool  # more rows match than were counted
    page: int
    pages: int
    plate: str  # the normalised plate filtered on, "" for none


def _conditions(query: LookupQuery) -> tuple[list[ColumnElement[bool]], str]:
    conditions: list[ColumnElement[bool]] = []
    plate = ""
    if query.plate.strip():
        plate = normalise_plate(query.plate)
        conditions.append(PlateLookup.plate == plate)
    if query.channel:
        if query.channel not in CHANNELS:
            raise InvalidValue(f"canale sconosciuto / unknown channel: {query.channel!r}")
        conditions.append(PlateLookup.channel == query.channel)
    return conditions, plate


def lookup_page(query: LookupQuery) -> LookupPage:
    """One page of lookups, newest first; InvalidValue for an unreadable plate or unknown channel."""
    conditions, plate = _conditions(query)
    capped = select(PlateLookup.id).where(*conditions).limit(MAX_COUNTED + 1).subquery()
    counted = db.session.scalar(select(func.count()).select_from(capped)) or 0
    total = min(counted, MAX_COUNTED)
    pages = max(1, math.ceil(total / PER_PAGE))
    page = min(max(1, query.page), pages)
    offset = (page - 1) * PER_PAGE
    rows = db.session.scalars(
        select(PlateLookup)
        .where(*conditions)
        .order_by(PlateLookup.asked_at.desc(), PlateLookup.id.desc())
        .offset(offset)
        .limit(max(0, min(PER_PAGE, total - offset)))  # the last page stops at the cap too
    ).all()
    return LookupPage(list(rows), total, counted > MAX_COUNTED, page, pages, plate)
