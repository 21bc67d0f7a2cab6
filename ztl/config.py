"""Configuration: defaults, then ZTL_* environment variables, then an explicit mapping.

Why a module of its own: every entry point (web, CLI, tests, gunicorn) builds the app through
`create_app`, so configuration is resolved in one place and documented in one place (README).
No secret has a default: the session key is read from ZTL_SECRET_KEY or from a file in the instance
folder, created with mode 0600 on first start outside production.

The municipality's identity (code, name, time zone) is not configuration: it is the `[municipality]`
table of the rules file (ZTL_RULES_FILE), the one source for pages, e-mails, PDFs, seals and
certificates. Settings that used to duplicate it are refused at start-up rather than ignored.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ztl.rules.loader import DEFAULT_RULES, load_rules

# Generated, never committed (.gitignore): under the project, beside static/, shared by every
# instance folder (the tests make many), so that a build is made once per version of static/.
STATIC_BUILDS = Path(__file__).resolve().parent.parent / "build" / "static"

ENV_PREFIX = "ZTL_"
# The environments the application knows; anything else (a typo, "Production") stops start-up
# rather than silently running as development.
ENVIRONMENTS = ("development", "production")
# A production secret: at least this many characters, and not a repeated few (32 random bytes
# written in hex are 64 characters; in base64, 43).
MIN_SECRET_CHARACTERS = 32
MIN_SECRET_DISTINCT = 10
SECRET_KEY_FILE = "secret_key"  # noqa: S105 (a file name, not a secret)
# Settings that once duplicated the rules file's [municipality] table, and the field that replaces
# each: still set, they would make someone believe they work while the rules file decides.
RETIRED_SETTINGS = {
    ENV_PREFIX + "MUNICIPALITY": "code",
    ENV_PREFIX + "TIMEZONE": "timezone",
}


class ConfigurationError(RuntimeError):
    """Raised when the application cannot start safely with the configuration it was given."""


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(ENV_PREFIX + name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{ENV_PREFIX}{name} must be an integer, got {raw!r}") from exc


def _env_seconds(name: str, default: float) -> float:
    raw = os.environ.get(ENV_PREFIX + name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigurationError(
            f"{ENV_PREFIX}{name} must be a number of seconds, got {raw!r}"
        ) from exc
    if not 0 <= value <= 3600:
        raise ConfigurationError(
            f"{ENV_PREFIX}{name} must be between 0 and 3600 seconds, got {raw!r}"
        )
    return value


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(ENV_PREFIX + name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigurationError(f"{ENV_PREFIX}{name} must be true or false, got {raw!r}")


def _env_clock(name: str, default: str) -> str:
    """A local time of day, HH:MM (24 hours)."""
    raw = (os.environ.get(ENV_PREFIX + name) or "").strip() or default
    hours, _, minutes = raw.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
        raise ConfigurationError(f"{ENV_PREFIX}{name} must be a time HH:MM, got {raw!r}")
    return raw


def default_settings(instance_path: Path) -> dict[str, Any]:
    """The settings every deployment starts from; environment variables override them."""
    env = os.environ.get(ENV_PREFIX + "ENV") or "development"
    database_url = os.environ.get("DATABASE_URL") or os.environ.get(ENV_PREFIX + "DATABASE_URL")
    if not database_url:
        database_url = f"sqlite:///{instance_path / 'ztl.sqlite3'}"
    return {
        "ZTL_ENV": env,
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "ZTL_RULES_FILE": os.environ.get(ENV_PREFIX + "RULES_FILE") or None,
        "ZTL_KEYS_DIR": os.environ.get(ENV_PREFIX + "KEYS_DIR", str(instance_path / "keys")),
        "ZTL_LOGIN_MAX_FAILURES": _env_int("LOGIN_MAX_FAILURES", 5),
        "ZTL_LOGIN_LOCKOUT_MINUTES": _env_int("LOGIN_LOCKOUT_MINUTES", 15),
        "ZTL_UPLOAD_DIR": os.environ.get(ENV_PREFIX + "UPLOAD_DIR", str(instance_path / "uploads")),
        # Hashed and compressed copies of static/ (ztl.web.static_files), one folder per version.
        "ZTL_STATIC_BUILD_DIR": os.environ.get(ENV_PREFIX + "STATIC_BUILD_DIR", str(STATIC_BUILDS)),
        "MAX_CONTENT_LENGTH": _env_int("MAX_UPLOAD_BYTES", 10 * 1024 * 1024),
        "ZTL_MAX_DOCUMENT_BYTES": _env_int("MAX_DOCUMENT_BYTES", 5 * 1024 * 1024),
        "ZTL_API_RATE_PER_MINUTE": _env_int("API_RATE_PER_MINUTE", 1200),
        "ZTL_LOGIN_RATE_PER_MINUTE": _env_int("LOGIN_RATE_PER_MINUTE", 20),
        "ZTL_REGISTRATION_RATE_PER_MINUTE": _env_int("REGISTRATION_RATE_PER_MINUTE", 5),
        "ZTL_ELIGIBILITY_RATE_PER_MINUTE": _env_int("ELIGIBILITY_RATE_PER_MINUTE", 30),
        # Identity providers (SPID, CIE, the municipality's own): a JSON file, see
        # ztl/identity/providers.py. Residents' identity comes only from them in production.
        "ZTL_IDENTITY_PROVIDERS": os.environ.get(ENV_PREFIX + "IDENTITY_PROVIDERS") or None,
        # Residents registering with a password and a codice fiscale they type: for development
        # and the demo only (an identity nobody vouched for); production refuses it.
        # Unset: resolved after overrides (on outside production), see check_production_identity.
        "ZTL_RESIDENT_PASSWORDS": _env_bool("RESIDENT_PASSWORDS", False)
        if (os.environ.get(ENV_PREFIX + "RESIDENT_PASSWORDS") or "").strip()
        else None,
        "ZTL_ENFORCEMENT_LOOKBACK_DAYS": _env_int("ENFORCEMENT_LOOKBACK_DAYS", 30),
        "ZTL_ENFORCEMENT_REFRESH_SECONDS": _env_seconds("ENFORCEMENT_REFRESH_SECONDS", 0.1),
        "ZTL_LOOKUP_FLUSH_SECONDS": _env_seconds("LOOKUP_FLUSH_SECONDS", 0.2),
        "ZTL_TOKEN_CACHE_SECONDS": _env_seconds("TOKEN_CACHE_SECONDS", 10),
        # Several app nodes (ztl/cluster/, docs/deployment.md): the Redis they share for rate
        # limits, change notices and the job queue. Unset: one machine, everything in-process.
        "ZTL_REDIS_URL": os.environ.get(ENV_PREFIX + "REDIS_URL") or None,
        # Keys and channels of this municipality in a Redis shared by several (a region); unset:
        # "ztl:" and the rules file's municipality code.
        "ZTL_REDIS_PREFIX": os.environ.get(ENV_PREFIX + "REDIS_PREFIX") or None,
        # With change notices arriving (ZTL_REDIS_URL), how often a process still reads the
        # enforcement version itself, in case a notice was lost.
        "ZTL_ENFORCEMENT_NOTIFIED_REFRESH_SECONDS": _env_seconds(
            "ENFORCEMENT_NOTIFIED_REFRESH_SECONDS", 5
        ),
        # The municipality's local time after which the daily jobs run (ztl jobs scheduler / run-due).
        "ZTL_DAILY_JOBS_AT": _env_clock("DAILY_JOBS_AT", "03:00"),
        # Who keeps debt positions and confirms payments: "pagopa" (the pagoPA intermediary, the
        # production default), "notified" (a payment system's signed notification) or "demo" (the
        # payer's click; development only). See ztl/payments/providers.py and docs/payments.md.
        "ZTL_PAYMENT_PROVIDER": os.environ.get(ENV_PREFIX + "PAYMENT_PROVIDER")
        or ("pagopa" if env == "production" else "demo"),
        **{
            name: os.environ.get(name) or None
            for name in (
                "ZTL_PAGOPA_URL",
                "ZTL_PAGOPA_USER",
                "ZTL_PAGOPA_PASSWORD",
                "ZTL_PAGOPA_A2A",
                "ZTL_PAGOPA_SEGREGATION_CODE",
                "ZTL_PAGOPA_STATION",
                "ZTL_PAGOPA_CHECKOUT_URL",
                "ZTL_PAGOPA_NOTIFICATION_USER",
                "ZTL_PAGOPA_NOTIFICATION_PASSWORD",
            )
        },
        "ZTL_PAGOPA_FEE_ENTRY": os.environ.get(ENV_PREFIX + "PAGOPA_FEE_ENTRY") or "ZTL",
        "ZTL_PAGOPA_TIMEOUT": _env_seconds("PAGOPA_TIMEOUT", 10),
        "ZTL_PAYMENT_NOTIFICATION_SECRET": os.environ.get(
            ENV_PREFIX + "PAYMENT_NOTIFICATION_SECRET"
        )
        or None,
        # How long a write waits for SQLite's write lock before the request answers 503.
        "ZTL_DB_BUSY_TIMEOUT": _env_seconds("DB_BUSY_TIMEOUT", 5),
        # E-mail to applicants: SMTP when a host is set, else .eml files in the outbox folder.
        "ZTL_SMTP_HOST": os.environ.get(ENV_PREFIX + "SMTP_HOST") or None,
        "ZTL_SMTP_PORT": _env_int("SMTP_PORT", 25),
        "ZTL_SMTP_STARTTLS": _env_bool("SMTP_STARTTLS", False),
        "ZTL_SMTP_USER": os.environ.get(ENV_PREFIX + "SMTP_USER") or None,
        "ZTL_SMTP_PASSWORD": os.environ.get(ENV_PREFIX + "SMTP_PASSWORD") or None,
        "ZTL_MAIL_FROM": os.environ.get(ENV_PREFIX + "MAIL_FROM", "permessi-ztl@comune.example"),
        # The portal's address as people reach it (scheme, host, any path prefix): the links in
        # the e-mails, which are written by jobs with no request to take a host from. Unset in
        # production, the e-mails carry no link; in development the local server's address.
        "ZTL_PUBLIC_URL": os.environ.get(ENV_PREFIX + "PUBLIC_URL")
        or (None if env == "production" else "http://localhost:5000"),
        "ZTL_MAIL_OUTBOX": os.environ.get(
            ENV_PREFIX + "MAIL_OUTBOX", str(instance_path / "outbox")
        ),
        "BABEL_DEFAULT_LOCALE": "it",
        # BABEL_DEFAULT_TIMEZONE is the rules file's time zone: set by build_settings.
        "ZTL_LANGUAGES": ("it", "en"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _env_bool("SESSION_COOKIE_SECURE", env == "production"),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": _env_bool("SESSION_COOKIE_SECURE", env == "production"),
        "WTF_CSRF_TIME_LIMIT": None,
        # A signed-in session lasts a working day from sign-in: a copied cookie stops working
        # then (Flask checks the signature's age against this on every request).
        "PERMANENT_SESSION_LIFETIME": dt.timedelta(hours=_env_int("SESSION_HOURS", 12)),
        # The server ends sessions too (ztl.accounts.browser_sessions): residents' after
        # ZTL_SESSION_HOURS, staff's (who see everyone's data) after a shift.
        "ZTL_SESSION_HOURS": _env_int("SESSION_HOURS", 12),
        "ZTL_STAFF_SESSION_HOURS": _env_int("STAFF_SESSION_HOURS", 8),
        # Staff sign in with a password and a one-time code (ztl.accounts.second_factor). None
        # here: unset, decided by build_settings from the environment (on in production only).
        "ZTL_STAFF_SECOND_FACTOR": _env_bool("STAFF_SECOND_FACTOR", False)
        if (os.environ.get(ENV_PREFIX + "STAFF_SECOND_FACTOR") or "").strip()
        else None,
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host are trusted
        # (werkzeug's ProxyFix): without it, behind a proxy every client has the proxy's address
        # and shares one sign-in limit. 0: the app faces the clients directly.
        "ZTL_TRUSTED_PROXIES": _env_int("TRUSTED_PROXIES", 0),
    }


def normalise_database_url(url: str) -> str:
    """Accept the common postgres:// spellings and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load_secret_key(instance_path: Path, env: str) -> str:
    """ZTL_SECRET_KEY, else instance/secret_key; created on first start except in production."""
    from_env = os.environ.get(ENV_PREFIX + "SECRET_KEY")
    if from_env:
        return from_env
    key_file = instance_path / SECRET_KEY_FILE
    if key_file.exists():
        return key_file.read_text(encoding="utf-8").strip()
    if env == "production":
        raise ConfigurationError(
            "No secret key: set ZTL_SECRET_KEY or create the file "
            f"{key_file} (for example with `python -c 'import secrets; print(secrets.token_hex(32))'`)."
        )
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key)
    return key


