"""From a category's validity (an ISO 8601 duration) to a permit's exact period, in UTC.

Why calendar arithmetic in the municipality's time: "one calendar day" and "one year" mean local
midnight to local midnight, which is 23 or 25 hours on DST days; only hour durations (the two-hour
permit) count elapsed time from the chosen start. Ends are exclusive. Pure: no clock, no database.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

_CALENDAR = re.compile(r"P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?")
_HOURS = re.compile(r"PT(\d+)H")


class ValidityError(ValueError):
    """A duration this module cannot apply."""


@dataclass(frozen=True)
class Period:
    valid_from: dt.datetime
    valid_to: dt.datetime


def _add_months(day: dt.date, months: int) -> dt.date:
    """The same day n months on; a day the target month lacks (29 February) becomes its last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise ValidityError(f"cannot add {months} months to {day}")  # pragma: no cover


def _midnight(day: dt.date, timezone: ZoneInfo) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=timezone).astimezone(dt.UTC)


def end_of_calendar_duration(first_day: dt.date, duration: str) -> dt.date:
    """The first day no longer covered: 2026-03-01 + P1Y = 2027-03-01."""
    match = _CALENDAR.fullmatch(duration)
    if not match or duration == "P":
        raise ValidityError(f"{duration!r} is not a calendar duration")
    years, months, days = (int(g or 0) for g in match.groups())
    return _add_months(first_day, 12 * years + months) + dt.timedelta(days=days)


def start_of_calendar_duration(last_day: dt.date, duration: str) -> dt.date:
    """The first day of a duration that ends with `last_day` included: 2027-03-01 - P1Y =
    2026-03-02 (the year before the day after)."""
    match = _CALENDAR.fullmatch(duration)
    if not match or duration == "P":
        raise ValidityError(f"{duration!r} is not a calendar duration")
    years, months, days = (int(g or 0) for g in match.groups())
    after = last_day + dt.timedelta(days=1)
    return _add_months(after, -(12 * years + months)) - dt.timedelta(days=days)


def permit_period(
    duration: str,
    start: dt.datetime,
    timezone: ZoneInfo,
    first_day: dt.date | None = None,
    not_after: dt.date | None = None,
) -> Period:
    """The period a permit of this duration covers.

    start: when the permit is wanted from (for hours: the chosen start, exactly); first_day: the
    first calendar day (default start's local date); not_after: the last day it may cover (a CUDE
    badge's expiry), which shortens the period but never lengthens it.
    """
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValidityError("the start needs an offset")
    hours = _HOURS.fullmatch(duration)
    if hours:
        begin = start.astimezone(dt.UTC)
        end = begin + dt.timedelta(hours=int(hours.group(1)))
    else:
        day = first_day or start.astimezone(timezone).date()
        end_day = end_of_calendar_duration(day, duration)
        begin, end = _midnight(day, timezone), _midnight(end_day, timezone)
    if not_after is not None:
        end = min(end, _midnight(not_after + dt.timedelta(days=1), timezone))
    if end <= begin:
        raise ValidityError("the period would end before it starts")
    return Period(begin, end)
