"""Error pages (400, 401, 403, 404, 405, 413, 500, 503) in the user's language; JSON under /api/."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import (
    Flask,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
)
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from werkzeug.exceptions import (
    Conflict,
    HTTPException,
    InternalServerError,
    RequestEntityTooLarge,
    ServiceUnavailable,
)
from werkzeug.wrappers import Response

from ztl.database import is_busy
from ztl.i18n import current_language
from ztl.values.display import size_text
from ztl.web.redirects import safe_next

log = logging.getLogger(__name__)

TEMPLATED = {400, 403, 404, 405, 409, 413, 429, 500, 503}
# Seconds a client is told to wait when the database stayed busy: a writer holds the lock for
# milliseconds, so a retry after a second normally goes through.
BUSY_RETRY_AFTER = 1


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


def _roll_back() -> None:
    """The failed transaction is abandoned before the page is rendered (it reads the database)."""
    from ztl.extensions import db

    try:
        db.session.rollback()
    except SQLAlchemyError:
        log.warning("rollback after a database error failed", exc_info=True)


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


def back_to_the_form() -> Response | None:
    """A file over the request limit, posted from a page of this site: back to that page, with
    the reason and the limit, so the person stays where they were (on an application, not on an
    error page that leaves it). None when there is no such page (an API call, no referrer, or one
    from another site), and the 413 page is shown."""
    if request.method != "POST" or _wants_json() or not request.referrer:
        return None
    parts = urlsplit(request.referrer)
    if parts.netloc != request.host:
        return None
    page = safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if page is None or not limit:
        return None
    flash(
        _(
            "Il file è troppo grande: la dimensione massima è %(size)s. Riducilo, per esempio "
            "scansionando il documento a una risoluzione più bassa, e riprova.",
            size=size_text(int(limit), current_language()),
        ),
        "danger",
    )
    return redirect(page, 303)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(RequestEntityTooLarge)
    def too_large(error: RequestEntityTooLarge) -> tuple[str | Response, int] | Response:
        return back_to_the_form() or render_error(error)

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
        _roll_back()
        if is_busy(error):
            log.warning("database busy beyond the timeout: %s", error)
            body, code = render_error(
                ServiceUnavailable(_("Il servizio è occupato: riprova tra un momento."))
            )
            response = make_response(body, code)
            response.headers["Retry-After"] = str(BUSY_RETRY_AFTER)
            return response, code
        log.error("database error: %s", error)
        return render_error(ServiceUnavailable())

    @app.errorhandler(IntegrityError)
    def lost_race(error: IntegrityError) -> tuple[str | Response, int]:
        """A change the database refused because a simultaneous one got there first (its
        constraints are the last guard): the loser is told, nothing of its change is stored."""
        _roll_back()
        log.warning("change refused by the database's constraints: %s", error.orig)
        return render_error(
            Conflict(
                _(
                    "Un'altra richiesta ha modificato questi dati nello stesso momento. "
                    "Ricarica la pagina per vedere il risultato."
                )
            )
        )

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[str | Response, int]:
        log.exception("unhandled error", exc_info=error)
        return render_error(InternalServerError())