def check_environment(env: str) -> None:
    if env not in ENVIRONMENTS:
        raise ConfigurationError(
            f"ZTL_ENV must be one of {', '.join(ENVIRONMENTS)} (lower case), got {env!r}: "
            "an unknown value would otherwise run with development's defaults"
        )


def check_production_secret(key: str) -> None:
    """The session secret signs every cookie: in production it must be long and random."""
    if len(key) < MIN_SECRET_CHARACTERS or len(set(key)) < MIN_SECRET_DISTINCT:
        raise ConfigurationError(
            f"The secret key is too weak for production: use at least {MIN_SECRET_CHARACTERS} "
            "random characters (for example `python -c 'import secrets; "
            "print(secrets.token_hex(32))'`) in ZTL_SECRET_KEY or the instance's secret_key file."
        )


def check_production_identity(settings: dict[str, Any]) -> None:
    """In production nobody declares their own identity: residents come through SPID/CIE.

    Unset, password registration follows the environment (on in development, for the demo).
    """
    if settings.get("ZTL_RESIDENT_PASSWORDS") is None:
        settings["ZTL_RESIDENT_PASSWORDS"] = settings["ZTL_ENV"] != "production"
    if settings["ZTL_ENV"] == "production" and settings["ZTL_RESIDENT_PASSWORDS"]:
        raise ConfigurationError(
            "ZTL_RESIDENT_PASSWORDS cannot be on in production: residents' identity must come "
            "from an identity provider (ZTL_IDENTITY_PROVIDERS), never from what they type."
        )


