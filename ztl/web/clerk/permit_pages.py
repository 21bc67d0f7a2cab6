"""A permit as a clerk sees it (holder, plates, zones, windows, validity, flags, history), its
signed PDF, and its revocation.

A revocation needs a reason and ends the seal at once (ztl/permits/changes.py); a permit that
is no longer active shows no revocation form, and a stale form is refused with a message.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from ztl.applications.clerk_queue import permit_by_number, permit_history
from ztl.infrastructure.unit_of_work import ServiceError
from ztl.models import Permit
from ztl.models.city import EVERY_DAY
from ztl.models.enums import PermitStatus
from ztl.permits.changes import revoke_permit
from ztl.web.clerk.blueprint import acting_clerk, bp, flash_form_errors, flash_refusal
from ztl.web.clerk.forms import RevokeForm
from ztl.web.clerk.texts import WEEKDAYS, labels
from ztl.web.downloads import permit_pdf_download


def _permit_or_404(number: str) -> Permit:
    try:
        return permit_by_number(number)
    except ServiceError:
        abort(404)


def window_text(start_minute: int, end_minute: int, weekdays: int) -> str:
    """ "08:00–20:00", followed by the days when the window is not every day."""
    hours = f"{start_minute // 60:02d}:{start_minute % 60:02d}–{end_minute // 60:02d}:{end_minute % 60:02d}"
    if weekdays == EVERY_DAY:
        return hours
    days = ", ".join(str(name) for bit, name in enumerate(WEEKDAYS) if weekdays & (1 << bit))
    return f"{hours} ({days})"


def _back(number: str) -> Response:
    return redirect(url_for("clerk.permit", number=number), 303)


@bp.get("/permessi/<number>")
def permit(number: str) -> str:
    found = _permit_or_404(number)
    return render_template(
        "clerk/permit.html",
        permit=found,
        windows=[window_text(w.start_minute, w.end_minute, w.weekdays) for w in found.windows],
        events=permit_history(found),
        revocable=found.status == PermitStatus.ACTIVE.value,
        revoke_form=RevokeForm(),
        **labels(),
    )


@bp.get("/permessi/<number>/pdf")
def permit_pdf(number: str) -> Response:
    return permit_pdf_download(_permit_or_404(number))


@bp.post("/permessi/<number>/revoca")
def revoke(number: str) -> Response:
    found = _permit_or_404(number)
    form = RevokeForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _back(found.number)
    try:
        revoke_permit(found.number, acting_clerk(), form.reason.data or "")
    except ServiceError as exc:
        flash_refusal(exc)
        return _back(found.number)
    flash(
        _("Permesso %(n)s revocato: il sigillo è nella lista di revoca.", n=found.number), "success"
    )
    return _back(found.number)
