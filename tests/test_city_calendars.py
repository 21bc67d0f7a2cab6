"""Zone calendars of real cities: Firenze, Roma and Prato, as tables of instants.

Every expected value is worked out by hand from the city's published regulation (see the comments
in the rules files), never computed by the code under test: weekdays are read off a calendar,
Easter from the tables (2026-04-05, 2027-03-28, 2028-04-16), the season bounds from the first
Thursday of April and the first Sunday of October of each year. Local instants are built with
zoneinfo; the DST nights are given as UTC instants, so the hour that never happens and the hour
that happens twice are named without ambiguity.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ztl.rules.calendar import public_holidays
from ztl.rules.loader import load_rules
from ztl.rules.municipality import Municipality

ROME = ZoneInfo("Europe/Rome")
MUNICIPALITIES = Path(__file__).resolve().parents[1] / "ztl" / "rules" / "municipalities"


def local(text: str) -> dt.datetime:
    """'2027-01-13 07:29' as a wall-clock time in Italy (never on a DST hour in these tables)."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=ROME)


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def firenze() -> Municipality:
    return load_rules(MUNICIPALITIES / "firenze.toml")


@pytest.fixture(scope="module")
def roma() -> Municipality:
    return load_rules(MUNICIPALITIES / "roma.toml")


@pytest.fixture(scope="module")
def prato() -> Municipality:
    return load_rules(MUNICIPALITIES / "prato.toml")


# --- the shipped files --------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(MUNICIPALITIES.glob("*.toml")), ids=lambda p: p.name)
def test_every_shipped_rules_file_loads(path: Path) -> None:
    city = load_rules(path)
    assert city.zones and city.categories
    assert len({z.code for z in city.zones}) == len(city.zones)


@pytest.mark.parametrize(
    ("file", "code", "zones"),
    [
        ("prato.toml", "IT-PO", ["A", "B"]),
        ("esempio.toml", "IT-XX", ["A", "B"]),
        ("firenze.toml", "IT-FI", ["A", "B", "O", "F", "G"]),
        ("roma.toml", "IT-RM", ["CS", "TRI", "TRA", "SL", "TES", "MON"]),
    ],
)
def test_shipped_files_name_their_city_and_zones(file: str, code: str, zones: list[str]) -> None:
    city = load_rules(MUNICIPALITIES / file)
    assert city.code == code
    assert city.timezone == "Europe/Rome"
    assert [z.code for z in city.zones] == zones


# --- public holidays ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "patron", "expected"),
    [
        (
            2027,
            (6, 24),  # Firenze, San Giovanni
            [
                (1, 1),
                (1, 6),
                (3, 28),  # Easter Sunday 2027
                (3, 29),  # Easter Monday 2027
                (4, 25),
                (5, 1),
                (6, 2),
                (6, 24),
                (8, 15),
                (10, 4),  # San Francesco, national again from 2026
                (11, 1),
                (12, 8),
                (12, 25),
                (12, 26),
            ],
        ),
        (
            2028,
            (6, 29),  # Roma, Santi Pietro e Paolo
            [
                (1, 1),
                (1, 6),
                (4, 16),  # Easter Sunday 2028
                (4, 17),  # Easter Monday 2028
                (4, 25),
                (5, 1),
                (6, 2),
                (6, 29),
                (8, 15),
                (10, 4),
                (11, 1),
                (12, 8),
                (12, 25),
                (12, 26),
            ],
        ),
    ],
)
def test_public_holidays_of_a_year(
    year: int, patron: tuple[int, int], expected: list[tuple[int, int]]
) -> None:
    assert public_holidays(year, patron_saint=patron) == frozenset(
        dt.date(year, month, day) for month, day in expected
    )


