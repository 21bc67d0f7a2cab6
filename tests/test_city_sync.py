"""The rules file is the whole city: the database is brought in step with it, or the change refused.

Each test starts from an empty database (the `app` fixture), as a new municipality does: no demo.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.factories import make_permit
from ztl.city import CityConflict, planned_changes, sync_city
from ztl.extensions import db
from ztl.models import Application, Category, City, Event, Gate, PlateLookup, Zone
from ztl.rules.loader import DEFAULT_RULES, parse_rules

PRATO = DEFAULT_RULES.read_text(encoding="utf-8")
ESEMPIO = (DEFAULT_RULES.parent / "esempio.toml").read_text(encoding="utf-8")
ROOT = Path(__file__).resolve().parent.parent


def _prato(**replacements: str) -> str:
    text = PRATO
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


def _zone(code: str) -> Zone:
    zone = db.session.scalar(select(Zone).where(Zone.code == code))
    assert zone is not None
    return zone


def _count(model: type) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def test_an_empty_database_gets_the_whole_city_and_a_second_run_changes_nothing(
    app: Flask,
) -> None:
    report = sync_city(parse_rules(PRATO, "prato.toml"))
    assert "municipality: Comune di Prato (IT-PO), time zone Europe/Rome" in report.changes
    assert "zone B: added (ZTL B; 07:30-18:30)" in report.changes
    assert "gate A2: added (Via Ricasoli, zone A, in)" in report.changes
    assert [g.code for g in db.session.scalars(select(Gate).order_by(Gate.code))] == [
        "A1",
        "A2",
        "A3",
        "A4",
        "A5",
        "A6",
    ]
    assert _count(Category) == 12
    city = db.session.get(City, 1)
    assert city is not None and (city.code, city.name) == ("IT-PO", "Comune di Prato")
    assert sync_city(parse_rules(PRATO, "prato.toml")).changes == ()
    events = db.session.scalars(select(Event).where(Event.subject_type == "city")).all()
    assert len(events) == 1 and events[0].action == "rules_applied"


def test_a_changed_calendar_is_logged_as_before_and_after(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    sync_city(parse_rules(PRATO, "prato.toml"))
    edited = _prato(**{'active = ["07:30-18:30"]': 'active = ["08:00-20:00"]'})
    with caplog.at_level("INFO", logger="ztl.city"):
        report = sync_city(parse_rules(edited, "prato.toml"))
    assert report.changes == ("zone B: 07:30-18:30 -> 08:00-20:00",)
    assert "rules file applied: zone B: 07:30-18:30 -> 08:00-20:00" in caplog.text
    assert json.loads(_zone("B").calendar)["entries"] == [{"hours": ["08:00-20:00"]}]


def test_a_new_patron_saint_is_said_once_not_for_every_zone(app: Flask) -> None:
    sync_city(parse_rules(PRATO, "prato.toml"))
    edited = _prato(**{'patron_saint = "12-26"': 'patron_saint = "06-24"'})
    report = sync_city(parse_rules(edited, "prato.toml"))
    assert report.changes == ("municipality patron saint: 12-26 -> 06-24",)
    assert json.loads(_zone("B").calendar)["patron_saint"] == "06-24"  # the zones follow it


def test_a_category_change_is_logged_and_no_fee_is_copied(app: Flask) -> None:
    sync_city(parse_rules(PRATO, "prato.toml"))
    edited = _prato(
        **{
            'windows = ["07:00-10:00", "12:30-15:30"]': 'windows = ["07:00-11:00"]',
            "fees_cents = { P1Y = 3000 }": "fees_cents = { P1Y = 9900 }",  # category 4 only
        }
    )
    report = sync_city(parse_rules(edited, "prato.toml"))
    # The fee is not in the database: only the windows changed there.
    assert report.changes == ("category 4: windows 07:00-10:00, 12:30-15:30 -> 07:00-11:00",)


def test_another_city_replaces_an_empty_database_and_reads_its_rich_calendar(app: Flask) -> None:
    sync_city(parse_rules(ESEMPIO, "esempio.toml"))
    entries = json.loads(_zone("B").calendar)["entries"]
    assert entries[0] == {
        "days": ["mon", "tue", "wed", "thu", "fri"],
        "holidays": "off",
        "hours": ["08:00-20:00"],
    }
    assert entries[2]["season"] == {"from": "06-01", "to": "last sun of september"}


def test_a_zone_with_active_permits_cannot_leave_and_nothing_changes(app: Flask) -> None:
    sync_city(parse_rules(PRATO, "prato.toml"))
    make_permit("G/B", "AB123CD", "RSSMRA85T10A562S", 1, dt.datetime.now(dt.UTC))
    permit_zone_b = _zone("B")
    from ztl.models import Permit

    permit = db.session.scalar(select(Permit))
    assert permit is not None
    permit.zones.append(permit_zone_b)
    db.session.commit()
    without_b = _prato(
        **{
            '[[zones]]\ncode = "B"\nname = "ZTL B"\nactive = ["07:30-18:30"]\n': "",
            'zones = ["A", "B"]': 'zones = ["A"]',
            'zones = ["B"]': 'zones = ["A"]',
            'name = "ZTL A, centro storico"': 'name = "ZTL A"',
        }
    )
    rules = parse_rules(without_b, "prato.toml")
    with pytest.raises(CityConflict) as refused:
        sync_city(rules)
    assert refused.value.problems == (
        "zone B is no longer in the file but 1 active permits and 0 open applications name it",
    )
    db.session.expire_all()
    assert _zone("A").name == "ZTL A, centro storico"  # the rest of the change was not applied
    assert _zone("B").active
    with pytest.raises(CityConflict):
        planned_changes(rules)


def test_a_zone_only_ended_permits_name_is_withdrawn_not_deleted(app: Flask) -> None:
    sync_city(parse_rules(PRATO, "prato.toml"))
    make_permit("G/B", "AB123CD", "RSSMRA85T10A562S", 1)
    from ztl.models import Permit

    permit = db.session.scalar(select(Permit))
    assert permit is not None
    permit.zones.append(_zone("B"))
    permit.status = "expired"
    db.session.commit()
    without_b = _prato(
        **{
            '[[zones]]\ncode = "B"\nname = "ZTL B"\nactive = ["07:30-18:30"]\n': "",
            'zones = ["A", "B"]': 'zones = ["A"]',
            'zones = ["B"]': 'zones = ["A"]',
        }
    )
    report = sync_city(parse_rules(without_b, "prato.toml"))
    assert "zone B: withdrawn (kept for the history of ended permits)" in report.changes
    assert not _zone("B").active


def test_a_category_with_open_applications_cannot_leave(app: Flask) -> None:
    sync_city(parse_rules(PRATO, "prato.toml"))
    category = db.session.scalar(select(Category).where(Category.code == "T"))
    assert category is not None
    db.session.add(
        Application(applicant_id="RSSMRA85T10A562S", category=category, status="submitted")
    )
    db.session.commit()
    start = PRATO.index('[[categories]]\ncode = "T"')
    without_t = PRATO[:start]
    with pytest.raises(CityConflict) as refused:
        sync_city(parse_rules(without_t, "prato.toml"))
    assert "category T is no longer in the file but 1 open applications are for it" in str(
        refused.value
    )
    application = db.session.scalar(select(Application))
    assert application is not None
    application.status = "withdrawn"
    db.session.commit()
    report = sync_city(parse_rules(without_t, "prato.toml"))
    assert report.changes == ("category T: withdrawn (its permits stay valid until they end)",)


def test_a_gate_with_recorded_transits_cannot_leave(app: Flask) -> None:
    sync_city(parse_rules(PRATO, "prato.toml"))
    now = dt.datetime.now(dt.UTC)
    db.session.add(
        PlateLookup(
            actor_label="token:gate-1",
            channel="transit",
            plate="AB123CD",
            zone="A",
            gate="A6",
            at=now,
            authorized=False,
            reason="no permit",
        )
    )
    db.session.commit()
    start = PRATO.index('[[gates]]\ncode = "A6"')
    end = PRATO.index("[[categories]]")
    without_a6 = PRATO[:start] + PRATO[end:]
    with pytest.raises(CityConflict) as refused:
        sync_city(parse_rules(without_a6, "prato.toml"))
    assert "gate A6 is no longer in the file but 1 recorded transits were read at it" in str(
        refused.value
    )
    without_a5 = PRATO.replace(
        'code = "A5"\nname = "Via San Jacopo"', 'code = "A7"\nname = "Via Nuova"'
    )
    report = sync_city(parse_rules(without_a5, "prato.toml"))
    assert report.changes == ("gate A7: added (Via Nuova, zone A, in)", "gate A5: removed")


def test_another_municipality_code_is_refused_once_permits_were_sealed(app: Flask) -> None:
    sync_city(parse_rules(PRATO, "prato.toml"))
    make_permit("T", "AB123CD", "RSSMRA85T10A562S", 1)
    with pytest.raises(CityConflict) as refused:
        sync_city(parse_rules(ESEMPIO, "esempio.toml"))
    assert "municipality code IT-PO -> IT-XX: 1 permits were issued and sealed as IT-PO" in str(
        refused.value
    )


def test_start_up_brings_the_city_in_step_and_refuses_a_conflicting_file(
    migrated_app: Flask, app: Flask, tmp_path: Path
) -> None:
    from tests.conftest import make_app

    url = app.config["SQLALCHEMY_DATABASE_URI"]
    started = make_app(url, tmp_path / "one", ZTL_SYNC_CITY_ON_START=True)
    with started.app_context():
        assert db.session.get(City, 1) is not None
        assert _count(Gate) == 6
        make_permit("G/B", "AB123CD", "RSSMRA85T10A562S", 1, dt.datetime.now(dt.UTC))
        db.session.remove()
    other = tmp_path / "other.toml"
    other.write_text(ESEMPIO, encoding="utf-8")
    with pytest.raises(CityConflict):
        make_app(url, tmp_path / "two", ZTL_SYNC_CITY_ON_START=True, ZTL_RULES_FILE=str(other))


def _ztl(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "ztl", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


def _env(tmp_path: Path, database: Path) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("ZTL_")}
    env.update(
        ZTL_INSTANCE_PATH=str(tmp_path / "instance"),
        DATABASE_URL=f"sqlite:///{database}",
        ZTL_ENV="development",
    )
    return env


def test_db_upgrade_migrates_and_applies_the_rules_then_several_processes_start_at_once(
    tmp_path: Path,
) -> None:
    env = _env(tmp_path, tmp_path / "city.sqlite3")
    upgraded = _ztl(env, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "gate A1: added (Piazza Sant'Antonino, zone A, in)" in upgraded.stdout
    assert "Comune di Prato: rules file applied" in upgraded.stdout
    again = _ztl(env, "db", "upgrade")
    assert again.returncode == 0, again.stderr
    assert "the database already matches the rules file" in again.stdout
    # A changed file, then three processes starting at once (gunicorn workers): one applies it.
    edited = tmp_path / "prato.toml"
    edited.write_text(_prato(**{'active = ["07:30-18:30"]': 'active = ["08:00-19:00"]'}))
    env["ZTL_RULES_FILE"] = str(edited)
    starts = [
        subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "ztl", "city", "show"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=120) for p in starts]
    assert [p.returncode for p in starts] == [0, 0, 0], outputs
    assert all("B    ZTL B: 08:00-19:00" in out for out, _err in outputs), outputs
    with sqlite3.connect(tmp_path / "city.sqlite3") as connection:
        applied = connection.execute("select count(*) from event where subject_type='city'")
        assert applied.fetchone() == (2,)  # the first upgrade, then one of the three
        assert connection.execute("select count(*) from zone").fetchone() == (2,)


BAD_FILES = [
    (
        'zone = "A"\ndirection = "in"\n\n[[gates]]\ncode = "A2"',
        'zone = "Z"\ndirection = "in"\n\n[[gates]]\ncode = "A2"',
        "gates[0].zone",
        "unknown zone 'Z'",
    ),
    (
        'code = "A2"',
        'code = "A1"',
        "gates[1].code",
        "gate 'A1' is already a gate of zone A",
    ),
    ('patron_saint = "12-26"', 'patron_saint = "02-30"', "municipality.patron_saint", "not a day"),
]


@pytest.mark.parametrize(("old", "new", "field", "problem"), BAD_FILES)
def test_city_check_refuses_a_bad_file_with_file_line_and_field(
    app: Flask, tmp_path: Path, old: str, new: str, field: str, problem: str
) -> None:
    bad = tmp_path / "bad.toml"
    text = PRATO.replace(old, new, 1)
    bad.write_text(text, encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["city", "check", str(bad)])
    assert result.exit_code == 2, result.output
    line = PRATO[: PRATO.index(old)].count("\n") + 1
    assert f"{bad}, line {line}, {field}: " in result.output
    assert problem in result.output
    assert _count(Zone) == 0  # nothing applied


CALENDAR_MISTAKES = [
    (
        'season = { from = "06-01", to = "last sun of september" }',
        'season = { from = "first thu of aprile", to = "10-01" }',
        "season",
        "unknown month 'aprile'",
    ),
    ('days = ["fri", "sat"]', 'days = ["fri", "sab"]', "days", "unknown weekday 'sab'"),
    (
        'season = { from = "06-01", to = "last sun of september" }',
        'season = { from = "06-31", to = "09-30" }',
        "season",
        "'06-31' is not a day of the year",
    ),
    (
        'holidays = "off"',
        'holidays = "sometimes"',
        "holidays",
        "'sometimes' is not one of ignore, off, also, only",
    ),
]


@pytest.mark.parametrize(("old", "new", "key", "problem"), CALENDAR_MISTAKES)
def test_a_calendar_mistake_names_its_entry_and_line(
    app: Flask, tmp_path: Path, old: str, new: str, key: str, problem: str
) -> None:
    bad = tmp_path / "esempio.toml"
    text = ESEMPIO.replace(old, new, 1)
    bad.write_text(text, encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["city", "check", str(bad)])
    assert result.exit_code == 2, result.output
    line = next(n + 1 for n, row in enumerate(text.splitlines()) if row.startswith(new[:12]))
    assert f"line {line}, zones[1].calendar[" in result.output
    assert f"].{key}: {problem}" in result.output


def test_city_check_prints_a_sample_week_and_what_applying_would_change(
    app: Flask, tmp_path: Path
) -> None:
    runner = app.test_cli_runner()
    esempio = DEFAULT_RULES.parent / "esempio.toml"
    result = runner.invoke(args=["city", "check", str(esempio), "--week", "2026-12-09"])
    assert result.exit_code == 0, result.output
    assert "Sample week from 2026-12-07" in result.output
    tuesday = result.output.split("tue 2026-12-08  public holiday\n")[1].split("wed")[0]
    assert tuesday == "    A  00:00-24:00\n    B  -\n  "  # Immacolata: zone B is off
    assert "zone B: added" in result.output
    assert _count(Zone) == 0  # checked, not applied
    sync_city(parse_rules(PRATO, "prato.toml"))
    make_permit("T", "AB123CD", "RSSMRA85T10A562S", 1)
    refused = runner.invoke(args=["city", "check", str(esempio)])
    assert refused.exit_code == 1
    assert "municipality code IT-PO -> IT-XX" in refused.output


def test_city_show_prints_what_is_in_force(app: Flask) -> None:
    runner = app.test_cli_runner()
    missing = runner.invoke(args=["city", "show"])
    assert missing.exit_code == 1 and "ztl db upgrade" in missing.output
    sync_city(parse_rules(PRATO, "prato.toml"))
    shown = runner.invoke(args=["city", "show"])
    assert shown.exit_code == 0, shown.output
    assert "Comune di Prato (IT-PO), time zone Europe/Rome" in shown.output
    assert ": in force" in shown.output
    assert "A6    Via dei Tintori (zone A, in)" in shown.output
    assert "G/A  Daily ZTL A: 1 day € 10,00" in shown.output
    assert "1    Residents: 1 year € 47,00; 2 years € 62,00" in shown.output


def test_start_up_refuses_a_bad_file_and_changes_nothing(app: Flask, tmp_path: Path) -> None:
    from tests.conftest import make_app
    from ztl.rules.loader import RulesFileError

    sync_city(parse_rules(PRATO, "prato.toml"))
    bad = tmp_path / "prato.toml"
    text = PRATO.replace('active = ["07:30-18:30"]', 'active = ["08:00-20:00"]').replace(
        'zone = "A"\ndirection = "in"', 'zone = "C"\ndirection = "in"', 1
    )
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(RulesFileError) as refused:
        make_app(
            app.config["SQLALCHEMY_DATABASE_URI"],
            tmp_path / "instance",
            ZTL_SYNC_CITY_ON_START=True,
            ZTL_RULES_FILE=str(bad),
        )
    assert refused.value.field == "gates[0].zone"
    assert refused.value.line == PRATO[: PRATO.index('zone = "A"\ndirection')].count("\n") + 1
    db.session.expire_all()
    assert json.loads(_zone("B").calendar)["entries"] == [{"hours": ["07:30-18:30"]}]
