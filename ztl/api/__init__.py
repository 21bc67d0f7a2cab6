"""The JSON API under /api/v1: bearer tokens for machines, JSON errors, no CSRF (no cookies used)."""

from __future__ import annotations

from flask import Flask


def register_api(app: Flask) -> None:
    from ztl.api.eligibility import bp as eligibility_bp
    from ztl.api.enforcement import bp as enforcement_bp
    from ztl.api.openapi import bp as openapi_bp
    from ztl.api.payments import bp as payments_bp
    from ztl.api.seals import bp as seals_bp
    from ztl.api.v1 import bp
    from ztl.extensions import csrf

    # Token clients send no cookies, so no CSRF; session endpoints check it themselves (JSON errors).
    csrf.exempt(bp)
    csrf.exempt(eligibility_bp)
    csrf.exempt(seals_bp)
    csrf.exempt(enforcement_bp)
    csrf.exempt(payments_bp)  # signed by the payment system (HMAC), no cookies
    csrf.exempt(openapi_bp)  # public, read-only: the OpenAPI document needs no token
    app.register_blueprint(seals_bp)
    app.register_blueprint(enforcement_bp)
    app.register_blueprint(eligibility_bp)
    app.register_blueprint(bp)
    app.register_blueprint(openapi_bp)
    app.register_blueprint(payments_bp)
