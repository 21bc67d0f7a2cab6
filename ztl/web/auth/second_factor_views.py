"""The second factor's pages: the sign-in's code step and enrolment, and a staff member's own page.

Sign-in (not signed in yet; ztl.web.auth.pending holds the step due for five minutes):
- /accedi/codice: the 6-digit code of the app, or a recovery code; then the session starts.
- /accedi/attivazione: a staff member who must have a second factor and has none sets it up (QR
  code of the otpauth:// URI, and the secret written out), confirms it with a first code, and is
  signed in on the page that shows the recovery codes, once.
Both are limited per client address like the password form, and like it they are not claimed as
idempotent submissions (ztl.web.idempotency.NOT_CLAIMED): a repeat is refused by the code's replay
protection instead.

Signed in (linked from /sessioni): the state of one's second factor, enrolment where there is
none, and new recovery codes for a current code. The decisions are ztl.accounts.second_factor's.
"""

from __future__ import annotations

import segno
from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from ztl.accounts import second_factor
from ztl.accounts.second_factor import CodeOutcome, SecondFactorError, SecondStep
from ztl.city.rules_config import current_rules
from ztl.errors import error_text
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import Actor
from ztl.models import User
from ztl.values.display import time_text
from ztl.web.auth import pending
from ztl.web.auth.forms import RecoveryCodesForm, SecondFactorCodeForm, SecondFactorEnrolForm
from ztl.web.auth.throttle import too_many
from ztl.web.auth.views import bp, home_for, start_session
from ztl.web.redirects import safe_next

FEW_RECOVERY_CODES = 3


def qr_image(text: str) -> str:
    """A QR code as an SVG data URI, drawn here (no request to anyone else), for an <img>."""
    return str(segno.make(text, error="m").svg_data_uri(scale=5, border=4))


