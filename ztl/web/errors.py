"""Error pages (400, 401, 403, 404, 405, 413, 500, 503) in the user's language; JSON under /api/."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable
from werkzeug.wrappers import Response

log = logging.getLogger(__name__)

TEMPLATED = {400, 403, 404, 405, 413, 429, 500, 503}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.startswith("/.well-known/")


def _forget_unloadable_user() -> None:
    """Render the page as for a visitor when the user cannot be loaded (the database is down).

    Every page, error pages included, shows the signed-in user in its header; if loading them is
    what failed, asking again would fail inside the error handler and end in a bare 500.
    """
    from ztl.extensions import login_manager

    try:
        _ = current_user.is_authenticated
    except SQLAlchemyError:
        log.warning("user not loaded for the error page; shown as signed out")
        login_manager._update_request_context_with_user()


def render_error(error: HTTPException) -> tuple[str | Response, int]:
    code = error.code or 500
    if _wants_json():
        body = {
            "error": (error.name or "error").lower().replace(" ", "_"),
            "message": error.description,
        }
        return jsonify(body), code
    template = f"errors/{code}.html" if code in TEMPLATED else "errors/generic.html"
    if code >= 500:
        _forget_unloadable_user()
    return render_template(template, error=error, code=code), code


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str | Response, int]:
        return render_error(error)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str | Response, int] | HTTPException:
        if error.code is None or error.code < 400:
            return error
        return render_error(error)

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError) -> tuple[str | Response, int]:
        log.error("database error: %s", error)
        return render_error(ServiceUnavailable())

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[str | Response, int]:
        log.exception("unhandled error", exc_info=error)
        return render_error(InternalServerError())
