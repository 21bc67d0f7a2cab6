"""Municipality rules files: Prato's loads; a broken file is refused naming line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from ztl.rules.fees import fee_for
from ztl.rules.loader import DEFAULT_RULES, RulesFileError, load_rules, parse_rules
from ztl.rules.municipality import TransitRules

PRATO = DEFAULT_RULES.read_text(encoding="utf-8")
ESEMPIO = DEFAULT_RULES.parent / "esempio.toml"


def test_prato_follows_the_catalogue() -> None:
    prato = load_rules()
    assert prato.code == "IT-PO" and prato.timezone == "Europe/Rome"
    assert [c.code for c in prato.categories] == [
        "1",
        "15",
        "6",
        "H",
        "4",
        "63",
        "13",
        "3",
        "8A",
        "G/A",
        "G/B",
        "T",
    ]
    assert prato.zone("B").calendar.text() == "07:30-18:30"
    assert [w.text() for w in prato.category("63").windows] == ["20:00-10:00"]
    assert prato.category("1").check("household_limit").params["limit"] == 2  # type: ignore[union-attr]
    assert prato.emission_floor == {"petrol": 1, "diesel": 2}
    residents = prato.category("1")
    assert fee_for(prato, residents, "P2Y", ["petrol"]).fee_cents == 3000
    assert fee_for(prato, residents, "P1Y", ["petrol"]).total_cents == 1500 + 3200
    assert fee_for(prato, prato.category("H"), "P5Y", ["diesel"]).total_cents == 0


def test_another_municipality_is_a_file_not_code() -> None:
    other = load_rules(ESEMPIO)
    prato = load_rules()
    assert other.code == "IT-XX"
    assert other.category("1").check("household_limit").params["limit"] == 3  # type: ignore[union-attr]
    assert other.zone("B").calendar.text().startswith("mon-fri 08:00-20:00 not on public holidays")
    assert fee_for(other, other.category("1"), "P1Y", ["electric"]).fee_cents == 0
    assert fee_for(prato, prato.category("1"), "P1Y", ["electric"]).fee_cents == 1500


@pytest.mark.parametrize(
    ("old", "new", "field", "problem"),
    [
        (
            'emission_floor = {}\none_permit_per_plate = {}\n\n[[categories]]\ncode = "15"',
            'emission_floor = {}\none_permit_per_plate = {}\nteleport = {}\n\n[[categories]]\ncode = "15"',
            "categories[0].checks.teleport",
            "unknown check",
        ),
        (
            'windows = ["20:00-10:00"]',
            'windows = ["25:00-10:00"]',
            "categories[5].windows",
            "does not exist",
        ),
        (
            "fees_cents = { P1Y = 8000 }",
            "fees_cents = { }",
            "categories[1].fees_cents",
            "missing or invalid fee",
        ),
        (
            'zones = ["A"]\nvalidity = ["P1D"]\nfees_cents = { P1D = 1000 }',
            'zones = ["C"]\nvalidity = ["P1D"]\nfees_cents = { P1D = 1000 }',
            "categories[9].zones",
            "unknown zone 'C'",
        ),
        (
            "household_limit = { limit = 2 }",
            'household_limit = { limit = "two" }',
            "categories[0].checks.household_limit",
            "limit must be a whole number",
        ),
        (
            'ateco = ["55"] }',
            'ateco = ["hotels"] }',
            "categories[8].booklet",
            "ateco must be a list of activity codes",
        ),
        (
            'fees_cents = { P2Y = 9000 }\nstamp_duty = true\ndecided_by = "clerk"',
            'fees_cents = { P2Y = 9000 }\nstamp_duty = true\ndecided_by = "mayor"',
            "categories[6].decided_by",
            "must be one of",
        ),
    ],
)
def test_broken_file_names_line_and_field(old: str, new: str, field: str, problem: str) -> None:
    assert old in PRATO, old
    broken = PRATO.replace(old, new, 1)
    with pytest.raises(RulesFileError) as info:
        parse_rules(broken, "prato.toml")
    error = info.value
    assert error.field == field and problem in error.problem, str(error)
    assert error.line is not None
    changed_line = broken.splitlines()[error.line - 1]
    key = field.rsplit(".", 1)[-1]
    assert key in changed_line, (error.line, changed_line)
    assert str(error).startswith(f"prato.toml, line {error.line}, {field}: ")


def test_the_records_retention_is_read_with_its_default() -> None:
    assert load_rules().record_retention_years == 10
    assert load_rules(ESEMPIO).record_retention_years == 5
    assert parse_rules(PRATO.replace("records_years = 10\n", ""), "x").record_retention_years == 10
    assert parse_rules(PRATO.replace("[retention]\n", "[old]\n"), "x").record_retention_years == 10
    one = PRATO.replace("records_years = 10", "records_years = 1")
    assert parse_rules(one, "x").record_retention_years == 1
    assert parse_rules(one, "x").lookup_retention_days == 7  # the other setting is untouched


@pytest.mark.parametrize(
    ("setting", "value", "field", "problem"),
    [
        ("lookups_days = 7", "lookups_days = -1", "retention.lookups_days", "from 0 to 36500, got -1"),
        ("lookups_days = 7", "lookups_days = 7.5", "retention.lookups_days", "must be a whole number, got 7.5"),
        ("lookups_days = 7", 'lookups_days = "7"', "retention.lookups_days", "must be a whole number, got '7'"),
        ("lookups_days = 7", "lookups_days = true", "retention.lookups_days", "must be a whole number, got True"),
        ("lookups_days = 7", "lookups_days = 100000", "retention.lookups_days", "from 0 to 36500"),
        ("lookups_days = 7", "lookup_days = 7", "retention.lookup_days", "unknown setting 'lookup_days'"),
        ("records_years = 10", "records_years = 0", "retention.records_years", "number of years from 1 to 100, got 0"),
        ("records_years = 10", "records_years = -3", "retention.records_years", "from 1 to 100, got -3"),
        ("records_years = 10", "records_years = 101", "retention.records_years", "from 1 to 100, got 101"),
        ("records_years = 10", "records_years = 9.5", "retention.records_years", "must be a whole number, got 9.5"),
        ("records_years = 10", 'records_years = "10"', "retention.records_years", "must be a whole number, got '10'"),
        ("records_years = 10", "records_years = false", "retention.records_years", "must be a whole number, got False"),
        ("records_years = 10", "record_years = 10", "retention.record_years", "unknown setting 'record_years'"),
        ("notify_days = 90", "notify_days = 0", "transits.notify_days", "from 1 to 3650, got 0"),
        ("late_hours = 72", "late_hours = 72.5", "transits.late_hours", "must be a whole number, got 72.5"),
        ("future_seconds = 300", "future_seconds = 7200", "transits.future_seconds", "from 0 to 3600"),
        ("retention_days = 7", "retention_day = 7", "transits.retention_day", "unknown setting 'retention_day'"),
    ],
)  # fmt: skip
def test_a_bad_retention_setting_is_refused_with_line_and_field(
    setting: str, value: str, field: str, problem: str
) -> None:
    broken = PRATO.replace(setting, value, 1)
    with pytest.raises(RulesFileError) as info:
        parse_rules(broken, "prato.toml")
    error = info.value
    assert error.field == field and problem in error.problem, str(error)
    # The line named is the one changed (the [transits] lines end with a comment).
    assert error.line is not None and broken.splitlines()[error.line - 1].startswith(value)
    assert str(error).startswith(f"prato.toml, line {error.line}, {field}: ")
    # an unknown setting is answered with the known ones, and only an unknown setting is
    known = {
        "retention": "lookups_days, records_years",
        "transits": "future_seconds, late_hours, notify_days, silent_minutes, "
        "clock_alarm_seconds, retention_days",
    }[field.split(".")[0]]
    assert (f"known: {known}" in error.problem) == ("unknown setting" in problem)


def test_syntax_error_and_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(RulesFileError, match=r"line \d+, syntax"):
        parse_rules(PRATO.replace('code = "IT-PO"', 'code = "IT-PO'), "prato.toml")
    with pytest.raises(RulesFileError, match="cannot be read"):
        load_rules(tmp_path / "missing.toml")


def test_missing_municipality_field() -> None:
    with pytest.raises(RulesFileError) as info:
        parse_rules(PRATO.replace("stamp_duty_cents = 1600", ""), "x.toml")
    assert info.value.field == "municipality.stamp_duty_cents" and info.value.problem == "missing"


def test_a_broken_rules_file_stops_start_up(tmp_path: Path) -> None:
    from ztl import create_app

    broken = tmp_path / "rules.toml"
    broken.write_text(PRATO.replace('windows = ["20:00-10:00"]', 'windows = ["25:00-10:00"]'))
    with pytest.raises(RulesFileError) as info:
        create_app(
            {"SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path), "ZTL_RULES_FILE": str(broken)}
        )
    assert "categories[5].windows" in str(info.value) and str(broken) in str(info.value)
    app = create_app(
        {"SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path), "ZTL_RULES_FILE": str(ESEMPIO)}
    )
    from ztl.city.rules_config import current_rules

    assert current_rules(app).code == "IT-XX"


def test_the_transit_settings_are_read_with_their_defaults() -> None:
    prato = load_rules().transits
    assert (prato.future_seconds, prato.late_hours, prato.notify_days) == (300, 72, 90)
    bare = parse_rules(PRATO.replace("[transits]", "[transits_old]"), "x").transits
    assert bare == TransitRules()
    faster = parse_rules(PRATO.replace("silent_minutes = 15", "silent_minutes = 5"), "x")
    assert faster.transits.silent_minutes == 5 and faster.transits.notify_days == 90