# --- Firenze ------------------------------------------------------------------------------------
# A, B, O: Mon-Fri 07:30-20:00, Sat 07:30-16:00, not on holidays. Summer (first Thu of April to
# first Sun of October): also Thu 23:00-03:00, Fri 20:00-03:00, Sat 16:00-03:00. F and G: only
# the summer nights Thu, Fri, Sat 23:00-03:00. Patron: June 24.
# 2027-01-13 Wed, 01-15 Fri, 01-16 Sat, 01-17 Sun; 2027-06-09 Wed ... 06-13 Sun.

FIRENZE = [
    # weekdays, Saturday, Sunday (winter: no night ZTL)
    ("A", "2027-01-13 07:29", False, "weekday, a minute before 07:30"),
    ("A", "2027-01-13 07:30", True, "weekday start"),
    ("A", "2027-01-13 19:59", True, "weekday last minute"),
    ("A", "2027-01-13 20:00", False, "weekday end excluded"),
    ("B", "2027-01-13 12:00", True, "sector B on a weekday"),
    ("O", "2027-01-13 12:00", True, "sector O on a weekday"),
    ("A", "2027-01-15 21:00", False, "winter Friday evening"),
    ("A", "2027-01-16 07:30", True, "Saturday start"),
    ("A", "2027-01-16 15:59", True, "Saturday last minute"),
    ("A", "2027-01-16 16:00", False, "Saturday end excluded in winter"),
    ("A", "2027-01-16 23:30", False, "winter Saturday night"),
    ("A", "2027-01-17 10:00", False, "Sunday"),
    ("O", "2027-01-17 10:00", False, "Sunday, sector O"),
    # public holidays
    ("A", "2026-04-06 10:00", False, "Easter Monday 2026"),
    ("A", "2027-03-29 10:00", False, "Easter Monday 2027"),
    ("A", "2028-04-17 10:00", False, "Easter Monday 2028"),
    ("A", "2027-03-30 10:00", True, "the Tuesday after Easter 2027"),
    ("B", "2028-04-25 10:00", False, "Liberation Day 2028, a Tuesday"),
    ("A", "2026-04-25 10:00", False, "Liberation Day 2026, a Saturday"),
    ("A", "2027-06-02 10:00", False, "Republic Day 2027, a Wednesday"),
    ("A", "2027-06-24 10:00", False, "San Giovanni 2027, a Thursday"),
    ("A", "2027-06-23 10:00", True, "the day before San Giovanni"),
    ("B", "2026-06-24 10:00", False, "San Giovanni 2026, a Wednesday"),
    ("A", "2027-06-29 10:00", True, "Rome's patron is an ordinary Tuesday in Firenze"),
    ("A", "2027-10-04 10:00", False, "San Francesco 2027, a Monday"),
    ("A", "2027-12-08 10:00", False, "Immaculate Conception 2027, a Wednesday"),
    ("A", "2027-06-24 23:30", True, "the summer night of San Giovanni (nights ignore holidays)"),
    ("A", "2026-08-15 10:00", False, "Ferragosto 2026, a Saturday: no day ZTL"),
    ("A", "2026-08-15 17:00", True, "Ferragosto 2026: the Saturday summer night from 16:00"),
    # summer nights, crossing midnight
    ("A", "2027-06-10 20:00", False, "summer Thursday, between day and night"),
    ("A", "2027-06-10 22:59", False, "summer Thursday, before the night"),
    ("A", "2027-06-10 23:00", True, "summer Thursday night start"),
    ("A", "2027-06-11 02:59", True, "Thursday's night on Friday morning"),
    ("A", "2027-06-11 03:00", False, "Thursday's night ends at 03:00"),
    ("A", "2027-06-11 07:29", False, "Friday before the day ZTL"),
    ("A", "2027-06-11 20:00", True, "summer Friday: day runs into night"),
    ("O", "2027-06-11 21:00", True, "summer Friday evening, sector O"),
    ("A", "2027-06-12 02:00", True, "Friday's night on Saturday morning"),
    ("A", "2027-06-12 16:00", True, "summer Saturday: day runs into night"),
    ("A", "2027-06-13 02:59", True, "Saturday's night on Sunday morning"),
    ("A", "2027-06-13 03:00", False, "Saturday's night ends at 03:00"),
    ("A", "2027-06-13 12:00", False, "summer Sunday"),
    ("A", "2027-06-09 23:30", False, "no Wednesday night"),
    ("A", "2027-06-14 01:00", False, "no Sunday night"),
    ("F", "2027-06-11 21:00", False, "F starts at 23:00 on Fridays too"),
    ("F", "2027-06-11 23:00", True, "F summer Friday night"),
    ("G", "2027-06-12 23:30", True, "G summer Saturday night"),
    ("F", "2027-06-13 02:59", True, "F: Saturday's night on Sunday morning"),
    ("F", "2027-06-13 03:00", False, "F: end excluded"),
    ("F", "2027-06-13 23:30", False, "F: no Sunday night"),
    ("F", "2027-06-09 10:00", False, "F never by day"),
    ("G", "2027-06-10 12:00", False, "G never by day"),
    # season bounds: 2026 Apr 2 - Oct 4, 2027 Apr 1 - Oct 3, 2028 Apr 6 - Oct 1
    ("F", "2026-03-26 23:30", False, "2026: the Thursday before the season"),
    ("F", "2026-04-02 23:30", True, "2026: first Thursday of April"),
    ("A", "2026-04-03 02:00", True, "2026: the first night, on Friday morning"),
    ("A", "2026-10-03 17:00", True, "2026: Saturday before the first Sunday of October"),
    ("F", "2026-10-03 23:30", True, "2026: the season's last night"),
    ("F", "2026-10-04 02:30", True, "2026: the last night, on the first Sunday of October"),
    ("F", "2026-10-08 23:30", False, "2026: the Thursday after the season"),
    ("A", "2026-10-10 17:00", False, "2026: the Saturday after the season"),
    ("A", "2027-03-25 23:30", False, "2027: the Thursday before the season"),
    ("A", "2027-04-01 23:30", True, "2027: first Thursday of April is April 1"),
    ("A", "2027-04-02 02:59", True, "2027: the first night on Good Friday morning"),
    ("A", "2027-04-02 03:00", False, "2027: the first night ends"),
    ("F", "2027-10-02 23:59", True, "2027: the season's last night"),
    ("F", "2027-10-07 23:30", False, "2027: the Thursday after the season"),
    ("F", "2028-03-30 23:30", False, "2028: the Thursday before the season"),
    ("F", "2028-04-06 22:59", False, "2028: first Thursday of April, before 23:00"),
    ("F", "2028-04-06 23:00", True, "2028: first Thursday of April, 23:00"),
    ("F", "2028-09-30 23:30", True, "2028: the season's last night"),
    ("F", "2028-10-01 02:00", True, "2028: the last night, on the first Sunday of October"),
    ("F", "2028-10-05 23:30", False, "2028: the Thursday after the season"),
    # F and G in winter
    ("F", "2027-01-16 23:30", False, "F on a winter Saturday"),
    ("G", "2027-01-14 23:30", False, "G on a winter Thursday"),
    ("F", "2027-11-11 23:30", False, "F on a November Thursday"),
    ("G", "2027-12-18 01:00", False, "G: a winter Friday's night"),
]


