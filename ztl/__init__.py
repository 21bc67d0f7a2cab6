"""ZTL permits: applications, explainable eligibility, signed permits and enforcement answers.

`create_app` is the only way to build the application (web server, CLI, tests). This module
imports nothing heavy at import time, so the pure packages (ztl.rules) stay free of Flask.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app: settings, extensions, blueprints, error pages, headers, commands.

    Flask is imported here, not at the top: `import ztl.rules` must not pull in the web stack.
    """
    from flask import Flask

    from ztl.config import build_settings

    instance_path = Path(
        os.environ.get("ZTL_INSTANCE_PATH")
        or (config or {}).get("INSTANCE_PATH")
        or PROJECT_ROOT / "instance"
    ).resolve()
    app = Flask(
        __name__,
        instance_path=str(instance_path),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    if not instance_path.exists():  # owner-only: the database, keys and uploads live here
        instance_path.mkdir(mode=0o700, parents=True)
    app.config.from_mapping(build_settings(instance_path, config))

    from ztl.city.rules_config import init_rules
    from ztl.config import ConfigurationError
    from ztl.extensions import babel, csrf, db, login_manager, migrate
    from ztl.i18n import select_locale
    from ztl.payments.providers import check_payment_settings
    from ztl.web.sessions import load_signed_in_user

    problems = check_payment_settings(app.config)
    if problems:
        raise ConfigurationError("; ".join(problems))
    init_rules(app)
    from ztl.city.rules_config import current_rules
    from ztl.payments.providers import check_payment_rules

    problems = check_payment_rules(app.config, current_rules(app).payments)
    if problems:
        raise ConfigurationError("; ".join(problems))
    from ztl.database import (
        configure_busy_timeout,
        create_sqlite_file_owner_only,
        install_sqlite_behaviour,
    )

    install_sqlite_behaviour()
    create_sqlite_file_owner_only(app.config["SQLALCHEMY_DATABASE_URI"])
    configure_busy_timeout(float(app.config["ZTL_DB_BUSY_TIMEOUT"]))
    from ztl.infrastructure.session_hooks import install_session_hooks

    install_session_hooks()  # the enforcement change log, then the audit chain (ztl.infrastructure.session_hooks)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    login_manager.user_loader(load_signed_in_user)
    from ztl.identity.client import init_identity
    from ztl.identity.providers import ProviderSettingsError, load_providers

    try:
        providers = load_providers(
            app.config.get("ZTL_IDENTITY_PROVIDERS"),
            instance_path,
            production=app.config["ZTL_ENV"] == "production",
        )
    except ProviderSettingsError as exc:
        raise ConfigurationError(str(exc)) from exc
    init_identity(app, providers)

    from ztl.api import register_api
    from ztl.cli import register_commands
    from ztl.web import register_web
    from ztl.web.sessions import BrowserSessionInterface

    app.session_interface = BrowserSessionInterface()
    register_web(app)
    register_api(app)
    register_commands(app)
    from ztl.city import sync_on_start

    sync_on_start(app)
    if app.config.get("ZTL_REDIS_URL"):
        from ztl.cluster.notices import start_listening

        app.before_request(start_listening)  # each worker process listens from its first request
    proxies = int(app.config.get("ZTL_TRUSTED_PROXIES") or 0)
    if proxies > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    return app
