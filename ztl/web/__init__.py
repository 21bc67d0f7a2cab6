"""Web blueprints, one per role, plus the public and sign-in pages; error pages and headers."""

from __future__ import annotations

from flask import Flask


def register_web(app: Flask) -> None:
    from ztl.web.admin.views import bp as admin_bp
    from ztl.web.auth import (  # noqa: F401 (their routes join the auth blueprint)
        provider_views,
        second_factor_views,
        session_pages,
    )
    from ztl.web.auth.views import bp as auth_bp
    from ztl.web.auth.views import configure_sign_in_prompt
    from ztl.web.clerk.views import bp as clerk_bp
    from ztl.web.context import register_context
    from ztl.web.errors import register_error_handlers
    from ztl.web.idempotency import register_idempotency
    from ztl.web.police.views import bp as police_bp
    from ztl.web.public.views import bp as public_bp
    from ztl.web.resident.views import bp as resident_bp
    from ztl.web.security import register_security_headers
    from ztl.web.situation.views import bp as situation_bp
    from ztl.web.supervisor.views import bp as supervisor_bp

    for blueprint in (
        public_bp,
        auth_bp,
        resident_bp,
        clerk_bp,
        supervisor_bp,
        police_bp,
        situation_bp,
        admin_bp,
    ):
        app.register_blueprint(blueprint)
    configure_sign_in_prompt()
    register_error_handlers(app)
    register_idempotency(app)
    register_context(app)
    from ztl.city.wording import calendar_lines

    app.add_template_filter(calendar_lines, "calendar_lines")
    register_security_headers(app)
    from ztl.web.static_files import install_static

    install_static(app)  # static/ through WhiteNoise: hashed names, compressed, cached for a year
