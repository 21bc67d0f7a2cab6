"""Sign-in with a password, sign-out, and (development only) resident registration.

Residents sign in through SPID/CIE (provider_views.py, which ends in `start_session` below); the
password form is for staff, and for residents only where ZTL_RESIDENT_PASSWORDS allows it.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from ztl.accounts import browser_sessions
from ztl.accounts.staff import (
    AccountError,
    SignInFailure,
    register_resident,
    resident_passwords_allowed,
    sign_in_with_password,
)
from ztl.city.rules_config import current_rules
from ztl.errors import error_text
from ztl.extensions import login_manager
from ztl.i18n import SESSION_KEY
from ztl.models import User
from ztl.permissions import HOME_ENDPOINT
from ztl.values.display import time_text
from ztl.web.auth import pending
from ztl.web.auth.forms import LoginForm, LogoutForm, RegistrationForm
from ztl.web.auth.throttle import too_many
from ztl.web.redirects import safe_next
from ztl.web.sessions import SESSION_TOKEN_KEY

bp = Blueprint("auth", __name__)

# Shown on the sign-in page when a guarded page sent an anonymous visitor there.
SIGN_IN_REQUIRED = _l("Accedi per aprire la pagina richiesta.")


def configure_sign_in_prompt() -> None:
    """Flask-Login's "please log in" message, in the visitor's language.

    Its default is an English sentence flashed as is; a lazy string turned into text at flash time
    (localize_callback=str) is translated for the request that triggers it.
    """
    login_manager.login_message = SIGN_IN_REQUIRED
    login_manager.localize_callback = str


def start_session(user: User) -> None:
    """Start a fresh session for the user (the old one is discarded: no session fixation)."""
    language = session.get(SESSION_KEY)
    session.clear()
    if language:
        session[SESSION_KEY] = language
    session[SESSION_TOKEN_KEY] = browser_sessions.open_session(
        int(user.id), request.user_agent.string or ""
    )
    login_user(user)


def home_for(user: User) -> str:
    return url_for(HOME_ENDPOINT[user.role])


@bp.route("/accedi", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    limited = too_many("login", "ZTL_LOGIN_RATE_PER_MINUTE", 20)
    if limited is not None:
        return limited
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        result = sign_in_with_password(form.email.data or "", form.password.data or "")
        if result.ok and result.user is not None and result.second_step is not None:
            # A staff member with a second factor is signed in after its code (or after setting
            # up the app, when one is required and they have none): not yet.
            next_url = safe_next(form.next.data) or ""
            pending.begin(int(result.user.id), result.second_step, next_url)
            return redirect(url_for(pending.STEP_ENDPOINTS[result.second_step]))
        if result.ok and result.user is not None:
            start_session(result.user)
            return redirect(safe_next(form.next.data) or home_for(result.user))
        if result.failure is SignInFailure.LOCKED and result.locked_until is not None:
            time = time_text(result.locked_until, current_rules().timezone)
            flash(error_text("locked_until", time=time), "danger")
        elif result.failure is SignInFailure.PROVIDER_ONLY:
            flash(error_text(SignInFailure.PROVIDER_ONLY), "warning")
        else:
            flash(error_text(result.failure or SignInFailure.INVALID), "danger")
        return render_template("auth/login.html", form=form), 401
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/esci")
def logout() -> Response:
    form = LogoutForm()
    if form.validate_on_submit():
        browser_sessions.end_session(session.get(SESSION_TOKEN_KEY))
        logout_user()
        language = session.get(SESSION_KEY)
        session.clear()
        if language:
            session[SESSION_KEY] = language
        flash(_("Sei uscito dal servizio."), "info")
    return redirect(url_for("public.index"))


@bp.route("/registrazione", methods=["GET", "POST"])
def register() -> str | Response | tuple[str, int]:
    if not resident_passwords_allowed():
        abort(404)  # residents come through SPID/CIE: there is nothing to register here
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    limited = too_many("registration", "ZTL_REGISTRATION_RATE_PER_MINUTE", 5)
    if limited is not None:
        return limited
    form = RegistrationForm()
    if form.validate_on_submit():
        try:
            user = register_resident(
                email=form.email.data or "",
                full_name=form.full_name.data or "",
                codice_fiscale=form.codice_fiscale.data or "",
                password=form.password.data or "",
                language=str(session.get(SESSION_KEY, "it")),
            )
        except AccountError as exc:
            flash(error_text(exc), "danger")
            return render_template("auth/register.html", form=form), 422
        start_session(user)
        flash(_("Registrazione completata: hai effettuato l'accesso."), "success")
        return redirect(home_for(user))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/register.html", form=form), status