def check_staff_second_factor(settings: dict[str, Any]) -> None:
    """Unset, the staff's second factor follows the environment (on in production); production
    refuses to run without it: staff see everyone's data, and a password alone is too little."""
    value = settings.get("ZTL_STAFF_SECOND_FACTOR")
    if value is None:
        settings["ZTL_STAFF_SECOND_FACTOR"] = settings["ZTL_ENV"] == "production"
        return
    if not isinstance(value, bool):
        raise ConfigurationError(f"ZTL_STAFF_SECOND_FACTOR must be true or false, got {value!r}")
    if settings["ZTL_ENV"] == "production" and not value:
        raise ConfigurationError(
            "ZTL_STAFF_SECOND_FACTOR=false is refused in production: clerks, supervisors, police "
            "and administrators sign in there with a password and a one-time code. Remove the "
            "setting (production turns it on by itself)."
        )


def check_public_url(url: Any) -> None:
    """ZTL_PUBLIC_URL, when set, is an absolute http(s) address without query or fragment: a
    typo would otherwise send every applicant a link that leads nowhere."""
    if url is None:
        return
    if (
        not isinstance(url, str)
        or not url.startswith(("https://", "http://"))
        or any(c in url for c in "?# ")
        or len(url.split("/", 3)[2]) == 0
    ):
        raise ConfigurationError(
            f"ZTL_PUBLIC_URL must be the portal's address, like https://permessi.comune.example, "
            f"got {url!r}"
        )


