"""Public pages: the landing page (or the role's home once signed in), the language switch, and
what every municipal service publishes: a page per permit category, contacts and office hours,
help, the privacy notice and the accessibility statement.

Everything these pages say of the office comes from the rules file's `[office]` table (no copy in
configuration or templates), so a city running its own file shows its own office, and a city that
has not published it yet gets pages saying so rather than an error.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response

from ztl.accounts.staff import remember_language
from ztl.city import public_info
from ztl.city.rules_config import current_rules
from ztl.i18n import SESSION_KEY, current_language, supported_languages
from ztl.labels import CHECK_LABELS, DOCUMENT_KINDS, FUEL_LABELS, label
from ztl.permissions import HOME_ENDPOINT
from ztl.records.overview import categories_in_force, zones_with_hours
from ztl.web.redirects import safe_next

bp = Blueprint("public", __name__)


@bp.app_context_processor
def office_context() -> dict[str, Any]:
    """The office for the footer of every page (None until the rules file publishes it)."""
    return {"office": current_rules().office}


@bp.get("/")
def index() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for(HOME_ENDPOINT[current_user.role]))
    return render_template(
        "public/index.html", zones=zones_with_hours(), categories=categories_in_force()
    )


@bp.get("/permessi/<path:code>")
def category(code: str) -> str:
    """A category in force: who it is for, zones and hours, validity, full cost, documents, how
    and how fast it is decided."""
    if code not in {c.code for c in categories_in_force()}:
        abort(404)
    rules = current_rules()
    language = current_language()
    info = public_info.category_info(rules, rules.category(code), language)
    return render_template(
        "public/category.html",
        info=info,
        documents=[label(DOCUMENT_KINDS, d) for d in info.rules.documents],
        requirements=[(label(CHECK_LABELS, r.check_id), r.detail) for r in info.requirements],
        free_fuels=", ".join(label(FUEL_LABELS, f) for f in info.rules.free_fuels),
    )


@bp.get("/contatti")
def contacts() -> str:
    return render_template("public/contacts.html")


@bp.get("/aiuto")
def help_page() -> str:
    rules = current_rules()
    language = current_language()
    return render_template(
        "public/help.html",
        categories=categories_in_force(),
        decision_days=public_info.decision_days_text(rules, language),
        appeal=public_info.appeal_text(rules, language),
        max_document_bytes=current_app.config["ZTL_MAX_DOCUMENT_BYTES"],
    )


@bp.get("/informativa-privacy")
def privacy() -> str:
    rules = current_rules()
    return render_template(
        "public/privacy.html",
        privacy=rules.office.privacy if rules.office else None,
        retention=public_info.retention(rules, current_language()),
    )


@bp.get("/dichiarazione-accessibilita")
def accessibility() -> str:
    return render_template(
        "public/accessibility.html",
        feedback_email=public_info.accessibility_contact(current_rules()),
    )


@bp.post("/lingua")
def set_language() -> Response:
    language = request.form.get("lang", "")
    if language in supported_languages():
        session[SESSION_KEY] = language
        if current_user.is_authenticated:
            remember_language(current_user.id, language)
    return redirect(safe_next(request.form.get("next")) or url_for("public.index"))