@pytest.mark.parametrize(
    ("zone", "when", "active"),
    [pytest.param(z, w, a, id=f"{z} {w} {why}") for z, w, a, why in FIRENZE],
)
def test_firenze_zone_activity(firenze: Municipality, zone: str, when: str, active: bool) -> None:
    assert firenze.zone_active(zone, local(when)) is active


# --- Roma ---------------------------------------------------------------------------------------
# CS: Mon-Fri 06:30-18:00, Sat 14:00-18:00, Fri/Sat 23:00-03:00 (not in August), no holidays.
# TRI: Mon-Fri 06:30-19:00, Sat 10:00-19:00, no holidays. TRA: Mon-Sat 06:30-10:00 no holidays;
# nights 21:30-03:00 holidays included: Fri/Sat Sep-Jul, Wed/Thu May-Jul and Sep-Oct. SL: TRA's
# nights. TES: Fri/Sat 23:00-03:00 Sep-Jul, holidays included. MON: as CS's night. Patron June 29.

ROMA = [
    ("CS", "2027-01-13 06:29", False, "weekday before 06:30"),
    ("CS", "2027-01-13 06:30", True, "weekday start"),
    ("CS", "2027-01-13 17:59", True, "weekday last minute"),
    ("CS", "2027-01-13 18:00", False, "weekday end excluded"),
    ("CS", "2027-01-16 13:59", False, "Saturday before 14:00"),
    ("CS", "2027-01-16 14:00", True, "Saturday start"),
    ("CS", "2027-01-16 17:59", True, "Saturday last minute"),
    ("CS", "2027-01-16 18:00", False, "Saturday end excluded"),
    ("CS", "2027-01-17 10:00", False, "Sunday"),
    ("CS", "2027-01-14 23:30", False, "no Thursday night"),
    ("CS", "2027-01-15 22:59", False, "Friday before the night"),
    ("CS", "2027-01-15 23:00", True, "Friday night start"),
    ("CS", "2027-01-16 02:59", True, "Friday's night on Saturday morning"),
    ("CS", "2027-01-16 03:00", False, "Friday's night ends at 03:00"),
    ("CS", "2027-01-17 02:00", True, "Saturday's night on Sunday morning"),
    ("CS", "2027-01-18 02:00", False, "no Sunday night"),
    # holidays
    ("CS", "2026-04-06 10:00", False, "Easter Monday 2026"),
    ("CS", "2027-03-29 10:00", False, "Easter Monday 2027"),
    ("CS", "2028-04-17 10:00", False, "Easter Monday 2028"),
    ("CS", "2028-04-25 10:00", False, "Liberation Day 2028, a Tuesday"),
    ("CS", "2027-06-29 10:00", False, "Santi Pietro e Paolo 2027, a Tuesday"),
    ("CS", "2028-06-29 10:00", False, "Santi Pietro e Paolo 2028, a Thursday"),
    ("CS", "2027-06-30 10:00", True, "the day after the patron"),
    ("CS", "2027-06-24 10:00", True, "Firenze's patron is an ordinary Thursday in Rome"),
    ("CS", "2027-12-25 15:00", False, "Christmas 2027, a Saturday"),
    ("CS", "2027-12-25 23:30", False, "no night ZTL on Christmas night"),
    ("CS", "2027-01-01 23:30", False, "New Year's Day 2027 is a Friday: no night ZTL"),
    ("CS", "2027-01-02 02:00", False, "the part after midnight belongs to the holiday"),
    ("TRA", "2027-01-01 23:30", True, "Trastevere's night runs on holidays"),
    ("TES", "2027-12-25 23:30", True, "Testaccio's night runs on Christmas"),
    # the August pause of the night ZTLs (season September 1 - July 31)
    ("CS", "2027-07-31 23:30", True, "July 31, the season's last day"),
    ("CS", "2027-08-01 02:30", True, "July 31's night on August 1"),
    ("CS", "2027-08-06 23:30", False, "a Friday in August"),
    ("CS", "2027-08-28 23:30", False, "the last Saturday of August"),
    ("CS", "2027-09-03 23:30", True, "the first Friday of September"),
    ("CS", "2027-08-02 10:00", True, "the day ZTL does not pause in August"),
    ("MON", "2027-01-16 23:30", True, "Monti on a Saturday night"),
    ("MON", "2027-08-07 23:30", False, "Monti in August"),
    ("TES", "2027-01-15 22:00", False, "Testaccio before 23:00"),
    ("TES", "2027-01-15 23:00", True, "Testaccio Friday night"),
    ("TES", "2027-06-09 23:30", False, "Testaccio has no Wednesday night"),
    # Tridente
    ("TRI", "2027-01-13 06:29", False, "Tridente weekday before 06:30"),
    ("TRI", "2027-01-13 18:59", True, "Tridente weekday last minute"),
    ("TRI", "2027-01-13 19:00", False, "Tridente weekday end excluded"),
    ("TRI", "2027-01-16 09:59", False, "Tridente Saturday before 10:00"),
    ("TRI", "2027-01-16 10:00", True, "Tridente Saturday start"),
    ("TRI", "2027-01-16 18:59", True, "Tridente Saturday last minute"),
    ("TRI", "2027-01-17 12:00", False, "Tridente on Sunday"),
    ("TRI", "2027-03-29 12:00", False, "Tridente on Easter Monday"),
    # Trastevere and San Lorenzo
    ("TRA", "2027-01-13 06:30", True, "Trastevere weekday morning"),
    ("TRA", "2027-01-16 09:59", True, "Trastevere Saturday morning"),
    ("TRA", "2027-01-16 10:00", False, "Trastevere morning end excluded"),
    ("TRA", "2027-01-17 07:00", False, "Trastevere on Sunday morning"),
    ("TRA", "2027-03-29 07:00", False, "Trastevere on Easter Monday morning"),
    ("TRA", "2027-01-15 21:29", False, "Trastevere Friday before 21:30"),
    ("TRA", "2027-01-15 21:30", True, "Trastevere Friday night start"),
    ("TRA", "2027-01-13 22:00", False, "no Wednesday night in winter"),
    ("TRA", "2027-04-29 22:00", False, "no Thursday night in April"),
    ("TRA", "2027-04-30 01:00", False, "April's Thursday night, on Friday morning"),
    ("TRA", "2027-05-05 22:00", True, "Wednesday night in May"),
    ("SL", "2027-06-10 23:00", True, "San Lorenzo Thursday night in June"),
    ("TRA", "2027-07-29 23:30", True, "Thursday night at the end of July"),
    ("TRA", "2027-07-31 23:30", True, "the last Saturday night before August"),
    ("TRA", "2027-08-01 02:30", True, "July 31's night on August 1"),
    ("TRA", "2027-08-04 22:00", False, "a Wednesday in August"),
    ("TRA", "2027-08-06 22:00", False, "a Friday in August"),
    ("SL", "2027-08-28 23:30", False, "San Lorenzo in August"),
    ("TRA", "2027-09-01 22:00", True, "Wednesday September 1"),
    ("SL", "2027-10-28 22:00", True, "a Thursday in October"),
    ("SL", "2027-11-03 22:00", False, "a Wednesday in November"),
    ("SL", "2027-11-05 22:00", True, "a Friday in November"),
]


