"""The officer's review of violations: the queue, one violation with its decision, its picture and
the day's export for the fines system (ztl.transits.review does the work).

Why the address never carries the plate: it would stay in the browser's history, in the access
logs and in Referer headers, beyond the retention of the ledger. The queue is filtered by gate and
day, a violation is opened by its number in the ledger, and the pages and files are no-store.

A decision is a POST with its CSRF token, answered with a redirect to the violation (post/redirect/
get) and a flash message. A decision on a violation decided meanwhile (by someone else, or by a
second click) changes nothing and is answered 409 on the violation's page, which shows what was
decided; an unknown violation is a 404; a day that is not a date or an unknown export format is a
400 on the queue's page, saying what was wrong.

The picture is the one the gate sent with the reading, stored in the upload folder readable by the
service's user only (ztl.infrastructure.uploads). It is sent only if its first bytes are a JPEG or
a PNG, with that type, nosniff, a sandboxing CSP and no-store, to the police guard's roles only.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import SelectField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length

from ztl.city.rules_config import current_rules
from ztl.errors import error_text
from ztl.infrastructure.unit_of_work import Actor, ServiceError
from ztl.infrastructure.uploads import sniff_content_type, upload_folder
from ztl.labels import DISMISSAL_LABELS, PERMIT_MISS_LABELS, TRANSIT_STATUS_LABELS
from ztl.models.enums import Dismissal
from ztl.transits import review
from ztl.values import InvalidValue
from ztl.values.times import MAX_YEAR, MIN_YEAR, parse_date
from ztl.web.police.views import bp

FORMATS = ("csv", "json")
IMAGE_TYPES = ("image/jpeg", "image/png")
REASON_MISSING = _l("Scegli il motivo dell'archiviazione.")
# A refusal's code -> the status of the page that says so.
REFUSAL_STATUS = {"not_found": 404, "transit_decided": 409}


class ConfirmForm(FlaskForm):
    """Only the CSRF token: confirming is the officer's own act on the page they read."""


class DismissForm(FlaskForm):
    dismissal = SelectField(
        _l("Motivo dell'archiviazione"),
        validators=[
            DataRequired(message=REASON_MISSING),
            AnyOf([d.value for d in Dismissal], message=REASON_MISSING),
        ],
        validate_choice=False,
    )
    note = TextAreaField(
        _l("Nota"),
        # Whether the reason needs a note is the service's rule (review.dismiss): its refusal is
        # shown under this field.
        validators=[Length(max=review.MAX_NOTE)],
        render_kw={"rows": 3, "maxlength": review.MAX_NOTE},
    )


def _dismiss_form() -> DismissForm:
    form = DismissForm()
    form.dismissal.choices = [
        ("", str(_l("Scegli un motivo"))),
        *((d.value, str(DISMISSAL_LABELS.get(d.value, d.value))) for d in Dismissal),
    ]
    return form


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _day(raw: str) -> dt.date | None:
    """A day typed as YYYY-MM-DD, in the years the service reasons about; None otherwise."""
    try:
        day = parse_date(raw)
    except InvalidValue:
        return None
    return day if MIN_YEAR <= day.year <= MAX_YEAR else None


def _bad_day(raw: str) -> str:
    return _(
        "Il giorno «%(raw)s» non è una data valida: scrivila come AAAA-MM-GG, per esempio "
        "2026-12-05.",
        raw=raw[:40],
    )


# --- the queue ----------------------------------------------------------------------------------


def _queue_page(problems: list[str], status: int = 200, filtered: bool = True) -> Response:
    """The queue; `filtered`: narrowed by the address's gate and day (not for a refused export,
    whose day is the export's)."""
    now = _now()
    gate_list = review.gates()
    gate = request.args.get("gate", "").strip() if filtered else ""
    if gate and gate not in dict(gate_list):
        problems.append(_("Il varco scelto non esiste: scegli uno dei varchi dell'elenco."))
        status, gate = 400, ""
    raw_day = request.args.get("day", "").strip() if filtered else ""
    day = _day(raw_day) if raw_day else None
    if raw_day and day is None:
        problems.append(_bad_day(raw_day))
        status = 400
    try:
        page = int(request.args.get("page", "1"))
    except ValueError:
        page = 1
    found = review.queue(now, gate or None, day, page)
    html = render_template(
        "police/violations.html",
        queue=found,
        summary=review.summary(now),
        gates=gate_list,
        gate=gate,
        day=day,
        today=review.local_day(now),
        problems=problems,
        near_days=review.NEAR_DAYS,
        timezone=current_rules().timezone,
    )
    return _no_store(make_response(html, status))


