"""The enforcement index on its own: windows, midnight, DST, zone hours, validity edges, pending.

Pure Python, no database: every case builds grants by hand and asks the index, with instants
written in Prato's local time so the cases read like the rules they test.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from ztl.enforcement.index import EnforcementIndex, Grant, LocalClock, Why, ZonePolicy, covers
from ztl.rules.calendar import CalendarEntry, ZoneCalendar
from ztl.rules.windows import DailyWindow, parse_window

ROME = ZoneInfo("Europe/Rome")
ZONE_B_HOURS = (parse_window("07:30-18:30"),)
ZONE_B_CALENDAR = ZoneCalendar((CalendarEntry(ZONE_B_HOURS),))
HOURS_48 = 48 * 3600.0


def rome(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> float:
    return dt.datetime(year, month, day, hour, minute, tzinfo=ROME).timestamp()


def _index() -> EnforcementIndex:
    return EnforcementIndex(
        ROME, {"A": ZonePolicy(None, HOURS_48), "B": ZonePolicy(ZONE_B_CALENDAR, HOURS_48)}
    )


def _grant(
    permit_id: int = 1,
    zones: tuple[str, ...] = ("A",),
    start: float | None = None,
    end: float | None = None,
    windows: tuple[DailyWindow, ...] = (),
) -> Grant:
    return Grant(
        permit_id,
        f"PO-2026-{permit_id:06d}",
        "1",
        frozenset(zones),
        rome(2026, 1, 1) if start is None else start,
        rome(2027, 1, 1) if end is None else end,
        windows,
    )


def test_a_permit_authorizes_its_plate_in_its_zone_and_nothing_else() -> None:
    index = _index()
    index.put(_grant(), ["AB123CD"])
    at = rome(2026, 6, 1, 12)
    assert index.check("AB123CD", "A", at).why is Why.PERMIT
    assert index.check("AB123CD", "B", at).why is Why.OTHER_ZONE
    other = index.check("ZZ999ZZ", "A", at)
    assert not other.authorized and other.why is Why.NO_PERMIT


def test_zone_b_outside_its_hours_needs_no_permit() -> None:
    index = _index()
    for hour, minute, needs_permit in (
        (7, 29, False),
        (7, 30, True),
        (18, 29, True),
        (18, 30, False),
    ):
        answer = index.check("ZZ999ZZ", "B", rome(2026, 6, 1, hour, minute))
        assert answer.authorized is not needs_permit, (hour, minute)
        if not needs_permit:
            assert answer.why is Why.ZONE_INACTIVE


def test_window_crossing_midnight_belongs_to_the_day_it_starts() -> None:
    # Monday to Friday 20:00-02:00: Friday night into Saturday yes, Sunday night no.
    weekdays = 0b0011111
    index = _index()
    index.put(_grant(windows=(parse_window("20:00-02:00", weekdays),)), ["AB123CD"])
    friday_late = rome(2026, 6, 6, 1, 30)  # Saturday 01:30, the window opened on Friday
    sunday_late = rome(2026, 6, 8, 1, 30)  # Monday 01:30, the window would have opened on Sunday
    assert index.check("AB123CD", "A", friday_late).authorized
    miss = index.check("AB123CD", "A", sunday_late)
    assert not miss.authorized and miss.why is Why.OUTSIDE_HOURS
    assert not index.check("AB123CD", "A", rome(2026, 6, 5, 19, 59)).authorized
    assert index.check("AB123CD", "A", rome(2026, 6, 5, 20, 0)).authorized


def test_daily_windows_on_dst_days_follow_the_wall_clock() -> None:
    index = _index()
    index.put(_grant(windows=(parse_window("01:00-04:00"),)), ["AB123CD"])
    # 29 March 2026: clocks go from 02:00 to 03:00; 25 October 2026: from 03:00 back to 02:00.
    spring = dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC).timestamp()  # 03:30 CEST
    assert index.check("AB123CD", "A", spring).authorized
    after = dt.datetime(2026, 3, 29, 2, 0, tzinfo=dt.UTC).timestamp()  # 04:00 CEST
    assert not index.check("AB123CD", "A", after).authorized
    autumn_first = dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC).timestamp()  # 02:30 CEST
    autumn_second = dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC).timestamp()  # 02:30 CET
    assert index.check("AB123CD", "A", autumn_first).authorized
    assert index.check("AB123CD", "A", autumn_second).authorized
    assert not index.check("AB123CD", "A", autumn_second + 3 * 3600).authorized  # 05:30 CET


def test_zone_hours_on_the_dst_day() -> None:
    index = _index()
    # 25 October 2026, 07:30 local is 06:30 UTC (CET); 06:45 UTC is inside zone B's hours.
    inside = dt.datetime(2026, 10, 25, 6, 45, tzinfo=dt.UTC).timestamp()
    before = dt.datetime(2026, 10, 25, 6, 15, tzinfo=dt.UTC).timestamp()
    assert not index.check("ZZ999ZZ", "B", inside).authorized
    assert index.check("ZZ999ZZ", "B", before).why is Why.ZONE_INACTIVE


def test_a_permit_starting_or_ending_mid_day() -> None:
    index = _index()
    index.put(_grant(start=rome(2026, 6, 1, 14, 0), end=rome(2026, 6, 1, 16, 0)), ["AB123CD"])
    assert not index.check("AB123CD", "A", rome(2026, 6, 1, 13, 59)).authorized
    assert index.check("AB123CD", "A", rome(2026, 6, 1, 14, 0)).authorized
    assert index.check("AB123CD", "A", rome(2026, 6, 1, 15, 59)).authorized
    late = index.check("AB123CD", "A", rome(2026, 6, 1, 16, 0))
    assert not late.authorized and late.why is Why.NOT_VALID_THEN


def test_a_replaced_permit_stops_where_the_new_one_starts() -> None:
    index = _index()
    change = rome(2026, 6, 1, 10)
    index.put(_grant(1, end=change), ["AB123CD"])
    index.put(_grant(2, start=change), ["GB456CD"])
    assert index.check("AB123CD", "A", change - 60).authorized  # before the change: old plate
    assert not index.check("AB123CD", "A", change).authorized
    assert index.check("GB456CD", "A", change).authorized
    index.drop(2)
    assert not index.check("GB456CD", "A", change).authorized
    assert index.plates() == 1 and len(index) == 1


def test_pending_until_while_a_retroactive_registration_may_still_come() -> None:
    index = _index()
    transit = rome(2026, 6, 1, 10)
    fresh = index.check("ZZ999ZZ", "A", transit, now=transit + 3600)
    assert not fresh.authorized and fresh.pending_until == transit + HOURS_48
    stale = index.check("ZZ999ZZ", "A", transit, now=transit + HOURS_48 + 1)
    assert stale.pending_until is None


@settings(max_examples=300, deadline=None)
@given(
    start=st.integers(0, 1439),
    end=st.integers(1, 1440),
    weekdays=st.integers(1, 127),
    instant=st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2035, 12, 31)),
)
def test_fast_window_check_agrees_with_the_rules(
    start: int, end: int, weekdays: int, instant: dt.datetime
) -> None:
    if start == end:
        return
    window = DailyWindow(start, end, weekdays)
    aware = instant.replace(tzinfo=dt.UTC)
    minute, weekday = LocalClock(ROME).local(aware.timestamp())
    assert covers(window, minute, weekday) == window.covers_local(aware.astimezone(ROME))
