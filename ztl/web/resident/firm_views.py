"""The "Imprese" page: the firms a person acts for, their delegations, and asking for one.

A person acts for a firm as its legal representative (the business register says so) or as a
delegate a clerk approved; the rules live in ztl/accounts/representation.py. Here the page lists
both, lets a person ask for a delegation (the firm's partita IVA, the signed delegation form and
their identity document) and revoke one: their own, or one given to a firm they represent.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from ztl.accounts import representation
from ztl.errors import error_text
from ztl.infrastructure.unit_of_work import ServiceError
from ztl.infrastructure.uploads import max_document_bytes
from ztl.labels import CAPACITY_LABELS, DELEGATION_STATUS_LABELS
from ztl.web.resident.forms import ActionForm, DelegationRequestForm
from ztl.web.resident.views import bp


def _page(form: DelegationRequestForm | None = None, status: int = 200) -> tuple[str, int]:
    return render_template(
        "resident/firms.html",
        firms=representation.firms_of(current_user),
        delegations=representation.delegations_of(current_user),
        to_my_firms=representation.delegations_to_firms_of(current_user),
        request_form=form or DelegationRequestForm(),
        action=ActionForm(),
        max_bytes=max_document_bytes(),
        status_labels=DELEGATION_STATUS_LABELS,
        capacities=CAPACITY_LABELS,
    ), status


def _back() -> Response:
    return redirect(url_for("resident.firms"), 303)


@bp.get("/imprese")
def firms() -> tuple[str, int]:
    return _page()


@bp.post("/imprese/deleghe")
def request_delegation() -> Response | tuple[str, int]:
    form = DelegationRequestForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        return _page(form, 400)
    limit = max_document_bytes() + 1
    uploads = [
        representation.Upload(f.data.filename or "", f.data.read(limit))
        for f in (form.delegation_form, form.identity_document)
    ]
    try:
        representation.request_delegation(
            current_user, form.partita_iva.data or "", uploads[0], uploads[1]
        )
    except ServiceError as exc:
        flash(error_text(exc), "danger")
        return _page(form, 400)
    flash(_("Richiesta di delega inviata: l'ufficio permessi la esamina."), "success")
    return _back()


@bp.post("/imprese/deleghe/<int:delegation_id>/revoca")
def revoke_delegation(delegation_id: int) -> Response:
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        representation.revoke_delegation(delegation_id, current_user)
    except ServiceError as exc:
        if exc.code == "not_found":
            abort(404)
        flash(error_text(exc), "danger")
        return _back()
    flash(_("Delega revocata."), "success")
    return _back()
