"""Plate changes are limited by the rules file (`plate_changes`), so a cheap permit cannot serve a
fleet: none for a daily or two-hour permit once it is valid, and for long permits a number per
period from the date the municipality sets (Prato: 2 a year from 2027-01-01)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select

from tests.factories import DEMO_OWN_CAR, DEMO_RESIDENT, add_household_car, issue_resident
from ztl.applications.counter import CounterRequest, issue_at_counter
from ztl.eligibility.service import PlateInput
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import Actor, ServiceError
from ztl.models import Permit
from ztl.permits.changes import change_plate
from ztl.rules.loader import DEFAULT_RULES, RulesFileError, parse_rules
from ztl.rules.municipality import PlateChangeLimit
from ztl.rules.plate_changes import plate_change_refusal
from ztl.signing.keys import KeyStore

ROME = ZoneInfo("Europe/Rome")
CLERK = Actor("clerk@comune.example.org")


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=ROME)


YEARLY = PlateChangeLimit(2, "P1Y", dt.date(2027, 1, 1))
VALID_FROM = _at("2027-01-10 00:00")


@pytest.mark.parametrize(
    ("limit", "now", "earlier", "refused"),
    [
        (None, "2027-06-01 10:00", ["2027-05-01 10:00"] * 9, False),
        (PlateChangeLimit(0), "2027-01-09 23:59", [], False),  # not valid yet: a correction
        (PlateChangeLimit(0), "2027-01-10 00:00", [], True),  # valid: never
        (YEARLY, "2027-06-01 10:00", ["2027-02-01 10:00"], False),
        (YEARLY, "2027-06-01 10:00", ["2027-02-01 10:00", "2027-03-01 10:00"], True),
        # A year back from 2028-03-01 starts on 2027-03-02 (local days), from 2028-03-02 on
        # 2027-03-03: the change of 2 March 2027 counts on the first day and not on the second.
        (YEARLY, "2028-03-01 10:00", ["2027-03-02 00:30", "2027-04-01 10:00"], True),
        (YEARLY, "2028-03-02 10:00", ["2027-03-02 00:30", "2027-04-01 10:00"], False),
        # Before the limit's date nothing is limited, and changes made then are not counted.
        (YEARLY, "2026-12-31 23:59", ["2026-12-01 10:00"] * 5, False),
        (YEARLY, "2027-01-02 10:00", ["2026-12-01 10:00"] * 5 + ["2027-01-01 09:00"], False),
        (PlateChangeLimit(1), "2030-01-01 10:00", ["2027-01-01 10:00"], True),  # over the life
    ],
)
def test_the_limit(
    limit: PlateChangeLimit | None, now: str, earlier: list[str], refused: bool
) -> None:
    answer = plate_change_refusal(limit, VALID_FROM, _at(now), [_at(e) for e in earlier], ROME)
    assert (answer is not None) is refused


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        ("{ limit = -1 }", "limit must be a whole number >= 0"),
        ('{ limit = 2, per = "PT2H" }', "'PT2H' is not a calendar duration"),
        ('{ limit = 2, per = "P1Y", from = "2027-02-30" }', "'2027-02-30' is not a date"),
        ("{ limit = 2, every = 3 }", "unknown key 'every'"),
    ],
)
def test_a_bad_limit_is_refused_with_its_line(written: str, problem: str) -> None:
    text = DEFAULT_RULES.read_text(encoding="utf-8")
    old = 'plate_changes = { limit = 2, per = "P1Y", from = "2027-01-01" }'
    with pytest.raises(RulesFileError) as refused:
        parse_rules(text.replace(old, f"plate_changes = {written}", 1), "prato.toml")
    assert refused.value.line == text[: text.index(old)].count("\n") + 1
    assert refused.value.field == "categories[0].plate_changes"
    assert problem in refused.value.problem


def test_a_daily_permit_serves_one_car(city: Flask, keys: KeyStore) -> None:
    """The misuse: a paid daily permit changed five times authorized five cars."""
    issued = issue_at_counter(
        CounterRequest(
            category="G/A", applicant_id=DEMO_RESIDENT, plates=(PlateInput(DEMO_OWN_CAR),)
        ),
        Actor.cli(),
    )
    other = add_household_car("GA123BC")
    with pytest.raises(ServiceError) as refused:
        change_plate(issued.number, DEMO_OWN_CAR, other, CLERK)
    assert refused.value.code == "plate_change_limit"
    permit = db.session.scalars(select(Permit).where(Permit.number == issued.number)).one()
    assert permit.status == "active" and [p.plate for p in permit.plates] == [DEMO_OWN_CAR]


def test_a_yearly_permit_changes_plate_twice_a_year(city: Flask, keys: KeyStore) -> None:
    issued = issue_resident()
    cars = [add_household_car(p) for p in ("GA123BC", "GB234CD", "GC345DE")]
    start = max(issued.valid_from, dt.datetime(2027, 1, 2, tzinfo=dt.UTC))
    first = change_plate(issued.number, DEMO_OWN_CAR, cars[0], CLERK, at=start)
    second = change_plate(first.number, cars[0], cars[1], CLERK, at=start + dt.timedelta(days=30))
    with pytest.raises(ServiceError) as refused:
        change_plate(second.number, cars[1], cars[2], CLERK, at=start + dt.timedelta(days=60))
    assert refused.value.code == "plate_change_limit"
    assert "at most 2 plate changes in P1Y: 2 made" in str(refused.value)
