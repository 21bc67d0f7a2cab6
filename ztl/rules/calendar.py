"""When a zone is active: windows per weekday, seasons, public holidays and night windows.

Real Italian ZTLs are not "these hours every day". Firenze's sectors are active on weekdays and
Saturday mornings but not on public holidays, and from the first Thursday of April to the first
Sunday of October a night ZTL adds Thursday, Friday and Saturday nights that end at 03:00 on the
next morning. A zone's calendar is therefore a list of entries, each saying on which days (weekdays,
a season, public holidays) which daily windows apply; the zone is active when any entry covers the
instant.

Two conventions decide every edge case, and every reader of a calendar (the enforcement index, the
whitelist, the seal verifiers, the permit PDF, the public page) takes them from here:
- a window that crosses midnight belongs to the day it starts on: Thursday 23:00-03:00 covers Friday
  02:59, and whether it applies (weekday, season, holiday) is decided by Thursday;
- an instant is classified by the municipality's wall clock (DST days included), as the signs in
  the street are read.

Pure standard library: this module is part of the rules engine.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ztl.rules.windows import DAY_MINUTES, EVERY_DAY, DailyWindow, WindowError, parse_window

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}
_FIXED_BOUND = re.compile(r"(\d{2})-(\d{2})")
_MOVABLE_BOUND = re.compile(r"(first|second|third|fourth|last) ([a-z]+) of ([a-z]+)")
# A year in which any month-day exists (29 February included), to validate "MM-DD".
_LEAP_YEAR = 2024


class CalendarError(ValueError):
    """A calendar written wrongly; str() says what is wrong, `key` which key of the entry (when
    known), and the loader adds file and line."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class HolidayMode(StrEnum):
    """What an entry does on a public holiday."""

    IGNORE = "ignore"  # a holiday is an ordinary day of its weekday
    OFF = "off"  # the entry does not apply on a public holiday
    ALSO = "also"  # the entry applies on its days and on every public holiday
    ONLY = "only"  # the entry applies on public holidays only


def month_day(text: str) -> tuple[int, int]:
    """ "MM-DD" -> (month, day); refuses a day that no year has (30 February, 31 April)."""
    match = _FIXED_BOUND.fullmatch(text.strip())
    if not match:
        raise CalendarError(f"{text!r} is not a date MM-DD")
    month, day = int(match.group(1)), int(match.group(2))
    try:
        dt.date(_LEAP_YEAR, month, day)
    except ValueError as exc:
        raise CalendarError(f"{text!r} is not a day of the year") from exc
    return month, day


