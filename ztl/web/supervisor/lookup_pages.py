"""Supervisors' record of plate lookups: who asked about which plate, when, and what was answered.

Looking up a plate is looking up personal data (where a car was); every answer is recorded and this
page is where the record is read, newest first, filtered by plate and by channel. The query is the
service's (ztl.lookups.log); the filters are a GET form (a filtered list is a link, and it
changes nothing), read through a form so that a value it does not know is answered with a message
and a 400, never passed on. The answer is no-store: plates are personal data.
"""

from __future__ import annotations

from flask import make_response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import Field, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from ztl.city.rules_config import current_rules
from ztl.lookups.log import (
    AUTHORIZATION,
    ELIGIBILITY,
    POLICE_PAGE,
    TRANSIT,
    LookupPage,
    LookupQuery,
    lookup_page,
)
from ztl.values import InvalidValue
from ztl.values.plates import normalise_plate
from ztl.web.clerk.views import page_links
from ztl.web.supervisor.blueprint import bp

CHANNEL_LABELS = {
    AUTHORIZATION: _l("API: domanda su una targa"),
    TRANSIT: _l("Transiti dei varchi"),
    POLICE_PAGE: _l("Pagina della polizia"),
    ELIGIBILITY: _l("Verifica dei requisiti"),
}
PLATE_INVALID = _l("Targa non valida: scrivi solo lettere e cifre, per esempio AB123CD.")
CHANNEL_INVALID = _l("Scegli uno dei canali dell'elenco.")
PAGE_INVALID = _l("Il numero di pagina non è valido: scrivi un numero intero da 1 in su.")


class LookupFilterForm(FlaskForm):
    """The filters of the lookup record: a GET form (bookmarkable), so without a CSRF token."""

    class Meta:
        csrf = False

    targa = StringField(_l("Targa"), render_kw={"maxlength": 20})
    canale = SelectField(
        _l("Canale"),
        choices=[
            SelectChoice("", _l("Tutti i canali")),
            *(SelectChoice(code, label) for code, label in CHANNEL_LABELS.items()),
        ],
        validate_choice=False,
    )
    submit = SubmitField(_l("Filtra"))

    def validate_targa(self, field: Field) -> None:
        if (field.data or "").strip():
            try:
                normalise_plate(field.data)
            except InvalidValue as exc:
                raise ValidationError(str(PLATE_INVALID)) from exc

    def validate_canale(self, field: Field) -> None:
        if (field.data or "") not in ("", *CHANNEL_LABELS):
            raise ValidationError(str(CHANNEL_INVALID))


def _page_number(raw: str | None) -> int | None:
    """The requested page, 1 when absent; None when it is not a positive whole number."""
    text = (raw or "1").strip()
    if not text.isdigit() or len(text) > 6 or int(text) < 1:
        return None
    return int(text)


def _kept(result: LookupPage | None, channel: str) -> dict[str, str]:
    """The filters every page link carries along (the plate in its normalised form)."""
    kept = {"targa": result.plate if result else "", "canale": channel}
    return {name: value for name, value in kept.items() if value}


def who(actor_label: str) -> tuple[str, bool]:
    """The asker's name and whether it is an API token ("token:varco-a1"), not a person."""
    kind, _sep, name = actor_label.partition(":")
    if kind in ("user", "token") and name:
        return name, kind == "token"
    return actor_label, False


@bp.get("/consultazioni")
def lookups() -> Response:
    filters = LookupFilterForm(request.args)
    page = _page_number(request.args.get("pagina"))
    problems = [] if page is not None else [str(PAGE_INVALID)]
    result = None
    channel = ""
    if filters.validate() and page is not None:
        channel = filters.canale.data or ""
        query = LookupQuery(plate=filters.targa.data or "", channel=channel, page=page)
        try:
            result = lookup_page(query)
        except InvalidValue as exc:  # the form checked the shapes already; kept as a safety net
            problems.append(str(exc))
    rules = current_rules()
    html = render_template(
        "supervisor/lookups.html",
        filters=filters,
        problems=problems,
        result=result,
        kept=_kept(result, channel),
        links=page_links(result.page, result.pages) if result else [],
        channels=CHANNEL_LABELS,
        who=who,
        retention_days=rules.lookup_retention_days,
        timezone=rules.timezone,
    )
    response = make_response(html, 200 if result is not None else 400)
    response.headers["Cache-Control"] = "no-store"
    return response
