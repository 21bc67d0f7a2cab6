"""The holder's permit pages: see it, download the signed PDF, change plate, renew, give it up.

A plate change and giving up act at once (ztl/permits/changes.py: the old seal is revoked in the
same transaction), and that use case decides, inside its transaction, whether the person owns the
permit now; a renewal opens an application prefilled from the permit, which is checked and
paid like the first one.
"""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from ztl.applications import applicant as applications
from ztl.applications.dashboard import can_renew, own_permit
from ztl.errors import error_text
from ztl.infrastructure.unit_of_work import Actor, ServiceError
from ztl.permits.changes import change_plate, surrender_permit
from ztl.web.downloads import permit_pdf_download
from ztl.web.resident.forms import ActionForm, PlateChangeForm
from ztl.web.resident.views import bp


def _permit_or_404(number: str):  # type: ignore[no-untyped-def]
    try:
        return own_permit(number, current_user)
    except ServiceError:
        abort(404)


def _plate_form(permit) -> PlateChangeForm:  # type: ignore[no-untyped-def]
    form = PlateChangeForm()
    form.old_plate.choices = [(p.plate, p.plate) for p in permit.plates]
    return form


@bp.get("/permessi/<number>")
def permit(number: str) -> str:
    found = _permit_or_404(number)
    return render_template(
        "resident/permit.html",
        permit=found,
        plate_form=_plate_form(found),
        action=ActionForm(),
        renewable=can_renew(found, dt.datetime.now(dt.UTC)),
    )


@bp.get("/permessi/<number>/pdf")
def permit_pdf(number: str) -> Response:
    return permit_pdf_download(_permit_or_404(number))


def _back(number: str) -> Response:
    return redirect(url_for("resident.permit", number=number), 303)


def _refused(exc: ServiceError, number: str) -> Response:
    """A permit the person does not own (any more) is not found; any other refusal is explained
    on the permit's page."""
    if exc.code == "not_found":
        abort(404)
    flash(error_text(exc), "danger")
    return _back(number)


@bp.post("/permessi/<number>/targa")
def change_permit_plate(number: str) -> Response:
    found = _permit_or_404(number)
    form = _plate_form(found)
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        flash(_("Scegli la targa da sostituire e scrivi la nuova."), "danger")
        return _back(number)
    try:
        result = change_plate(
            number,
            form.old_plate.data or "",
            form.new_plate.data or "",
            Actor.of_user(current_user),
            owner=current_user,
        )
    except ServiceError as exc:
        return _refused(exc, number)
    flash(
        _(
            "Targa cambiata: il nuovo permesso è %(n)s; il precedente non vale più.",
            n=result.number,
        ),
        "success",
    )
    return _back(result.number)


@bp.post("/permessi/<number>/rinnova")
def renew(number: str) -> Response:
    _permit_or_404(number)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        application_id = applications.start_renewal(number, current_user)
    except ServiceError as exc:
        flash(error_text(exc), "danger")
        return _back(number)
    flash(_("Domanda di rinnovo preparata: controllala e inviala."), "success")
    return redirect(url_for("resident.application", application_id=application_id), 303)


@bp.post("/permessi/<number>/rinuncia")
def surrender(number: str) -> Response:
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        surrender_permit(number, Actor.of_user(current_user), owner=current_user)
    except ServiceError as exc:
        return _refused(exc, number)
    flash(_("Hai rinunciato al permesso: da ora non vale più."), "success")
    return _back(number)