def easter_sunday(year: int) -> dt.date:
    """Gregorian Easter Sunday (the anonymous Gregorian algorithm, Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month, day = divmod(h + leap - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


# National public holidays (legge 260/1949 and later amendments), as (month, day).
NATIONAL_HOLIDAYS = (
    (1, 1),  # Capodanno
    (1, 6),  # Epifania
    (4, 25),  # Liberazione
    (5, 1),  # Festa del lavoro
    (6, 2),  # Festa della Repubblica
    (8, 15),  # Ferragosto
    (11, 1),  # Ognissanti
    (12, 8),  # Immacolata
    (12, 25),  # Natale
    (12, 26),  # Santo Stefano
)
# San Francesco d'Assisi, patron of Italy: a national holiday again from 2026 (legge 151/2025).
FOURTH_OF_OCTOBER_SINCE = 2026


@functools.lru_cache(maxsize=256)
def public_holidays(year: int, patron_saint: tuple[int, int] | None = None) -> frozenset[dt.date]:
    """The public holidays of a year: the national list, Easter and Easter Monday, the patron."""
    days = {dt.date(year, month, day) for month, day in NATIONAL_HOLIDAYS}
    if year >= FOURTH_OF_OCTOBER_SINCE:
        days.add(dt.date(year, 10, 4))
    easter = easter_sunday(year)
    days.update((easter, easter + dt.timedelta(days=1)))
    if patron_saint is not None:
        days.add(dt.date(year, *patron_saint))
    return frozenset(days)


@dataclass(frozen=True)
class DayBound:
    """A season's bound: a fixed day ("04-01") or a movable one ("first thu of april")."""

    month: int
    day: int = 0  # fixed day of the month; 0 for a movable bound
    ordinal: int = 0  # 1-4, or -1 for the last; 0 for a fixed bound
    weekday: int = 0  # 0 Monday ... 6 Sunday (movable bounds)

    def date_in(self, year: int) -> dt.date:
        if not self.ordinal:
            if self.month == 2 and self.day == 29 and not _is_leap(year):
                return dt.date(year, 2, 28)
            return dt.date(year, self.month, self.day)
        if self.ordinal > 0:
            first = dt.date(year, self.month, 1)
            offset = (self.weekday - first.weekday()) % 7
            return first + dt.timedelta(days=offset + 7 * (self.ordinal - 1))
        following = dt.date(year + self.month // 12, self.month % 12 + 1, 1)
        last = following - dt.timedelta(days=1)
        return last - dt.timedelta(days=(last.weekday() - self.weekday) % 7)

    def text(self) -> str:
        if not self.ordinal:
            return f"{self.month:02d}-{self.day:02d}"
        ordinal = next(name for name, n in ORDINALS.items() if n == self.ordinal)
        return f"{ordinal} {WEEKDAYS[self.weekday]} of {MONTHS[self.month - 1]}"


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def parse_bound(text: str) -> DayBound:
    """ "MM-DD" or "<first..fourth|last> <weekday> of <month>" (English names, any case)."""
    clean = " ".join(str(text).lower().split())
    if _FIXED_BOUND.fullmatch(clean):
        month, day = month_day(clean)
        return DayBound(month, day)
    match = _MOVABLE_BOUND.fullmatch(clean)
    if not match:
        raise CalendarError(
            f"{text!r} is not a day: write MM-DD or like 'first thu of april' "
            "(first, second, third, fourth or last; mon..sun; january..december)"
        )
    ordinal_name, weekday_name, month_name = match.groups()
    return DayBound(_month(month_name), 0, ORDINALS[ordinal_name], _weekday(weekday_name))


def _weekday(text: str) -> int:
    for number, name in enumerate(WEEKDAYS):
        if text == name or (len(text) > 3 and _FULL_WEEKDAYS[number] == text):
            return number
    raise CalendarError(f"unknown weekday {text!r}; weekdays: {', '.join(WEEKDAYS)}")


_FULL_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _month(text: str) -> int:
    for number, name in enumerate(MONTHS, start=1):
        if text in (name, name[:3]):
            return number
    raise CalendarError(f"unknown month {text!r}; months: january..december")


@dataclass(frozen=True)
class Season:
    """The days (inclusive) an entry applies; a start later than the end wraps the year end."""

    start: DayBound
    end: DayBound

    def contains(self, day: dt.date) -> bool:
        first, last = self.start.date_in(day.year), self.end.date_in(day.year)
        if first <= last:
            return first <= day <= last
        return day >= first or day <= last

    def ranges(self, year: int) -> list[tuple[dt.date, dt.date]]:
        """The season's days within one year, as inclusive ranges."""
        first, last = self.start.date_in(year), self.end.date_in(year)
        if first <= last:
            return [(first, last)]
        return [(dt.date(year, 1, 1), last), (first, dt.date(year, 12, 31))]

    def text(self) -> str:
        return f"{self.start.text()} - {self.end.text()}"


@dataclass(frozen=True)
class CalendarEntry:
    """Daily windows that apply on some days: weekdays, a season, and a holiday behaviour."""

    hours: tuple[DailyWindow, ...]
    days: int = EVERY_DAY  # bit 0 Monday ... bit 6 Sunday
    holidays: HolidayMode = HolidayMode.IGNORE
    season: Season | None = None

    def applies_on(self, day: dt.date, holiday: bool) -> bool:
        """Whether the entry's windows start on this local day."""
        if self.season is not None and not self.season.contains(day):
            return False
        if self.holidays is HolidayMode.ONLY:
            return holiday
        if holiday and self.holidays is HolidayMode.OFF:
            return False
        if holiday and self.holidays is HolidayMode.ALSO:
            return True
        return bool(self.days >> day.weekday() & 1)

    def text(self) -> str:
        parts = [", ".join(w.text() for w in self.hours)]
        if self.holidays is HolidayMode.ONLY:
            parts.insert(0, "public holidays")
        elif self.days != EVERY_DAY:
            parts.insert(0, days_text(self.days))
        if self.holidays is HolidayMode.OFF:
            parts.append("not on public holidays")
        elif self.holidays is HolidayMode.ALSO:
            parts.append("and on public holidays")
        if self.season is not None:
            parts.append(f"from {self.season.start.text()} to {self.season.end.text()}")
        return " ".join(parts)


def weekday_runs(mask: int) -> list[tuple[int, int]]:
    """Bit mask -> runs of consecutive weekdays as (first, last): mon-fri, sat -> [(0, 4), (5, 5)]."""
    runs: list[tuple[int, int]] = []
    for n in range(7):
        if not mask >> n & 1:
            continue
        if runs and runs[-1][1] == n - 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return runs


def days_text(mask: int) -> str:
    """Bit mask -> "mon-fri", "sat", "mon, wed, fri"."""
    return ", ".join(
        WEEKDAYS[a] if a == b else f"{WEEKDAYS[a]}-{WEEKDAYS[b]}" for a, b in weekday_runs(mask)
    )


Intervals = tuple[tuple[int, int], ...]  # minutes of one local day, [start, end), sorted, disjoint


@dataclass(frozen=True)
class ZoneCalendar:
    """When a zone is active. No entries: never active (a sector that exists only some nights is
    still written with its entries; a zone always active says 00:00-24:00)."""

    entries: tuple[CalendarEntry, ...]
    patron_saint: tuple[int, int] | None = None
    _days: dict[dt.date, Intervals] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    def is_holiday(self, day: dt.date) -> bool:
        return day in public_holidays(day.year, self.patron_saint)

    def intervals_on(self, day: dt.date) -> Intervals:
        """The minutes of a local day in which the zone is active, night windows of the day before
        included. Cached per day: the enforcement index asks this for every check."""
        cached = self._days.get(day)
        if cached is not None:
            return cached
        spans: list[tuple[int, int]] = []
        before = day - dt.timedelta(days=1)
        today_holiday, before_holiday = self.is_holiday(day), self.is_holiday(before)
        for entry in self.entries:
            if entry.applies_on(day, today_holiday):
                for window in entry.hours:
                    end = DAY_MINUTES if window.crosses_midnight else window.end_minute
                    spans.append((window.start_minute, end))
            if entry.applies_on(before, before_holiday):
                for window in entry.hours:
                    if window.crosses_midnight and window.end_minute > 0:
                        spans.append((0, window.end_minute))
        merged = _merge(spans)
        if len(self._days) > 4096:
            self._days.clear()
        self._days[day] = merged
        return merged

    def active_local(self, local: dt.datetime) -> bool:
        """Whether the zone is active at a local wall-clock time (end of a window excluded)."""
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self.intervals_on(local.date()))

    @property
    def always(self) -> bool:
        """Active at every minute of every day (Prato's zone A)."""
        return any(
            e.days == EVERY_DAY
            and e.season is None
            and e.holidays in (HolidayMode.IGNORE, HolidayMode.ALSO)
            and any(w.whole_day for w in e.hours)
            for e in self.entries
        )

    def text(self) -> str:
        """One line a person reads: "07:30-18:30", "mon-fri 07:30-20:00 not on public holidays; ..."."""
        if self.always:
            return "00:00-24:00"
        return "; ".join(entry.text() for entry in self.entries) or "never"


