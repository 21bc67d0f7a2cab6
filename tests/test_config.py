"""Configuration: no secret defaults in production, a 0600 key file elsewhere, database URLs; the
municipality's identity only from the rules file (the old settings for it stop start-up)."""

from __future__ import annotations

import datetime as dt
import secrets
import stat
from pathlib import Path

import pytest

from ztl.config import ConfigurationError, build_settings, normalise_database_url
from ztl.models.base import UTCDateTime
from ztl.rules.loader import DEFAULT_RULES, load_rules

ESEMPIO = DEFAULT_RULES.parent / "esempio.toml"


def test_secret_key_file_created_with_mode_0600(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ZTL_SECRET_KEY", raising=False)
    monkeypatch.setenv("ZTL_ENV", "development")
    first = build_settings(tmp_path, None)["SECRET_KEY"]
    key_file = tmp_path / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first) == 64
    assert build_settings(tmp_path, None)["SECRET_KEY"] == first


def test_production_refuses_to_start_without_a_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ZTL_SECRET_KEY", raising=False)
    monkeypatch.setenv("ZTL_ENV", "production")
    with pytest.raises(ConfigurationError, match="ZTL_SECRET_KEY"):
        build_settings(tmp_path, None)
    monkeypatch.setenv("ZTL_SECRET_KEY", secrets.token_hex(32))
    settings = build_settings(tmp_path, None)
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["SESSION_COOKIE_HTTPONLY"] is True


def test_bad_integer_setting_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZTL_LOGIN_MAX_FAILURES", "five")
    with pytest.raises(ConfigurationError, match="ZTL_LOGIN_MAX_FAILURES"):
        build_settings(tmp_path, {"SECRET_KEY": "x"})


@pytest.mark.parametrize("raw", ["soon", "-1", "4000"])
def test_bad_seconds_setting_is_a_clear_error(
    raw: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZTL_ENFORCEMENT_REFRESH_SECONDS", raw)
    with pytest.raises(ConfigurationError, match="ZTL_ENFORCEMENT_REFRESH_SECONDS"):
        build_settings(tmp_path, {"SECRET_KEY": "x"})


def test_seconds_setting_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZTL_LOOKUP_FLUSH_SECONDS", "0.5")
    assert build_settings(tmp_path, {"SECRET_KEY": "x"})["ZTL_LOOKUP_FLUSH_SECONDS"] == 0.5


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h:5432/db", "postgresql+psycopg://u@h:5432/db"),
        ("sqlite:////tmp/x.sqlite3", "sqlite:////tmp/x.sqlite3"),
    ],
)
def test_database_urls(url: str, expected: str) -> None:
    assert normalise_database_url(url) == expected


def test_utc_column_refuses_naive_times() -> None:
    column = UTCDateTime()
    from sqlalchemy.dialects import sqlite

    with pytest.raises(ValueError, match="naive"):
        column.process_bind_param(dt.datetime(2026, 1, 1, 12, 0), sqlite.dialect())
    rome = dt.timezone(dt.timedelta(hours=1))
    stored = column.process_bind_param(
        dt.datetime(2026, 1, 1, 12, 0, tzinfo=rome), sqlite.dialect()
    )
    assert stored == dt.datetime(2026, 1, 1, 11, 0)
    loaded = column.process_result_value(stored, sqlite.dialect())
    assert loaded == dt.datetime(2026, 1, 1, 11, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("name", "value"), [("ZTL_MUNICIPALITY", "IT-PO"), ("ZTL_TIMEZONE", "UTC")]
)
def test_identity_settings_stop_start_up_naming_the_rules_file(
    name: str, value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Still set, they would look like they work: the message says where the identity lives now."""
    from ztl import create_app

    monkeypatch.delenv("ZTL_RULES_FILE", raising=False)
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError) as info:
        build_settings(tmp_path, {"SECRET_KEY": "x"})
    message = str(info.value)
    assert name in message and "[municipality]" in message and str(DEFAULT_RULES) in message
    with pytest.raises(ConfigurationError, match=r"esempio\.toml"):
        create_app({"SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path), "ZTL_RULES_FILE": ESEMPIO})
    monkeypatch.setenv(name, "  ")  # blank, as a template of environment files leaves it: harmless
    assert name not in build_settings(tmp_path, {"SECRET_KEY": "x"})
    monkeypatch.delenv(name)
    with pytest.raises(ConfigurationError, match=name):  # nor can a mapping bring it back
        build_settings(tmp_path, {"SECRET_KEY": "x", name: value})


def test_babel_time_zone_is_the_rules_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ZTL_RULES_FILE", raising=False)
    settings = build_settings(tmp_path, {"SECRET_KEY": "x"})
    assert settings["BABEL_DEFAULT_TIMEZONE"] == load_rules().timezone
    assert "ZTL_MUNICIPALITY" not in settings and "ZTL_TIMEZONE" not in settings
    text = ESEMPIO.read_text(encoding="utf-8")
    assert 'timezone = "Europe/Rome"' in text
    elsewhere = tmp_path / "altrove.toml"
    elsewhere.write_text(text.replace('timezone = "Europe/Rome"', 'timezone = "Europe/Lisbon"'))
    settings = build_settings(tmp_path, {"SECRET_KEY": "x", "ZTL_RULES_FILE": str(elsewhere)})
    assert settings["BABEL_DEFAULT_TIMEZONE"] == "Europe/Lisbon"


@pytest.mark.parametrize("env", ["Production", "PRODUCTION", "prod", "staging", ""])
def test_an_unknown_environment_stops_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: str
) -> None:
    """ "Production" used to run with development's defaults (demo allowed, cookies over HTTP)."""
    monkeypatch.setenv("ZTL_SECRET_KEY", secrets.token_hex(32))
    monkeypatch.setenv("ZTL_ENV", env)
    if env == "":
        assert build_settings(tmp_path, None)["ZTL_ENV"] == "development"  # unset: the default
        return
    with pytest.raises(ConfigurationError, match="ZTL_ENV must be one of development, production"):
        build_settings(tmp_path, None)


@pytest.mark.parametrize("weak", ["x", "k" * 64, "abcdefgh" * 3, "0123456789" * 3])
def test_production_refuses_a_weak_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, weak: str
) -> None:
    monkeypatch.setenv("ZTL_ENV", "production")
    monkeypatch.setenv("ZTL_SECRET_KEY", weak)
    with pytest.raises(ConfigurationError, match="too weak for production"):
        build_settings(tmp_path, None)
    monkeypatch.setenv("ZTL_ENV", "development")  # development accepts what the developer chose
    assert build_settings(tmp_path, None)["SECRET_KEY"] == weak
