"""Permit periods: calendar days in Rome (23 and 25 hours on DST days), years, hours, badge caps."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from ztl.rules.validity import ValidityError, end_of_calendar_duration, permit_period

ROME = ZoneInfo("Europe/Rome")


def rome(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=ROME)  # type: ignore[arg-type,misc]


@pytest.mark.parametrize(
    ("day", "hours"),
    [(dt.date(2026, 3, 29), 23), (dt.date(2026, 10, 25), 25), (dt.date(2026, 11, 25), 24)],
)
def test_a_daily_permit_is_the_calendar_day_in_rome(day: dt.date, hours: int) -> None:
    period = permit_period("P1D", rome(2026, 1, 1, 9, 0), ROME, first_day=day)
    assert period.valid_from == rome(day.year, day.month, day.day)
    assert period.valid_to - period.valid_from == dt.timedelta(hours=hours)


def test_years_run_from_local_midnight_to_the_same_date() -> None:
    period = permit_period("P2Y", rome(2026, 11, 25, 15, 30), ROME)
    assert period.valid_from == rome(2026, 11, 25) and period.valid_to == rome(2028, 11, 25)
    assert end_of_calendar_duration(dt.date(2028, 2, 29), "P1Y") == dt.date(2029, 2, 28)
    assert end_of_calendar_duration(dt.date(2026, 1, 31), "P1M") == dt.date(2026, 2, 28)


def test_hours_count_elapsed_time_from_the_chosen_start_even_across_dst() -> None:
    start = rome(2026, 3, 29, 1, 30)  # the clock jumps from 02:00 to 03:00
    period = permit_period("PT2H", start, ROME)
    assert period.valid_to - period.valid_from == dt.timedelta(hours=2)
    assert period.valid_to.astimezone(ROME).hour == 4


def test_a_badge_expiry_caps_the_period_but_never_extends_it() -> None:
    start = rome(2026, 11, 25, 10)
    capped = permit_period("P5Y", start, ROME, not_after=dt.date(2027, 6, 30))
    assert capped.valid_to == rome(2027, 7, 1)
    long_badge = permit_period("P5Y", start, ROME, not_after=dt.date(2040, 1, 1))
    assert long_badge.valid_to == rome(2031, 11, 25)
    with pytest.raises(ValidityError):
        permit_period("P5Y", start, ROME, not_after=dt.date(2026, 11, 1))  # badge expired


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValidityError):
        permit_period("P1Y", dt.datetime(2026, 1, 1, 10, 0), ROME)  # no offset
    with pytest.raises(ValidityError):
        end_of_calendar_duration(dt.date(2026, 1, 1), "1Y")