def _merge(spans: Iterable[tuple[int, int]]) -> Intervals:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


def minutes_text(intervals: Intervals, separator: str = ", ", empty: str = "-") -> str:
    """((450, 1110),) -> "07:30-18:30"; () -> `empty`."""
    return separator.join(f"{_hhmm(s)}-{_hhmm(e)}" for s, e in intervals) or empty


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# --- reading and writing the canonical data form (rules file tables, database, browser) -----------


def entry_from_data(data: Mapping[str, Any]) -> CalendarEntry:
    """One `[[zones.calendar]]` table -> CalendarEntry; CalendarError names the key at fault."""
    unknown = set(data) - {"days", "hours", "holidays", "season"}
    if unknown:
        raise CalendarError(
            f"unknown key {sorted(unknown)[0]!r}; keys: days, hours, holidays, season", "calendar"
        )
    hours = data.get("hours")
    if not isinstance(hours, list) or not hours or not all(isinstance(h, str) for h in hours):
        raise CalendarError('must be a list of "HH:MM-HH:MM", at least one', "hours")
    try:
        windows = tuple(parse_window(h) for h in hours)
    except WindowError as exc:
        raise CalendarError(str(exc), "hours") from exc
    mode_text = data.get("holidays", HolidayMode.IGNORE.value)
    try:
        mode = HolidayMode(mode_text)
    except ValueError as exc:
        known = ", ".join(m.value for m in HolidayMode)
        raise CalendarError(f"{mode_text!r} is not one of {known}", "holidays") from exc
    days = EVERY_DAY
    if "days" in data:
        if mode is HolidayMode.ONLY:
            raise CalendarError('holidays = "only" applies on holidays whatever the day', "days")
        raw = data["days"]
        if not isinstance(raw, list) or not raw or not all(isinstance(d, str) for d in raw):
            raise CalendarError("must be a list of weekdays: mon tue wed thu fri sat sun", "days")
        try:
            days = sum(1 << n for n in sorted({_weekday(d.strip().lower()) for d in raw}))
        except CalendarError as exc:
            raise CalendarError(str(exc), "days") from exc
    season = None
    if "season" in data:
        raw_season = data["season"]
        if not isinstance(raw_season, dict) or set(raw_season) != {"from", "to"}:
            raise CalendarError('must be a table { from = "...", to = "..." }', "season")
        try:
            season = Season(parse_bound(raw_season["from"]), parse_bound(raw_season["to"]))
        except CalendarError as exc:
            raise CalendarError(str(exc), "season") from exc
    return CalendarEntry(windows, days, mode, season)


