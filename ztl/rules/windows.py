"""Daily time windows in the municipality's local time (Europe/Rome), midnight and DST included.

A window is a pair of minutes from local midnight. An end at or before the start crosses midnight:
20:00-10:00 covers 20:00 to 23:59 and 00:00 to 09:59. 00:00-24:00 is the whole day. An instant is
classified by its local wall-clock time in the municipality's zone, obtained from the aware instant
with zoneinfo: on the spring DST day 02:00-02:59 never happens, on the autumn day 02:00-02:59 happens
twice, and both are classified by what the clock on the wall shows, as the signs in the street say.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

_WINDOW = re.compile(r"(\d{2}):(\d{2})-(\d{2}):(\d{2})")
DAY_MINUTES = 24 * 60
EVERY_DAY = 0b1111111  # bit 0 Monday ... bit 6 Sunday


class WindowError(ValueError):
    """A window written wrongly; str() names what is wrong."""


@dataclass(frozen=True)
class DailyWindow:
    start_minute: int
    end_minute: int
    weekdays: int = EVERY_DAY

    def __post_init__(self) -> None:
        if not 0 <= self.start_minute < DAY_MINUTES:
            raise WindowError(f"start {self.start_minute} outside 0..1439")
        if not 0 < self.end_minute <= DAY_MINUTES:
            raise WindowError(f"end {self.end_minute} outside 1..1440")
        if not 0 < self.weekdays <= EVERY_DAY:
            raise WindowError(f"weekdays mask {self.weekdays} outside 1..127")

    @property
    def crosses_midnight(self) -> bool:
        return self.end_minute <= self.start_minute

    @property
    def whole_day(self) -> bool:
        return self.start_minute == 0 and self.end_minute == DAY_MINUTES

    def covers_local(self, local: dt.datetime) -> bool:
        """Whether a local wall-clock time falls inside the window (end excluded)."""
        minute = local.hour * 60 + local.minute
        weekday = local.weekday()
        if not self.crosses_midnight:
            return self._day_allowed(weekday) and self.start_minute <= minute < self.end_minute
        if minute >= self.start_minute:
            return self._day_allowed(weekday)
        # After midnight: the window belongs to the day it started on.
        return minute < self.end_minute and self._day_allowed((weekday - 1) % 7)

    def _day_allowed(self, weekday: int) -> bool:
        return bool(self.weekdays >> weekday & 1)

    def text(self) -> str:
        return f"{_hhmm(self.start_minute)}-{_hhmm(self.end_minute)}"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_window(text: str, weekdays: int = EVERY_DAY) -> DailyWindow:
    """ "HH:MM-HH:MM" -> DailyWindow; "24:00" only as an end; refuses "25:00", "10:60", "x"."""
    match = _WINDOW.fullmatch(text.strip())
    if not match:
        raise WindowError(f"{text!r} is not a window HH:MM-HH:MM")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2 != 0):
        raise WindowError(f"{text!r} has an hour or minute that does not exist")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start == end and start != 0:
        raise WindowError(f"{text!r} is empty: start and end are the same")
    if start == 0 and end == 0:
        end = DAY_MINUTES
    return DailyWindow(start, end, weekdays)


def local_time(at: dt.datetime, timezone: ZoneInfo) -> dt.datetime:
    """The wall-clock time in the municipality at an aware instant; naive instants are refused."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("a time without an offset cannot be placed: give an offset or Z")
    return at.astimezone(timezone)


def covered(windows: tuple[DailyWindow, ...], at: dt.datetime, timezone: ZoneInfo) -> bool:
    """True when the instant is inside one of the windows; no windows means always."""
    if not windows:
        return True
    local = local_time(at, timezone)
    return any(window.covers_local(local) for window in windows)