def grouped(secret: str) -> str:
    """The secret in groups of four, easier to copy by hand into an app."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _enrolment(user: User) -> dict[str, str]:
    """What the enrolment page shows: the same secret on every reload until it is confirmed (kept
    encrypted in the session), its QR code and the secret written out."""
    secret = second_factor.enrolment_secret(pending.enrolment_token(int(user.id)), int(user.id))
    if secret is None:
        secret, token = second_factor.new_enrolment(int(user.id))
        pending.keep_enrolment_token(int(user.id), token)
    uri = second_factor.provisioning_uri(secret, str(user.email))
    return {"secret": grouped(secret), "qr": qr_image(uri)}


def _confirmed_secret(user_id: int) -> str | None:
    return second_factor.enrolment_secret(pending.enrolment_token(user_id), user_id)


def _codes_page(codes: list[str], next_url: str) -> Response:
    """The recovery codes, shown in this answer and nowhere else (never stored in clear)."""
    response = make_response(
        render_template("auth/recovery_codes.html", codes=codes, next_url=next_url)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _locked_message(user_id: int) -> str:
    user = db.session.get(User, user_id)
    if user is not None and user.locked_until is not None:
        return error_text(
            "locked_until", time=time_text(user.locked_until, current_rules().timezone)
        )
    return error_text(CodeOutcome.LOCKED)


def _due(step: SecondStep) -> pending.Pending | Response:
    """The step this page is for, or where to go instead (sign-in again, or the other step)."""
    due, expired = pending.current()
    if due is None:
        if expired:
            flash(
                _(
                    "Sono passati più di %(minutes)s minuti: accedi di nuovo.",
                    minutes=pending.PENDING_MINUTES,
                ),
                "warning",
            )
        return redirect(url_for("auth.login"))
    if due.step is not step:
        return redirect(url_for(pending.STEP_ENDPOINTS[due.step]))
    return due


def _restart(message: str, category: str = "danger") -> Response:
    pending.forget()
    flash(message, category)
    return redirect(url_for("auth.login"))


# --- sign-in ---------------------------------------------------------------------------------


@bp.route("/accedi/codice", methods=["GET", "POST"])
def second_factor_code() -> str | Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    limited = too_many("second_factor", "ZTL_LOGIN_RATE_PER_MINUTE", 20)
    if limited is not None:
        return limited
    due = _due(SecondStep.VERIFY)
    if isinstance(due, Response):
        return due
    form = SecondFactorCodeForm()
    if form.validate_on_submit():
        result = second_factor.verify(due.user_id, form.code.data or "")
        if result.ok and result.user is not None:
            start_session(result.user)
            if result.outcome is CodeOutcome.RECOVERY:
                _recovery_code_spent(result.recovery_codes_left or 0)
            return redirect(safe_next(due.next_url) or home_for(result.user))
        if result.outcome is CodeOutcome.LOCKED:
            return _restart(_locked_message(due.user_id))
        if result.outcome is CodeOutcome.INACTIVE:
            return _restart(error_text(CodeOutcome.INACTIVE))
        if result.outcome is CodeOutcome.NOT_ENROLLED:
            return _restart(_("Il secondo fattore è stato azzerato: accedi di nuovo."), "warning")
        flash(error_text(result.outcome), "danger")
        form.code.data = ""
        return render_template("auth/second_factor.html", form=form), 401
    status = 400 if request.method == "POST" else 200
    return render_template("auth/second_factor.html", form=form), status


def _recovery_code_spent(left: int) -> None:
    message = ngettext(
        "Hai usato un codice di recupero: ne resta %(num)s.",
        "Hai usato un codice di recupero: ne restano %(num)s.",
        left,
    )
    if left <= FEW_RECOVERY_CODES:
        message += " " + _("Genera nuovi codici dalla pagina del secondo fattore.")
    flash(message, "warning")


@bp.route("/accedi/attivazione", methods=["GET", "POST"])
def second_factor_enrol() -> str | Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    limited = too_many("second_factor", "ZTL_LOGIN_RATE_PER_MINUTE", 20)
    if limited is not None:
        return limited
    due = _due(SecondStep.ENROL)
    if isinstance(due, Response):
        return due
    user = db.session.get(User, due.user_id)
    if user is None or not user.is_active:
        return _restart(error_text(CodeOutcome.INACTIVE))
    form = SecondFactorEnrolForm()
    if form.validate_on_submit():
        secret = _confirmed_secret(int(user.id))
        if secret is None:  # the session lost it (another tab started again): a new QR code
            form.code.errors = [error_text("wrong_code")]
            return _enrol_page(form, user, 422)
        actor = Actor.of_user(user)
        try:
            codes = second_factor.enrol(
                int(user.id), secret, form.code.data or "", actor, signing_in=True
            )
        except SecondFactorError as exc:
            if exc.code == "wrong_code":
                form.code.errors = [error_text("wrong_code")]
                return _enrol_page(form, user, 422)
            if exc.code == "already_enrolled":  # set up meanwhile (a twin of this request)
                pending.forget_enrolment()
                pending.move_to(SecondStep.VERIFY)
                flash(_("Il secondo fattore è già attivo: scrivi il codice dell'app."), "info")
                return redirect(url_for("auth.second_factor_code"))
            return _restart(_("Accesso non riuscito: accedi di nuovo."))
        next_url = safe_next(due.next_url) or home_for(user)
        start_session(user)
        return _codes_page(codes, next_url)
    return _enrol_page(form, user, 400 if request.method == "POST" else 200)


def _enrol_page(form: SecondFactorEnrolForm, user: User, status: int) -> Response:
    html = render_template(
        "auth/second_factor_enrol.html",
        form=form,
        enrolment=_enrolment(user),
        action=url_for("auth.second_factor_enrol"),
    )
    response = make_response(html, status)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- signed in ---------------------------------------------------------------------------------


def _staff() -> User:
    user = current_user._get_current_object()  # the User row behind the proxy
    if not isinstance(user, User) or not second_factor.is_staff(user):
        abort(403)  # residents sign in with SPID/CIE: no second factor of ours
    return user


def _settings_page(
    user: User,
    enrol_form: SecondFactorEnrolForm | None = None,
    renew_form: RecoveryCodesForm | None = None,
    status: int = 200,
) -> Response:
    state = second_factor.status(int(user.id))
    html = render_template(
        "auth/second_factor_settings.html",
        state=state,
        required=second_factor.required(),
        enrolment=None if state.enrolled else _enrolment(user),
        enrol_form=enrol_form or SecondFactorEnrolForm(formdata=None),
        renew_form=renew_form or RecoveryCodesForm(formdata=None),
        few=FEW_RECOVERY_CODES,
    )
    response = make_response(html, status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/sessioni/secondo-fattore")
@login_required
def second_factor_settings() -> Response:
    return _settings_page(_staff())


@bp.route("/sessioni/secondo-fattore/attivazione", methods=["GET", "POST"])
@login_required
def enrol_second_factor() -> Response:
    user = _staff()
    if request.method == "GET":  # where a repeat of the form is sent: the page itself
        return redirect(url_for("auth.second_factor_settings"))
    form = SecondFactorEnrolForm()
    if not form.validate_on_submit():
        return _settings_page(user, enrol_form=form, status=400)
    secret = _confirmed_secret(int(user.id))
    if secret is None:
        form.code.errors = [error_text("wrong_code")]
        return _settings_page(user, enrol_form=form, status=422)
    try:
        codes = second_factor.enrol(int(user.id), secret, form.code.data or "", Actor.of_user(user))
    except SecondFactorError as exc:
        if exc.code == "wrong_code":
            form.code.errors = [error_text("wrong_code")]
            return _settings_page(user, enrol_form=form, status=422)
        if exc.code != "already_enrolled":
            raise
        flash(error_text(exc), "info")
        return redirect(url_for("auth.second_factor_settings"), 303)
    pending.forget_enrolment()
    flash(_("Secondo fattore attivato: d'ora in poi l'accesso chiede anche il codice."), "success")
    return _codes_page(codes, url_for("auth.second_factor_settings"))


@bp.route("/sessioni/secondo-fattore/codici-di-recupero", methods=["GET", "POST"])
@login_required
def renew_recovery_codes() -> Response:
    user = _staff()
    if request.method == "GET":
        return redirect(url_for("auth.second_factor_settings"))
    form = RecoveryCodesForm()
    if not form.validate_on_submit():
        return _settings_page(user, renew_form=form, status=400)
    try:
        codes = second_factor.renew_recovery_codes(
            int(user.id), form.code.data or "", Actor.of_user(user)
        )
    except SecondFactorError as exc:
        locked = exc.code == CodeOutcome.LOCKED
        form.code.errors = [_locked_message(int(user.id)) if locked else error_text(exc)]
        return _settings_page(user, renew_form=form, status=422)
    flash(_("Nuovi codici di recupero: quelli di prima non valgono più."), "success")
    return _codes_page(codes, url_for("auth.second_factor_settings"))
