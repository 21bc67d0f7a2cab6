"""Public pages: the landing page (or the role's home once signed in) and the language switch."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ztl.accounts.staff import remember_language
from ztl.i18n import SESSION_KEY, supported_languages
from ztl.permissions import HOME_ENDPOINT
from ztl.records.overview import categories_in_force, zones_with_hours
from ztl.web.redirects import safe_next

bp = Blueprint("public", __name__)


@bp.get("/")
def index() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for(HOME_ENDPOINT[current_user.role]))
    return render_template(
        "public/index.html", zones=zones_with_hours(), categories=categories_in_force()
    )


@bp.post("/lingua")
def set_language() -> Response:
    language = request.form.get("lang", "")
    if language in supported_languages():
        session[SESSION_KEY] = language
        if current_user.is_authenticated:
            remember_language(current_user.id, language)
    return redirect(safe_next(request.form.get("next")) or url_for("public.index"))