@pytest.mark.parametrize(
    ("zone", "when", "active"),
    [pytest.param(z, w, a, id=f"{z} {w} {why}") for z, w, a, why in ROMA],
)
def test_roma_zone_activity(roma: Municipality, zone: str, when: str, active: bool) -> None:
    assert roma.zone_active(zone, local(when)) is active


# --- Prato, unchanged: A always, B 07:30-18:30 every day, holidays included ---------------------

PRATO = [
    ("A", "2027-01-17 03:00", True, "A on a Sunday night"),
    ("A", "2027-12-25 12:00", True, "A on Christmas"),
    ("A", "2027-03-29 00:00", True, "A at midnight on Easter Monday"),
    ("B", "2027-01-13 07:29", False, "B before 07:30"),
    ("B", "2027-01-13 07:30", True, "B start"),
    ("B", "2027-01-13 18:29", True, "B last minute"),
    ("B", "2027-01-13 18:30", False, "B end excluded"),
    ("B", "2027-01-16 20:00", False, "B on a Saturday evening"),
    ("B", "2027-01-17 10:00", True, "B on a Sunday"),
    ("B", "2027-12-25 10:00", True, "B on Christmas"),
    ("B", "2027-03-29 18:29", True, "B on Easter Monday"),
]


@pytest.mark.parametrize(
    ("zone", "when", "active"),
    [pytest.param(z, w, a, id=f"{z} {w} {why}") for z, w, a, why in PRATO],
)
def test_prato_zone_activity_unchanged(
    prato: Municipality, zone: str, when: str, active: bool
) -> None:
    assert prato.zone_active(zone, local(when)) is active


