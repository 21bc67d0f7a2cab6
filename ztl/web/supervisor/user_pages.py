"""Supervisors' user pages: the list with its filters, a new staff account, (de)activation, and
the reset of someone's second factor (a lost phone).

A deactivation shuts the person out at once (every open session ends): it is confirmed first, in a
dialog or without script on its own page, and a post without the confirmation goes to that page
(ztl/web/confirmation.py). Reactivation needs no confirmation: it only gives access back."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from ztl.accounts import second_factor
from ztl.accounts.passwords import password_problem
from ztl.accounts.staff import AccountError, create_user
from ztl.accounts.user_admin import UserAdminError, list_users, set_active, user_by_id
from ztl.errors import error_text
from ztl.web.confirmation import confirmed
from ztl.web.supervisor.blueprint import acting_user, bp
from ztl.web.supervisor.forms import ActionForm, CreateUserForm, UserFilterForm


@bp.get("/utenti")
def users() -> str:
    filters = UserFilterForm(request.args)
    filters.validate()
    role = filters.role.data if not filters.role.errors else None
    search = filters.q.data if not filters.q.errors else None
    page = list_users(role=role or None, search=search or None)
    return render_template(
        "supervisor/users.html",
        filters=filters,
        page=page,
        action=ActionForm(),
        second_factor_on=second_factor.enrolled_among(u.id for u in page.users),
    )


@bp.route("/utenti/nuovo", methods=["GET", "POST"])
def new_user() -> str | Response | tuple[str, int]:
    form = CreateUserForm()
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("supervisor/user_new.html", form=form), status
    problem = password_problem(
        form.password.data or "",
        staff=True,  # this form creates staff accounts only
        personal=(form.email.data or "", form.full_name.data or ""),
    )
    if problem:
        form.password.errors = [error_text(f"password_{problem}")]
        return render_template("supervisor/user_new.html", form=form), 422
    try:
        user = create_user(
            form.role.data or "",
            form.email.data or "",
            form.password.data or "",
            form.full_name.data or "",
            actor=acting_user(),
        )
    except AccountError as exc:
        form.email.errors = [error_text(exc)]
        return render_template("supervisor/user_new.html", form=form), 422
    flash(_("Account creato per %(email)s.", email=user.email), "success")
    return redirect(url_for("supervisor.users"))


def _change_status(user_id: int, active: bool) -> Response:
    if not ActionForm().validate_on_submit():
        abort(400)
    if not active and not confirmed():
        if user_by_id(user_id) is None:
            abort(404)
        flash(_("Per disattivare l'account conferma qui sotto."), "warning")
        return redirect(url_for("supervisor.confirm_deactivation", user_id=user_id), 303)
    try:
        user = set_active(user_id, active, acting_user())
    except UserAdminError as exc:
        if exc.code == "not_found":
            abort(404)
        flash(error_text(exc), "danger")
        return redirect(url_for("supervisor.users"), 303)
    if active:
        flash(_("L'account di %(email)s è di nuovo attivo.", email=user.email), "success")
    else:
        flash(
            _("L'account di %(email)s è disattivato: non può più accedere.", email=user.email),
            "success",
        )
    return redirect(url_for("supervisor.users"), 303)


@bp.get("/utenti/<int:user_id>/disattiva")
def confirm_deactivation(user_id: int) -> str:
    """The confirmation of a deactivation, as a page, for a browser without the dialog's script."""
    user = user_by_id(user_id)
    if user is None:
        abort(404)
    return render_template(
        "confirm.html",
        kind="deactivate",
        target=user,
        action=ActionForm(),
        cancel_url=url_for("supervisor.users"),
    )


@bp.post("/utenti/<int:user_id>/disattiva")
def deactivate_user(user_id: int) -> Response:
    return _change_status(user_id, active=False)


@bp.post("/utenti/<int:user_id>/riattiva")
def reactivate_user(user_id: int) -> Response:
    return _change_status(user_id, active=True)


@bp.post("/utenti/<int:user_id>/secondo-fattore/azzera")
def reset_second_factor(user_id: int) -> Response:
    """The person lost their phone (or their codes): their authenticator and recovery codes are
    deleted and their open sessions end; they set up a new one at their next sign-in."""
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        user, ended = second_factor.reset(user_id, acting_user())
    except second_factor.SecondFactorError as exc:
        if exc.code == "not_found":
            abort(404)
        flash(error_text(exc), "danger")
        return redirect(url_for("supervisor.users"), 303)
    flash(
        _(
            "Secondo fattore azzerato per %(email)s. Sessioni terminate: %(count)s.",
            email=user.email,
            count=ended,
        ),
        "success",
    )
    return redirect(url_for("supervisor.users"), 303)
