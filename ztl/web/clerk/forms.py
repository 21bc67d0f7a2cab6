"""The clerks' forms: shape only (choices, lengths, digits); what a decision means is the services'.

The queue's filters are a GET form without a CSRF token, so a filtered queue is a link a clerk can
bookmark or send to a colleague. Every decision is a POST form of its own, with its own token.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from ztl.applications.clerk_queue import SORTS
from ztl.labels import STATUS_LABELS
from ztl.models.enums import ApplicationStatus

MAX_TEXT = 2000
# Drafts are the applicant's business: clerks see an application once it is submitted.
STATUS_CHOICES = tuple(s.value for s in ApplicationStatus if s is not ApplicationStatus.DRAFT)
NOT_A_CHOICE = _l("Questo valore non è tra quelli dell'elenco: scegline uno.")
SORT_LABELS: dict[str, Any] = {
    "oldest": _l("Dalla più vecchia"),
    "newest": _l("Dalla più recente"),
    "category": _l("Per categoria"),
}


class KnownChoice:
    """A value the select offers, with a message in the clerk's words (a URL can be edited)."""

    def __call__(self, form: FlaskForm, field: Any) -> None:
        if field.data not in {str(choice[0]) for choice in field.iter_choices()}:
            raise ValidationError(str(NOT_A_CHOICE))


class QueueFilterForm(FlaskForm):
    """The queue's filters, read from the query string; choices of category and zone are set by the
    view (they come from the city's configuration)."""

    class Meta:
        csrf = False

    stato = SelectField(
        _l("Stato"),
        choices=[
            SelectChoice("", _l("In attesa dell'ufficio")),
            SelectChoice("all", _l("Tutte le domande inviate")),
            *(SelectChoice(s, STATUS_LABELS[s]) for s in STATUS_CHOICES),
        ],
        validators=[Optional(), KnownChoice()],
        validate_choice=False,
        default="",
    )
    categoria = SelectField(
        _l("Categoria"),
        choices=[],
        validators=[Optional(), KnownChoice()],
        validate_choice=False,
        default="",
    )
    zona = SelectField(
        _l("Zona"),
        choices=[],
        validators=[Optional(), KnownChoice()],
        validate_choice=False,
        default="",
    )
    eta = StringField(
        _l("Attesa minima (giorni)"),
        validators=[
            Optional(),
            Regexp(r"^\d{1,4}$", message=_l("Scrivi un numero di giorni, da 0 a 9999.")),
        ],
    )
    ordine = SelectField(
        _l("Ordine"),
        choices=[SelectChoice(s, SORT_LABELS[s]) for s in SORTS],
        validators=[Optional(), KnownChoice()],
        validate_choice=False,
        default="oldest",
    )
    q = StringField(
        _l(
            "Cerca per targa (attuale o precedente), cognome, codice fiscale o partita IVA, "
            "numero di permesso o di domanda"
        ),
        validators=[Optional(), Length(max=40)],
    )
    submit = SubmitField(_l("Filtra"))


class ApproveForm(FlaskForm):
    note = TextAreaField(
        _l("Nota sull'approvazione (facoltativa)"), validators=[Optional(), Length(max=MAX_TEXT)]
    )
    submit = SubmitField(_l("Approva e rilascia il permesso"))


def _written(label: Any, missing: Any) -> TextAreaField:
    """A text the applicant will read (a reason, a request): required, and never empty-looking."""
    return TextAreaField(label, validators=[DataRequired(message=missing), Length(max=MAX_TEXT)])


class OverrulingApproveForm(ApproveForm):
    """The approval of an application failing a check: the same form, its note now the required
    reason (the service refuses without it; this only says so on the page and in the browser)."""

    note = _written(
        _l("Motivo dell'approvazione nonostante i controlli non superati"),
        _l("Scrivi perché approvi la domanda nonostante i controlli non superati."),
    )


class RejectForm(FlaskForm):
    reason = _written(_l("Motivo del rifiuto"), _l("Scrivi il motivo del rifiuto."))
    submit = SubmitField(_l("Respingi la domanda"))


class DocumentsRequestForm(FlaskForm):
    message = _written(_l("Documenti da inviare"), _l("Scrivi quali documenti servono."))
    submit = SubmitField(_l("Chiedi i documenti"))


class RevokeForm(FlaskForm):
    reason = _written(_l("Motivo della revoca"), _l("Scrivi il motivo della revoca."))
    submit = SubmitField(_l("Revoca il permesso"))


class DelegationApproveForm(FlaskForm):
    submit = SubmitField(_l("Approva la delega"))


class DelegationRefuseForm(FlaskForm):
    reason = _written(_l("Motivo del rifiuto"), _l("Scrivi il motivo del rifiuto."))
    submit = SubmitField(_l("Rifiuta la delega"))


class DelegationRevokeForm(FlaskForm):
    reason = _written(_l("Motivo della revoca"), _l("Scrivi il motivo della revoca."))
    submit = SubmitField(_l("Revoca la delega"))