# --- DST nights: 2027-03-28 (02:00 CET -> 03:00 CEST) and 2027-10-31 (03:00 CEST -> 02:00 CET) ---
# Given in UTC. March: 00:59Z is 01:59 CET, 01:00Z is 03:00 CEST. October: 23:59Z (Oct 30) is
# 01:59 CEST, 00:30Z is the first 02:30 (CEST), 01:30Z the second 02:30 (CET), 02:00Z is 03:00 CET.
# Both are Saturday nights; March 27 2027 is before Firenze's season, October 30 after it.

DST = [
    ("roma", "CS", "2027-03-28T00:30", True, "01:30 CET, Saturday's night (Easter Sunday)"),
    ("roma", "CS", "2027-03-28T00:59", True, "01:59 CET"),
    ("roma", "CS", "2027-03-28T01:00", False, "03:00 CEST, the night is over"),
    ("roma", "TRA", "2027-03-28T00:59", True, "Trastevere 01:59 CET"),
    ("roma", "TRA", "2027-03-28T01:00", False, "Trastevere 03:00 CEST"),
    ("roma", "CS", "2027-10-30T23:59", True, "01:59 CEST"),
    ("roma", "CS", "2027-10-31T00:30", True, "first 02:30 (CEST)"),
    ("roma", "CS", "2027-10-31T01:30", True, "second 02:30 (CET)"),
    ("roma", "CS", "2027-10-31T01:59", True, "02:59 CET"),
    ("roma", "CS", "2027-10-31T02:00", False, "03:00 CET, the night is over"),
    ("roma", "TRA", "2027-10-31T01:30", True, "Trastevere second 02:30"),
    ("roma", "TRA", "2027-10-31T02:00", False, "Trastevere 03:00 CET"),
    ("firenze", "A", "2027-03-28T00:59", False, "Firenze A 01:59 CET, before the season"),
    ("firenze", "F", "2027-03-28T01:00", False, "Firenze F 03:00 CEST"),
    ("firenze", "A", "2027-10-31T00:30", False, "Firenze A first 02:30, after the season"),
    ("firenze", "F", "2027-10-31T01:30", False, "Firenze F second 02:30"),
    ("prato", "A", "2027-03-28T01:00", True, "Prato A 03:00 CEST"),
    ("prato", "A", "2027-10-31T01:30", True, "Prato A second 02:30"),
    ("prato", "B", "2027-03-28T00:59", False, "Prato B 01:59 CET"),
    ("prato", "B", "2027-03-28T05:29", False, "Prato B 07:29 CEST"),
    ("prato", "B", "2027-03-28T05:30", True, "Prato B 07:30 CEST"),
    ("prato", "B", "2027-10-31T06:29", False, "Prato B 07:29 CET"),
    ("prato", "B", "2027-10-31T06:30", True, "Prato B 07:30 CET"),
    ("prato", "B", "2027-10-31T17:29", True, "Prato B 18:29 CET"),
    ("prato", "B", "2027-10-31T17:30", False, "Prato B 18:30 CET"),
]


@pytest.mark.parametrize(
    ("city", "zone", "when", "active"),
    [pytest.param(c, z, w, a, id=f"{c} {z} {w}Z {why}") for c, z, w, a, why in DST],
)
def test_zone_activity_on_dst_nights(
    request: pytest.FixtureRequest, city: str, zone: str, when: str, active: bool
) -> None:
    municipality: Municipality = request.getfixturevalue(city)
    assert municipality.zone_active(zone, utc(when)) is active


def test_an_instant_without_offset_is_refused(firenze: Municipality) -> None:
    with pytest.raises(ValueError):
        firenze.zone_active("A", dt.datetime(2027, 1, 13, 10, 0))
