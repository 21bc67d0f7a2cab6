"""Daily windows: midnight crossing, whole days, weekdays, DST days in Europe/Rome."""

from __future__ import annotations

import datetime as dt
import importlib
import subprocess
import sys
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ztl.rules.windows import DailyWindow, WindowError, covered, parse_window

ROME = ZoneInfo("Europe/Rome")


def rome(y: int, mo: int, d: int, h: int, mi: int, fold: int = 0) -> dt.datetime:
    return dt.datetime(y, mo, d, h, mi, tzinfo=ROME, fold=fold)


@pytest.mark.parametrize(
    ("text", "inside", "outside"),
    [
        ("07:30-18:30", [(7, 30), (12, 0), (18, 29)], [(7, 29), (18, 30), (23, 0), (0, 0)]),
        ("20:00-10:00", [(20, 0), (23, 59), (0, 0), (9, 59)], [(10, 0), (15, 0), (19, 59)]),
        ("00:00-24:00", [(0, 0), (12, 0), (23, 59)], []),
        ("12:30-15:30", [(12, 30), (15, 29)], [(12, 29), (15, 30)]),
    ],
)
def test_windows_cover_their_minutes(
    text: str, inside: list[tuple[int, int]], outside: list[tuple[int, int]]
) -> None:
    window = (parse_window(text),)
    for h, m in inside:
        assert covered(window, rome(2026, 3, 10, h, m), ROME), (text, h, m)
    for h, m in outside:
        assert not covered(window, rome(2026, 3, 10, h, m), ROME), (text, h, m)


@pytest.mark.parametrize(
    "text", ["25:00-10:00", "10:60-11:00", "24:30-01:00", "x", "10:00-10:00", "7:30-18:30"]
)
def test_bad_windows_are_refused(text: str) -> None:
    with pytest.raises(WindowError):
        parse_window(text)


def test_no_windows_means_always() -> None:
    assert covered((), rome(2026, 1, 1, 3, 0), ROME)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="offset"):
        covered((parse_window("07:00-10:00"),), dt.datetime(2026, 1, 1, 8, 0), ROME)


def test_weekday_window_after_midnight_belongs_to_the_day_it_started() -> None:
    friday_only = parse_window("20:00-02:00", weekdays=1 << 4)
    assert covered((friday_only,), rome(2026, 3, 13, 21, 0), ROME)  # Friday evening
    assert covered((friday_only,), rome(2026, 3, 14, 1, 0), ROME)  # Saturday 01:00, Friday's night
    assert not covered((friday_only,), rome(2026, 3, 14, 21, 0), ROME)  # Saturday evening
    assert not covered((friday_only,), rome(2026, 3, 13, 1, 0), ROME)  # Friday 01:00: Thursday's


def test_utc_instants_are_placed_in_local_time_across_dst() -> None:
    zone_b = (parse_window("07:30-18:30"),)
    # Winter: 06:45 UTC is 07:45 in Rome; summer: 05:45 UTC is 07:45 in Rome.
    assert covered(zone_b, dt.datetime(2026, 1, 15, 6, 45, tzinfo=dt.UTC), ROME)
    assert covered(zone_b, dt.datetime(2026, 7, 15, 5, 45, tzinfo=dt.UTC), ROME)
    assert not covered(
        zone_b,
        dt.datetime(2026, 7, 15, 6, 45, tzinfo=dt.UTC) - dt.timedelta(hours=1, minutes=30),
        ROME,
    )


DST_DAYS = [dt.date(2026, 3, 29), dt.date(2026, 10, 25)]  # spring forward, fall back


@pytest.mark.parametrize(("day", "minutes"), list(zip(DST_DAYS, (23 * 60, 25 * 60), strict=True)))
@pytest.mark.parametrize(
    "text", ["20:00-10:00", "07:30-18:30", "00:00-24:00", "02:00-03:00", "01:30-02:30"]
)
def test_every_minute_of_a_dst_day_is_classified_by_the_wall_clock(
    day: dt.date, minutes: int, text: str
) -> None:
    """Each real instant of the day is classified exactly as its local wall-clock minute says."""
    window = parse_window(text)
    start = dt.datetime.combine(day, dt.time(0, 0), ROME).astimezone(dt.UTC)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 0), ROME).astimezone(dt.UTC)
    instants = int((end - start).total_seconds() // 60)
    assert instants == minutes  # 23 hours when DST starts, 25 when it ends
    for i in range(instants):
        at = start + dt.timedelta(minutes=i)
        local = at.astimezone(ROME)
        minute = local.hour * 60 + local.minute
        if window.crosses_midnight:
            expected = minute >= window.start_minute or minute < window.end_minute
        else:
            expected = window.start_minute <= minute < window.end_minute
        assert covered((window,), at, ROME) is expected, (text, local.isoformat())


@given(
    start=st.integers(0, 1439),
    end=st.integers(1, 1440),
    minute=st.integers(0, 24 * 60 * 3),
    day=st.sampled_from([*DST_DAYS, dt.date(2026, 6, 1)]),
)
def test_classification_is_deterministic_and_consistent(
    start: int, end: int, minute: int, day: dt.date
) -> None:
    if start == end:
        return
    window = DailyWindow(start, end)
    at = dt.datetime.combine(day, dt.time(0, 0), dt.UTC) + dt.timedelta(minutes=minute)
    first = covered((window,), at, ROME)
    assert covered((window,), at, ROME) is first
    # The same instant in another offset is the same instant.
    assert covered((window,), at.astimezone(dt.timezone(dt.timedelta(hours=-5))), ROME) is first
    # A window and its complement split every instant exactly.
    if not window.whole_day:
        complement = DailyWindow(end % 1440, start if start else 1440)
        assert covered((complement,), at, ROME) is (not first)


def test_rules_import_neither_flask_nor_sqlalchemy() -> None:
    code = (
        "import sys, pkgutil, importlib, ztl.rules as r\n"
        "for m in pkgutil.walk_packages(r.__path__, 'ztl.rules.'): importlib.import_module(m.name)\n"
        "bad = [n for n in sys.modules if n.split('.')[0] in {'flask', 'sqlalchemy', 'flask_sqlalchemy', 'werkzeug'}]\n"
        "print(','.join(bad)); sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"ztl.rules imports {result.stdout.strip()}"
    assert importlib.import_module("ztl.rules")
