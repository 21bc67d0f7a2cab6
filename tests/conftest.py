"""Test fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL runs when ZTL_TEST_POSTGRES_URL is set (CI sets it); each test session works in a schema of
its own, created here and dropped at the end, so runs never see each other's rows and leave nothing.
Without it the PostgreSQL run is skipped with a printed reason.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from ztl import create_app
from ztl.extensions import db
from ztl.models import Base

# Fixtures for signed permits (fresh keys per test, the demo city with keys).
pytest_plugins = ["tests.permit_helpers"]

POSTGRES_ENV = "ZTL_TEST_POSTGRES_URL"
POSTGRES_SKIP = (
    f"PostgreSQL run skipped: set {POSTGRES_ENV}=postgresql://USER@HOST:PORT/DB to run it "
    "(CI sets it to postgresql://postgres@127.0.0.1:5432/test)"
)


def postgres_base_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


def _psycopg_url(url: str) -> str:
    return re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql+psycopg://", url)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh, empty database per engine for the whole test session."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.sqlite3'}"
        return
    base = postgres_base_url()
    if base is None:
        pytest.skip(POSTGRES_SKIP)
    schema = f"ztl_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin_engine = sa.create_engine(_psycopg_url(base))
    with admin_engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    yield _psycopg_url(base) + separator + "options=" + quote(f"-csearch_path={schema}")
    with admin_engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin_engine.dispose()


class FreshContextClient(FlaskClient):
    """A test client whose every request runs in a new app context, as in production.

    Tests hold an app context open for database access; without this, requests would share its
    `g` (cached CSRF token, cached current user) and its database session, hiding real bugs.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            return super().open(*args, **kwargs)


def make_app(database_url: str, instance: Path, **extra: Any) -> Flask:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_PATH": str(instance),
        "ZTL_UPLOAD_DIR": str(instance / "uploads"),
        # Plate lookups written in the request, so a test reads them at once (the batched writer
        # has its own test in test_enforcement_api).
        "ZTL_LOOKUP_FLUSH_SECONDS": 0,
        # Every test signs in from 127.0.0.1; the per-address limits have their own tests.
        "ZTL_LOGIN_RATE_PER_MINUTE": 0,
        "ZTL_REGISTRATION_RATE_PER_MINUTE": 0,
        "ZTL_ELIGIBILITY_RATE_PER_MINUTE": 0,
        # Tests put the city in with the factories they need; start-up sync has its own tests.
        "ZTL_SYNC_CITY_ON_START": False,
        **extra,
    }
    app = create_app(config)
    app.test_client_class = FreshContextClient
    return app


@pytest.fixture(scope="session")
def migrated_app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The app on a database brought to the head of the migration chain (as production is)."""
    from flask_migrate import upgrade

    app = make_app(database_url, tmp_path_factory.mktemp("instance"))
    with app.app_context():
        upgrade()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


def _empty_all_tables() -> None:
    tables = list(reversed(Base.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def app(migrated_app: Flask) -> Iterator[Flask]:
    """The migrated app inside an app context; every table is emptied after the test."""
    with migrated_app.app_context():
        try:
            yield migrated_app
        finally:
            db.session.rollback()
            _empty_all_tables()
            db.session.remove()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


CSRF_FIELD = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|'
    r'name="csrf_token" value="([^"]+)"'
)


def csrf_token(client: FlaskClient, path: str) -> str:
    """The CSRF token of the form on a page, as a browser would submit it."""
    html = client.get(path).get_data(as_text=True)
    match = CSRF_FIELD.search(html) or re.search(r'id="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return next(g for g in match.groups() if g)


def login(client: FlaskClient, email: str, password: str, next_url: str | None = None) -> Any:
    token = csrf_token(client, "/accedi")
    data = {"email": email, "password": password, "csrf_token": token, "next": next_url or ""}
    return client.post("/accedi", data=data)


@pytest.fixture
def quiet_mail(monkeypatch: pytest.MonkeyPatch) -> None:
    """No e-mail from the services a test drives: mail has its own tests (test_notifications).

    The functions are replaced on the module the services call through, so the rest of the
    application (create_app, the CLI) keeps the real module.
    """
    from ztl.mail import notifications

    for name in (
        "notify_application_submitted",
        "notify_documents_requested",
        "notify_decision",
        "notify_permit_issued",
    ):
        monkeypatch.setattr(notifications, name, lambda *a, **k: None)
