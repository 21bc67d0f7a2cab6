"""Retention of plate lookups: `ztl retention purge` and the `[retention]` table of the rules file.

Old authorized answers lose their plate; recent ones keep it; violations keep it while open, and
lose it once closed for longer than the retention; the purge counts what it did, is idempotent,
and takes the days from the municipality's file. The loader refuses bad values with line and field.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from ztl.city.rules_config import EXTENSION_KEY
from ztl.extensions import db
from ztl.lookups.retention import purge_lookups
from ztl.models import PlateLookup
from ztl.rules.loader import DEFAULT_RULES, RulesFileError, load_rules, parse_rules

NOW = dt.datetime(2026, 6, 20, 3, 0, tzinfo=dt.UTC)
PRATO = DEFAULT_RULES.read_text(encoding="utf-8")
ESEMPIO = DEFAULT_RULES.parent / "esempio.toml"


def _lookup(
    name: str,
    days_ago: float,
    authorized: bool,
    pending_hours: float | None = None,
    closed_days_ago: float | None = None,
) -> None:
    """A lookup whose plate is `name` (a readable handle on what happened to it)."""
    asked = NOW - dt.timedelta(days=days_ago)
    db.session.add(
        PlateLookup(
            asked_at=asked,
            actor_label="token:varco-a1",
            channel="transit",
            plate=name,
            zone="A",
            at=asked,
            authorized=authorized,
            pending_until=asked + dt.timedelta(hours=pending_hours) if pending_hours else None,
            reason="...",
            violation_closed_at=(
                NOW - dt.timedelta(days=closed_days_ago) if closed_days_ago is not None else None
            ),
        )
    )


@pytest.fixture
def lookups(app: Flask) -> None:
    _lookup("OLDYES", 10, authorized=True)  # answered 10 days ago: past the 7 days
    _lookup("EDGEYES", 7.01, authorized=True)  # just past
    _lookup("NEWYES", 6.9, authorized=True)  # within the 7 days
    _lookup("OLDNO", 30, authorized=False)  # an open violation: kept
    _lookup("OLDLATE", 30, authorized=False, pending_hours=48)  # pending once, now a violation
    _lookup("PENDING", 0.5, authorized=False, pending_hours=48)  # may still be registered
    _lookup("CLOSED", 30, authorized=False, closed_days_ago=10)  # closed long enough ago
    _lookup("JUSTCLOSED", 30, authorized=False, closed_days_ago=1)  # closed yesterday: kept
    _lookup("NEWCLOSED", 2, authorized=False, closed_days_ago=1)  # recent and closed: kept
    db.session.commit()


def _kept() -> set[str]:
    db.session.expire_all()
    rows = db.session.scalars(select(PlateLookup).where(PlateLookup.plate.is_not(None))).all()
    return {row.plate for row in rows if row.plate}


KEPT_AFTER_7_DAYS = {"NEWYES", "OLDNO", "OLDLATE", "PENDING", "JUSTCLOSED", "NEWCLOSED"}


def test_the_purge_anonymises_what_is_past_retention_and_keeps_open_violations(
    app: Flask, lookups: None
) -> None:
    result = purge_lookups(NOW)
    assert (result.anonymised, result.days) == (3, 7)
    assert result.cutoff == NOW - dt.timedelta(days=7)
    assert _kept() == KEPT_AFTER_7_DAYS
    blanked = db.session.scalars(select(PlateLookup).where(PlateLookup.plate.is_(None))).all()
    assert len(blanked) == 3
    assert all(row.anonymised_at == NOW for row in blanked)
    assert all(row.reason == "anonimizzata / anonymised" for row in blanked)  # it named the permit
    # The rest of the row stays: when, where, who asked, the answer.
    assert {(row.zone, row.actor_label, row.channel) for row in blanked} == {
        ("A", "token:varco-a1", "transit")
    }
    assert sorted(row.authorized for row in blanked) == [False, True, True]
    again = purge_lookups(NOW)
    assert again.anonymised == 0  # idempotent: nothing more the second time
    assert all(row.anonymised_at == NOW for row in blanked)


def test_later_runs_take_what_has_aged_since(app: Flask, lookups: None) -> None:
    purge_lookups(NOW)
    later = purge_lookups(NOW + dt.timedelta(days=7))
    # NEWYES is now 13.9 days old, JUSTCLOSED and NEWCLOSED were closed 8 days ago.
    assert later.anonymised == 3
    assert _kept() == {"OLDNO", "OLDLATE", "PENDING"}


def test_the_command_prints_the_count_and_uses_the_municipality_setting(
    app: Flask, lookups: None, runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = app.extensions[EXTENSION_KEY]
    monkeypatch.setitem(
        app.extensions, EXTENSION_KEY, dataclasses.replace(rules, lookup_retention_days=0)
    )
    result = runner.invoke(args=["retention", "purge", "--now", "2026-06-20T05:00+02:00"])
    assert result.exit_code == 0, result.output
    # With 0 days every authorized answer and every closed violation goes; open ones stay.
    assert result.output.startswith("6 plate lookups anonymised (retention 0 days")
    assert _kept() == {"OLDNO", "OLDLATE", "PENDING"}


def test_the_command_with_the_default_and_without_now(
    app: Flask, lookups: None, runner: FlaskCliRunner
) -> None:
    result = runner.invoke(args=["retention", "purge", "--now", "2026-06-20T03:00Z"])
    assert result.exit_code == 0, result.output
    assert "3 plate lookups anonymised (retention 7 days" in result.output
    assert _kept() == KEPT_AFTER_7_DAYS
    # Without --now: as of today, whenever that is, the open violations stay.
    result = runner.invoke(args=["retention", "purge"])
    assert result.exit_code == 0 and "plate lookups anonymised" in result.output
    assert _kept() == {"OLDNO", "OLDLATE", "PENDING"}  # the rest is from June 2026, long past


@pytest.mark.parametrize("now", ["2026-06-20T03:00", "ieri"])
def test_a_bad_now_is_exit_2_and_nothing_changes(
    app: Flask, lookups: None, runner: FlaskCliRunner, now: str
) -> None:
    result = runner.invoke(args=["retention", "purge", "--now", now])
    assert result.exit_code == 2
    assert len(_kept()) == 9


def test_the_rules_files_carry_the_retention() -> None:
    assert load_rules().lookup_retention_days == 7
    assert load_rules(ESEMPIO).lookup_retention_days == 3
    without = PRATO.replace("[retention]\nlookups_days = 7\nrecords_years = 10\n", "")
    assert "[retention]" not in without
    assert parse_rules(without, "prato.toml").lookup_retention_days == 7  # the default
    assert parse_rules(PRATO.replace("lookups_days = 7", ""), "x").lookup_retention_days == 7
    assert parse_rules(PRATO.replace("lookups_days = 7", "lookups_days = 0"), "x").lookup_retention_days == 0  # fmt: skip


def test_retention_must_be_a_table() -> None:
    broken = PRATO.replace("[retention]\nlookups_days = 7\nrecords_years = 10\n", "").replace(
        "[municipality]", "retention = 7\n\n[municipality]", 1
    )
    with pytest.raises(RulesFileError, match="retention: must be a table"):
        parse_rules(broken, "prato.toml")
