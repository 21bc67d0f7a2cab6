"""The holder's permit pages: see it, download the signed PDF, change plate, renew, give it up.

A plate change and giving up act at once (ztl/permits/changes.py: the old seal is revoked in the
same transaction), and that use case decides, inside its transaction, whether the person owns the
permit now; a renewal opens an application prefilled from the permit, which is checked and
paid like the first one. Giving up cannot be undone and refunds nothing: it is confirmed first
(a dialog, or without script the confirmation page), and a post without the confirmation is sent
to that page (ztl/web/confirmation.py). An ended permit reads as ended (ztl.permits.queries).
"""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from ztl.applications import applicant as applications
from ztl.applications.dashboard import can_renew, own_permit
from ztl.eligibility.refusals import ChecksRefused
from ztl.errors import error_text
from ztl.i18n import current_language
from ztl.infrastructure.unit_of_work import Actor, ServiceError
from ztl.permits.changes import change_plate, surrender_permit
from ztl.permits.queries import holder_view, surrender_keeps_fee
from ztl.web.confirmation import confirmed
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


def _permit_page(found, plate_form: PlateChangeForm) -> str:  # type: ignore[no-untyped-def]
    return render_template(
        "resident/permit.html",
        permit=found,
        view=holder_view(found),
        kept_cents=surrender_keeps_fee(found),
        plate_form=plate_form,
        action=ActionForm(),
        renewable=can_renew(found, dt.datetime.now(dt.UTC)),
    )


@bp.get("/permessi/<number>")
def permit(number: str) -> str:
    found = _permit_or_404(number)
    return _permit_page(found, _plate_form(found))


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
    """A refused change answers 422 with the page itself, not a redirect (see below)."""
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
        if exc.code == "not_found":
            abort(404)
        # The page again, with the plate as typed and why it was refused (the checks' own
        # sentences when they refused it), so the person can correct it rather than start over.
        reason = error_text(exc)
        if isinstance(exc, ChecksRefused):
            reason = f"{reason} {exc.reasons_in(current_language())}"
        form.new_plate.errors = [*form.new_plate.errors, reason]
        return make_response(_permit_page(found, form), 422)
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


@bp.get("/permessi/<number>/rinuncia")
def confirm_surrender(number: str) -> str:
    """The confirmation of giving up, as a page: what the dialog says, for a browser without it."""
    found = _permit_or_404(number)
    ended = not holder_view(found).usable
    return render_template(
        "confirm.html",
        kind="surrender",
        refusal=_("Questo permesso non vale più: non c'è nulla a cui rinunciare.")
        if ended
        else None,
        permit=found,
        kept_cents=surrender_keeps_fee(found),
        action=ActionForm(),
        cancel_url=url_for("resident.permit", number=number),
    )


@bp.post("/permessi/<number>/rinuncia")
def surrender(number: str) -> Response:
    if not ActionForm().validate_on_submit():
        abort(400)
    if not confirmed():
        _permit_or_404(number)  # another person's permit is not found, confirmed or not
        flash(
            _("Per rinunciare al permesso conferma qui sotto: la rinuncia non si annulla."),
            "warning",
        )
        return redirect(url_for("resident.confirm_surrender", number=number), 303)
    try:
        surrender_permit(number, Actor.of_user(current_user), owner=current_user)
    except ServiceError as exc:
        return _refused(exc, number)
    flash(_("Hai rinunciato al permesso: da ora non vale più."), "success")
    return _back(number)
