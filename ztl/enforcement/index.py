"""The enforcement index: for every plate, when, where and at which hours it may be in a zone.

Pure Python (no Flask, no SQL), so a gate's question costs a dict lookup and a few comparisons:
instants are epoch seconds, and the municipality's wall-clock minute and weekday come from a UTC
offset cached per UTC hour (Europe/Rome changes offset only on whole UTC hours, so the cache is
exact on DST days too). Windows crossing midnight belong to the day they start, as in
ztl.rules.windows, whose DailyWindow.covers_local this agrees with (tests check it). A zone's
calendar (weekday windows, seasons, holidays) is asked once per local day and zone, through
ZoneCalendar.intervals_on, and kept as the minutes in which the zone is active that day.

A grant's end is the permit's end of validity, or the moment it was revoked, replaced or given up:
a transit before a revocation was authorized, one after it is not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from zoneinfo import ZoneInfo

from ztl.rules.calendar import Intervals, ZoneCalendar
from ztl.rules.windows import DailyWindow

DAY_MINUTES = 24 * 60
EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday is 0)
EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
ALWAYS: Intervals = ((0, DAY_MINUTES),)


class Why(StrEnum):
    """Why an answer is what it is; the service turns these into sentences."""

    PERMIT = "permit"
    ZONE_INACTIVE = "zone_inactive"
    OUTSIDE_HOURS = "outside_hours"
    OTHER_ZONE = "other_zone"
    NOT_VALID_THEN = "not_valid_then"
    NO_PERMIT = "no_permit"


@dataclass(frozen=True, slots=True)
class Grant:
    """One permit's authorization for its plates."""

    permit_id: int
    number: str
    category: str
    zones: frozenset[str]
    start: float  # epoch seconds, included
    end: float  # epoch seconds, excluded
    windows: tuple[DailyWindow, ...] = ()


@dataclass(frozen=True, slots=True)
class Answer:
    authorized: bool
    why: Why
    grant: Grant | None  # the grant that authorized, or the nearest miss
    grants: tuple[Grant, ...]  # every grant the plate holds (for the "permits" list)
    pending_until: float | None = None


@dataclass
class ZonePolicy:
    """A zone's calendar (None: always active) and how long a transit may be regularised."""

    calendar: ZoneCalendar | None = None
    retroactive_seconds: float = 0.0
    days: dict[int, Intervals] = field(default_factory=dict, repr=False)  # local day -> minutes

    def intervals(self, day: int) -> Intervals:
        """Minutes of local day `day` (days since 1970-01-01) in which the zone is active."""
        found = self.days.get(day)
        if found is None:
            if self.calendar is None or self.calendar.always:
                found = ALWAYS
            else:
                found = self.calendar.intervals_on(dt.date.fromordinal(EPOCH_ORDINAL + day))
            if len(self.days) > 4096:
                self.days.clear()
            self.days[day] = found
        return found


def covers(window: DailyWindow, minute: int, weekday: int) -> bool:
    """DailyWindow.covers_local on a precomputed local minute and weekday."""
    start, end = window.start_minute, window.end_minute
    if end > start:
        return start <= minute < end and bool(window.weekdays >> weekday & 1)
    if minute >= start:
        return bool(window.weekdays >> weekday & 1)
    return minute < end and bool(window.weekdays >> ((weekday - 1) % 7) & 1)


