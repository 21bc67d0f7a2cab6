"""May a permit's plate be changed now? The rules file's `plate_changes` limit, decided purely.

Why a limit at all: a plate change is free and immediate, so without one a daily permit bought
for one car served five (each changed in turn), and a yearly one could be passed around a family
or a firm's fleet at will.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from ztl.rules.municipality import PlateChangeLimit
from ztl.rules.validity import start_of_calendar_duration


@dataclass(frozen=True)
class PlateChangeRefusal:
    limit: int
    per: str | None
    message_en: str


def plate_change_refusal(
    limit: PlateChangeLimit | None,
    valid_from: dt.datetime,
    now: dt.datetime,
    earlier_changes: Iterable[dt.datetime],
    timezone: ZoneInfo,
) -> PlateChangeRefusal | None:
    """None when the change is allowed; else why not. `earlier_changes` are the instants of the
    plate changes already made to this permit and the permits it replaced."""
    if limit is None:
        return None
    today = now.astimezone(timezone).date()
    if limit.since is not None and today < limit.since:
        return None
    if limit.limit == 0:
        if now < valid_from:
            return None  # not valid yet: correcting a mistyped plate is no misuse
        return PlateChangeRefusal(0, None, "the plate of this permit cannot be changed once valid")
    first_day = limit.since or dt.date.min
    if limit.per is not None:
        first_day = max(first_day, start_of_calendar_duration(today, limit.per))
    counted = sum(1 for at in earlier_changes if at.astimezone(timezone).date() >= first_day)
    if counted < limit.limit:
        return None
    period = f" in {limit.per}" if limit.per else ""
    return PlateChangeRefusal(
        limit.limit, limit.per, f"at most {limit.limit} plate changes{period}: {counted} made"
    )