def refuse_retired_settings(overrides: Mapping[str, Any] | None, rules_file: Path) -> None:
    """Stop start-up when ZTL_MUNICIPALITY or ZTL_TIMEZONE is still set (environment or mapping).

    Why refuse rather than ignore: a deployment that sets ZTL_TIMEZONE believes it chose the time
    zone, while pages, seals and permits follow the rules file; the message says where to look.
    """
    for name, field in RETIRED_SETTINGS.items():
        raw = os.environ.get(name)
        if (raw is not None and raw.strip()) or name in (overrides or {}):
            raise ConfigurationError(
                f"{name} is no longer read: the municipality's {field} is `{field} = ...` in the "
                f"[municipality] table of the rules file ({rules_file}, set by ZTL_RULES_FILE). "
                f"Remove {name} and edit that file."
            )


def rules_path(settings: Mapping[str, Any]) -> Path:
    """The rules file in force: ZTL_RULES_FILE, else the one shipped with the code."""
    return Path(settings.get("ZTL_RULES_FILE") or DEFAULT_RULES)


def build_settings(instance_path: Path, overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """Merge defaults, environment and explicit overrides (tests pass overrides)."""
    settings = default_settings(instance_path)
    if overrides:
        settings.update(overrides)
    refuse_retired_settings(overrides, rules_path(settings))
    # Flask-Babel takes its time zone from the settings, before the app loads the rules
    # (ztl.city.rules_config): read the rules file's here. A broken file stops start-up either way.
    settings["BABEL_DEFAULT_TIMEZONE"] = load_rules(rules_path(settings)).timezone
    check_environment(settings["ZTL_ENV"])
    if "SECRET_KEY" not in settings:
        settings["SECRET_KEY"] = load_secret_key(instance_path, settings["ZTL_ENV"])
    if settings["ZTL_ENV"] == "production":
        check_production_secret(str(settings["SECRET_KEY"] or ""))
    check_production_identity(settings)
    check_staff_second_factor(settings)
    check_public_url(settings.get("ZTL_PUBLIC_URL"))
    settings["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
        settings["SQLALCHEMY_DATABASE_URI"]
    )
    return settings