@dataclass
class LocalClock:
    """Epoch seconds -> (minute of the local day, local weekday), offset cached per UTC hour."""

    timezone: ZoneInfo
    _offsets: dict[int, int] = field(default_factory=dict)

    def local(self, ts: float) -> tuple[int, int]:
        minute, weekday, _day = self.local_day(ts)
        return minute, weekday

    def offset(self, hour: int) -> int:
        """The UTC offset in seconds during UTC hour `hour` (hours since the epoch), cached."""
        instant = dt.datetime.fromtimestamp(hour * 3600, dt.UTC)
        delta = instant.astimezone(self.timezone).utcoffset() or dt.timedelta()
        offset = int(delta.total_seconds())
        if len(self._offsets) > 100_000:
            self._offsets.clear()
        self._offsets[hour] = offset
        return offset

    def local_day(self, ts: float) -> tuple[int, int, int]:
        """(minute of the local day, local weekday, local days since 1970-01-01)."""
        hour = int(ts // 3600)
        offset = self._offsets.get(hour)
        if offset is None:
            offset = self.offset(hour)
        local_minutes = int((ts + offset) // 60)
        day = local_minutes // DAY_MINUTES
        return local_minutes % DAY_MINUTES, (day + EPOCH_WEEKDAY) % 7, day


class EnforcementIndex:
    """Plates -> grants, with the zones' rules. Updated in place by whole permits."""

    def __init__(self, timezone: ZoneInfo, zones: Mapping[str, ZonePolicy]) -> None:
        self.clock = LocalClock(timezone)
        self.zones = dict(zones)
        self._by_plate: dict[str, tuple[Grant, ...]] = {}
        self._plates_of: dict[int, tuple[str, ...]] = {}
        self.version = 0

    def __len__(self) -> int:
        return len(self._plates_of)

    def plates(self) -> int:
        return len(self._by_plate)

    def put(self, grant: Grant, plates: Iterable[str]) -> None:
        """Add or replace a permit's grant under its plates."""
        self.drop(grant.permit_id)
        held = tuple(plates)
        for plate in held:
            self._by_plate[plate] = (*self._by_plate.get(plate, ()), grant)
        self._plates_of[grant.permit_id] = held

    def drop(self, permit_id: int) -> None:
        for plate in self._plates_of.pop(permit_id, ()):
            kept = tuple(g for g in self._by_plate.get(plate, ()) if g.permit_id != permit_id)
            if kept:
                self._by_plate[plate] = kept
            else:
                self._by_plate.pop(plate, None)

    def grants(self, plate: str) -> tuple[Grant, ...]:
        return self._by_plate.get(plate, ())

    def check(self, plate: str, zone: str, ts: float, now: float | None = None) -> Answer:
        """May `plate` be in `zone` at `ts`? `now` (when given) decides whether a miss is pending."""
        grants = self._by_plate.get(plate, ())
        rules = self.zones.get(zone)
        # LocalClock.local_day inlined (this runs for every gate reading): the offset of the
        # UTC hour, then the local day and minute; the weekday only when a window needs it.
        offset = self.clock._offsets.get(int(ts // 3600))
        if offset is None:
            offset = self.clock.offset(int(ts // 3600))
        local_minutes = int((ts + offset) // 60)
        day = local_minutes // DAY_MINUTES
        minute = local_minutes - day * DAY_MINUTES
        if rules is not None:
            # Inlined ZonePolicy.active: this runs for every gate reading.
            intervals = rules.days.get(day) or rules.intervals(day)
            if intervals is not ALWAYS:
                for start, end in intervals:
                    if start <= minute < end:
                        break
                else:
                    return Answer(True, Why.ZONE_INACTIVE, None, grants)
        nearest: Grant | None = None
        why = Why.NO_PERMIT
        for grant in grants:
            if zone not in grant.zones:
                if why is Why.NO_PERMIT:
                    nearest, why = grant, Why.OTHER_ZONE
                continue
            if not (grant.start <= ts < grant.end):
                if why in (Why.NO_PERMIT, Why.OTHER_ZONE):
                    nearest, why = grant, Why.NOT_VALID_THEN
                continue
            if not grant.windows:
                return Answer(True, Why.PERMIT, grant, grants)
            weekday = (day + EPOCH_WEEKDAY) % 7
            if any(covers(w, minute, weekday) for w in grant.windows):
                return Answer(True, Why.PERMIT, grant, grants)
            nearest, why = grant, Why.OUTSIDE_HOURS
        pending = None
        if rules is not None and rules.retroactive_seconds and now is not None:
            until = ts + rules.retroactive_seconds
            if now < until:
                pending = until
        return Answer(False, why, nearest, grants, pending)

    def check_grant(self, grant: Grant, zone: str, ts: float) -> Why:
        """Why one permit covers, or does not cover, `zone` at `ts` (the review's explanation of
        each permit a plate held; `check` answers for all of them at once)."""
        if zone not in grant.zones:
            return Why.OTHER_ZONE
        if not (grant.start <= ts < grant.end):
            return Why.NOT_VALID_THEN
        if not grant.windows:
            return Why.PERMIT
        minute, weekday = self.clock.local(ts)
        if any(covers(w, minute, weekday) for w in grant.windows):
            return Why.PERMIT
        return Why.OUTSIDE_HOURS

    def touching(self, zone: str, start: float, end: float) -> Iterable[tuple[str, Grant]]:
        """Every (plate, grant) for `zone` whose validity overlaps [start, end)."""
        for plate, grants in self._by_plate.items():
            for grant in grants:
                if zone in grant.zones and grant.start < end and grant.end > start:
                    yield plate, grant
