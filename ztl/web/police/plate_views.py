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
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import make_response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import Field, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, ValidationError

from ztl.city.rules_config import current_rules
from ztl.enforcement.authorizations import Asker, Decision, authorize
from ztl.lookups.log import POLICE_PAGE
from ztl.records.overview import zones_with_hours
from ztl.values import InvalidValue
from ztl.values.plates import normalise_plate
from ztl.values.times import from_local
from ztl.web.police.views import bp

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


def _form() -> PlateForm:
    form = PlateForm()
    form.zone.choices = [
        SelectChoice("", _l("Qualsiasi zona (non so in quale zona sono)")),
        *(SelectChoice(z.code, f"{z.code} · {z.name}") for z, _windows in zones_with_hours()),
    ]
    return form


def _page(
    form: PlateForm,
    status: int = 200,
    decision: Decision | None = None,
    problem: str | None = None,
) -> Response:
    rules = current_rules()
    context: dict[str, Any] = {
        "form": form,
        "decision": decision,
        "problem": problem,
        "categories": {c.code: c for c in rules.categories},
        "timezone": rules.timezone,
        "instant": _instant,
    }
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
    if not form.validate_on_submit():
        return _page(form, 400)
    try:
        decision = authorize(
            form.plate.data or "",
            form.zone.data or None,
            form.moment(),
            Asker.of_user(current_user),
            channel=POLICE_PAGE,
        )
    except InvalidValue as exc:  # e.g. a zone removed since the form was shown
        return _page(form, 400, problem=str(exc))
    form.plate.data = ""  # ready for the next plate; the zone and time stay as chosen
    return _page(form, decision=decision)
