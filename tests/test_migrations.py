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
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    assert "alembic_version" in tables


def test_downgrade_to_base_and_back(app: Flask) -> None:
    """Every migration can be undone and redone (an operator's way out of a bad deploy)."""
    from flask_migrate import downgrade, upgrade

    downgrade(revision="base")
    with db.engine.connect() as conn:
        assert "permit" not in sa.inspect(conn).get_table_names()
    upgrade()
    with db.engine.connect() as conn:
        assert "permit" in sa.inspect(conn).get_table_names()
