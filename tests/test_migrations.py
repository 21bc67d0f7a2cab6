"""The migration chain builds the whole schema on both engines and matches the models exactly."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask

from ztl.extensions import db
from ztl.models import Base


def test_migrations_reach_head_and_match_models(app: Flask) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
        assert differences == [], f"models and migrations differ: {differences}"
        tables = set(sa.inspect(conn).get_table_names())
    assert tables == {t.name for t in Base.metadata.sorted_tables} | {"alembic_version"}


def test_downgrade_to_base_and_back(app: Flask) -> None:
    """Every migration can be undone and redone (an operator's way out of a bad deploy)."""
    from flask_migrate import downgrade, upgrade

    downgrade(revision="base")
    with db.engine.connect() as conn:
        assert "permit" not in sa.inspect(conn).get_table_names()
    upgrade()
    with db.engine.connect() as conn:
        assert "permit" in sa.inspect(conn).get_table_names()


def test_zones_keep_their_hours_across_the_calendar_migration(app: Flask) -> None:
    """A database of the previous release (daily windows per zone) upgraded: each zone's
    calendar says what its windows said, so it is never left unrestricted before the rules file
    is applied; and applying the same hours from the file then changes nothing."""
    import json

    from flask_migrate import downgrade, upgrade

    from ztl.city import sync_city
    from ztl.rules.loader import DEFAULT_RULES, parse_rules

    downgrade(revision="d2a7c4e9f105")
    with db.engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO zone (id, code, name) VALUES (1, 'A', 'ZTL A, centro storico')")
        )
        conn.execute(sa.text("INSERT INTO zone (id, code, name) VALUES (2, 'B', 'ZTL B')"))
        conn.execute(sa.text("INSERT INTO zone (id, code, name) VALUES (3, 'C', 'ZTL C')"))
        conn.execute(
            sa.text(
                "INSERT INTO zone_window (zone_id, start_minute, end_minute, weekdays) VALUES "
                "(2, 450, 1110, 127), (3, 420, 1200, 31), (3, 480, 840, 32)"
            )
        )
    upgrade()
    with db.engine.connect() as conn:
        rows: dict[str, str] = dict(conn.execute(sa.text("SELECT code, calendar FROM zone")).all())
    assert {code: json.loads(text)["entries"] for code, text in rows.items()} == {
        "A": [{"hours": ["00:00-24:00"]}],  # no windows was "restricted at every hour"
        "B": [{"hours": ["07:30-18:30"]}],
        "C": [
            {"days": ["mon", "tue", "wed", "thu", "fri"], "hours": ["07:00-20:00"]},
            {"days": ["sat"], "hours": ["08:00-14:00"]},
        ],
    }
    with db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM zone WHERE code = 'C'"))
    text = DEFAULT_RULES.read_text(encoding="utf-8")
    changes = sync_city(parse_rules(text, "prato.toml")).changes
    assert not [c for c in changes if c.startswith(("zone A:", "zone B:"))], changes
