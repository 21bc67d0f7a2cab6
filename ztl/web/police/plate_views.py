"""The police page that answers at once whether a plate may be in a zone now, why, and until when.

The answer is `ztl.enforcement.authorizations.authorize`'s, the same the API gives: this module only
reads the form, calls it and shows the decision (big and clear, for a phone in the street).

Why the question is sent by POST with a CSRF token, not by a GET form, although it changes no
permit: every answer is recorded under the officer's name (a `PlateLookup` row), and that record
is the accountability for looking up personal data.
- A GET could be triggered by any other web site the officer's browser visits (an <img> whose
  address is /polizia/targa?targa=...): lookups the officer never made would be recorded as theirs.
  The CSRF token makes every recorded lookup one the officer submitted from this page.
- A plate in the address stays in the browser's history, in the access logs of the server and of
  any proxy and in Referer headers: copies of personal data outside the lookup record and beyond
  the retention the municipality sets for it (`ztl retention purge`).
The answer is marked no-store so that no cache keeps it either. There is no redirect after the
POST (the answer would have to travel in the address or the session); the form is on the answer
page, so the next plate is typed right there. GET /polizia/targa shows the empty form.

The police home (`/polizia/`) is built for a phone held in one hand: the plate form and the link to
the QR reader come first, with large targets, and the home answers a check itself, showing the
answer under the form with the officer's last few answers. Those are kept on the server, with this
browser's signed-in session (`ztl.accounts.browser_sessions.keep_answer`), not in the cookie or the
address: they belong to this officer in this browser, can be cleared, and end with the session.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import make_response, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import Field, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, ValidationError

from ztl.accounts import browser_sessions
from ztl.city.rules_config import current_rules
from ztl.enforcement.authorizations import Asker, Decision, authorize
from ztl.lookups.log import POLICE_PAGE
from ztl.records.overview import gates, zones_with_hours
from ztl.values import InvalidValue
from ztl.values.plates import normalise_plate
from ztl.values.times import from_local
from ztl.web.police.views import bp
from ztl.web.sessions import SESSION_TOKEN_KEY

PLATE_INVALID = _l("Targa non valida: scrivi solo lettere e cifre, per esempio AB123CD.")
PLATE_MISSING = _l("Scrivi la targa da verificare.")
ZONE_INVALID = _l("Scegli una delle zone dell'elenco.")
AT_INVALID = _l("Data e ora non valide: scegli giorno e ora, per esempio 2026-06-01T10:30.")


class PlateForm(FlaskForm):
    """Shape only: a readable plate, a zone of the list (or any), a local time or none."""

    plate = StringField(
        _l("Targa"), validators=[DataRequired(message=PLATE_MISSING)], render_kw={"maxlength": 20}
    )
    zone = SelectField(_l("Zona"), validate_choice=False)
    at = StringField(_l("Data e ora"))
    submit = SubmitField(_l("Verifica"))

    def validate_plate(self, field: Field) -> None:
        try:
            normalise_plate(field.data or "")
        except InvalidValue as exc:
            raise ValidationError(str(PLATE_INVALID)) from exc

    def validate_zone(self, field: Field) -> None:
        if (field.data or "") not in {choice.value for choice in field.choices or []}:
            raise ValidationError(str(ZONE_INVALID))

    def validate_at(self, field: Field) -> None:
        if (field.data or "").strip():
            try:
                self.moment()
            except (ValueError, OverflowError) as exc:
                raise ValidationError(str(AT_INVALID)) from exc

    def moment(self) -> dt.datetime | None:
        """The instant asked about; None for now. The form's time is the municipality's wall clock."""
        text = (self.at.data or "").strip()
        if not text:
            return None
        value = dt.datetime.fromisoformat(text)
        if not 1971 <= value.year <= 9998:  # keeps the arithmetic of time zones in range
            raise ValueError(f"year out of range: {value.year}")
        if value.tzinfo is None or value.utcoffset() is None:
            return from_local(value, current_rules().timezone)
        return value


class ClearAnswersForm(FlaskForm):
    """Only the CSRF token: clearing the kept answers is the officer's own act."""


def _form() -> PlateForm:
    form = PlateForm()
    form.zone.choices = [
        SelectChoice("", _l("Qualsiasi zona (non so in quale zona sono)")),
        *(SelectChoice(z.code, f"{z.code} · {z.name}") for z, _windows in zones_with_hours()),
    ]
    return form


def _context() -> dict[str, Any]:
    rules = current_rules()
    return {
        "categories": {c.code: c for c in rules.categories},
        "timezone": rules.timezone,
        "instant": _instant,
    }


def _page(
    form: PlateForm,
    status: int = 200,
    decision: Decision | None = None,
    problem: str | None = None,
) -> Response:
    context = {**_context(), "form": form, "decision": decision, "problem": problem}
    response = make_response(render_template("police/plate.html", **context), status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _instant(epoch_seconds: float) -> dt.datetime:
    """A permit's bound (epoch seconds, as the index holds it) as an aware datetime."""
    return dt.datetime.fromtimestamp(epoch_seconds, dt.UTC)


@bp.route("/targa", methods=["GET", "POST"])
def plate_lookup() -> Response:
    form = _form()
    if request.method == "GET":
        return _page(form)
    status, decision, problem = _check(form)
    return _page(form, status, decision, problem)


@bp.route("/", methods=["GET", "POST"])
def home() -> Response:
    """The phone's first screen: the plate check and the QR reader, then the last answers."""
    form = _form()
    status, decision, problem = (200, None, None)
    if request.method == "POST":
        status, decision, problem = _check(form)
    context = {
        **_context(),
        "form": form,
        "decision": decision,
        "problem": problem,
        "answers": browser_sessions.kept_answers(_token(), int(current_user.id)),
        "zones": zones_with_hours(),
        "gates": gates(),
    }
    response = make_response(render_template("police/home.html", **context), status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/risposte/svuota")
def clear_answers() -> Response:
    """The officer clears the answers kept on the home page (this browser's only)."""
    if ClearAnswersForm().validate_on_submit():
        browser_sessions.clear_answers(_token(), int(current_user.id))
    return redirect(url_for("police.home"), 303)


def _token() -> str | None:
    token = session.get(SESSION_TOKEN_KEY)
    return token if isinstance(token, str) else None


def _check(form: PlateForm) -> tuple[int, Decision | None, str | None]:
    """Validate the form and ask; the answer is kept with the session. (status, answer, problem)"""
    if not form.validate_on_submit():
        return 400, None, None
    try:
        decision = authorize(
            form.plate.data or "",
            form.zone.data or None,
            form.moment(),
            Asker.of_user(current_user),
            channel=POLICE_PAGE,
        )
    except InvalidValue as exc:  # e.g. a zone removed since the form was shown
        return 400, None, str(exc)
    browser_sessions.keep_answer(
        _token(),
        int(current_user.id),
        {
            "plate": decision.plate,
            "authorized": decision.authorized,
            "zone": decision.zone,
            "at": decision.at.isoformat(),
            "reason": decision.reason,
            "pending_until": (
                decision.pending_until.isoformat() if decision.pending_until else None
            ),
        },
    )
    form.plate.data = ""  # ready for the next plate; the zone and time stay as chosen
    return 200, decision, None