@bp.get("/violazioni/")
def violations() -> Response:
    """The violations waiting for an officer, nearest deadline first."""
    return _queue_page([])


# --- one violation ------------------------------------------------------------------------------


def _violation_page(
    transit_id: int,
    status: int = 200,
    dismiss_form: DismissForm | None = None,
    problem: str | None = None,
) -> Response:
    found = review.violation(transit_id, _now())
    if found is None:
        abort(404)
    html = render_template(
        "police/violation.html",
        v=found,
        confirm_form=ConfirmForm(),
        dismiss_form=dismiss_form or _dismiss_form(),
        problem=problem,
        status_labels=TRANSIT_STATUS_LABELS,
        dismissal_labels=DISMISSAL_LABELS,
        miss_labels=PERMIT_MISS_LABELS,
        near_days=review.NEAR_DAYS,
        timezone=current_rules().timezone,
    )
    return _no_store(make_response(html, status))


@bp.get("/violazioni/<int:transit_id>")
def violation(transit_id: int) -> Response:
    return _violation_page(transit_id)


def _refused(transit_id: int, exc: ServiceError) -> Response:
    status = REFUSAL_STATUS.get(exc.code, 422)
    if status == 404:
        abort(404)
    return _violation_page(transit_id, status, problem=error_text(exc))


@bp.post("/violazioni/<int:transit_id>/conferma")
def confirm_violation(transit_id: int) -> Response:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        review.confirm(transit_id, Actor.of_user(current_user), _now())
    except ServiceError as exc:
        return _refused(transit_id, exc)
    flash(_("Violazione confermata: sarà nell'esportazione di oggi per le sanzioni."), "success")
    return redirect(url_for("police.violation", transit_id=transit_id), 303)


@bp.post("/violazioni/<int:transit_id>/archiviazione")
def dismiss_violation(transit_id: int) -> Response:
    form = _dismiss_form()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _violation_page(transit_id, 422, dismiss_form=form)
    try:
        review.dismiss(
            transit_id,
            Actor.of_user(current_user),
            form.dismissal.data or "",
            form.note.data,
            _now(),
        )
    except ServiceError as exc:
        if exc.code == "dismissal_note":
            form.note.errors = [error_text(exc)]
            return _violation_page(transit_id, 422, dismiss_form=form)
        return _refused(transit_id, exc)
    flash(_("Violazione archiviata."), "success")
    return redirect(url_for("police.violation", transit_id=transit_id), 303)


@bp.get("/violazioni/<int:transit_id>/immagine")
def violation_picture(transit_id: int) -> Response:
    """The picture the gate sent with the reading, if it is a JPEG or a PNG; 404 otherwise."""
    found = review.picture(transit_id)
    if found is None:
        abort(404)
    path = Path(upload_folder()) / found.stored_name
    try:
        body = path.read_bytes()
    except OSError:
        abort(404)
    content_type = sniff_content_type(body[:16])
    if content_type not in IMAGE_TYPES:
        abort(404)
    response = Response(body, mimetype=content_type)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["Content-Disposition"] = "inline"
    return _no_store(response)


# --- the export ---------------------------------------------------------------------------------


@bp.get("/violazioni/esportazione")
def violations_export() -> Response:
    """The violations confirmed on a local day (?day=YYYY-MM-DD, today by default), as CSV or JSON
    (?format=csv|json), as an attachment."""
    problems: list[str] = []
    raw_day = request.args.get("day", "").strip()
    day = _day(raw_day) if raw_day else review.local_day(_now())
    if day is None:
        problems.append(_bad_day(raw_day))
    kind = request.args.get("format", "csv").strip().lower() or "csv"
    if kind not in FORMATS:
        problems.append(_("Il formato dell'esportazione può essere solo CSV o JSON."))
    if problems or day is None:
        return _queue_page(problems, 400, filtered=False)
    if kind == "json":
        response = make_response(review.export_json(day), 200)
        response.headers["Content-Type"] = "application/json; charset=utf-8"
    else:
        response = make_response(review.export_csv(day), 200)
        response.headers["Content-Type"] = "text/csv; charset=utf-8"
    name = f"violazioni-confermate-{day.isoformat()}.{kind}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return _no_store(response)
