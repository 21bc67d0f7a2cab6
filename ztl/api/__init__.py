"""The JSON API under /api/v1: bearer tokens for machines, JSON errors, no CSRF (no cookies used)."""

from __future__ import annotations

from flask import Flask


def register_api(app: Flask) -> None:
    from ztl.api.v1 import bp
    from ztl.extensions import csrf

    csrf.exempt(bp)
    app.register_blueprint(bp)