def entry_data(entry: CalendarEntry) -> dict[str, Any]:
    """CalendarEntry -> the table it was read from, in a canonical form (defaults left out)."""
    data: dict[str, Any] = {"hours": [w.text() for w in entry.hours]}
    if entry.days != EVERY_DAY:
        data["days"] = [WEEKDAYS[n] for n in range(7) if entry.days >> n & 1]
    if entry.holidays is not HolidayMode.IGNORE:
        data["holidays"] = entry.holidays.value
    if entry.season is not None:
        data["season"] = {"from": entry.season.start.text(), "to": entry.season.end.text()}
    return data


def calendar_data(calendar: ZoneCalendar) -> dict[str, Any]:
    """The canonical, JSON-ready form the database keeps (compared to find what changed)."""
    patron = calendar.patron_saint
    return {
        "entries": [entry_data(e) for e in calendar.entries],
        "patron_saint": f"{patron[0]:02d}-{patron[1]:02d}" if patron else None,
    }


def calendar_from_data(data: Mapping[str, Any]) -> ZoneCalendar:
    patron = data.get("patron_saint")
    return ZoneCalendar(
        tuple(entry_from_data(e) for e in data.get("entries", [])),
        month_day(patron) if patron else None,
    )


def browser_calendar(
    calendars: Mapping[str, ZoneCalendar], timezone: str, years: range
) -> dict[str, Any]:
    """The calendars with every date worked out for `years`, for the offline seal page.

    The page then needs no Easter or "first Thursday of April" arithmetic of its own: it reads
    which days are holidays and which date ranges each seasonal entry covers. Dates outside
    `years` are unknown to it, and it says so rather than guess.
    """
    holidays: set[dt.date] = set()
    zones: dict[str, list[dict[str, Any]]] = {}
    for code, calendar in calendars.items():
        for year in years:
            holidays.update(public_holidays(year, calendar.patron_saint))
        zones[code] = [
            {
                "days": entry.days,
                "hours": [[w.start_minute, w.end_minute] for w in entry.hours],
                "holidays": entry.holidays.value,
                "seasons": None
                if entry.season is None
                else [
                    [first.isoformat(), last.isoformat()]
                    for year in years
                    for first, last in entry.season.ranges(year)
                ],
            }
            for entry in calendar.entries
        ]
    return {
        "timezone": timezone,
        "first_year": years.start,
        "last_year": years.stop - 1,
        "holidays": sorted(d.isoformat() for d in holidays),
        "zones": zones,
    }
