"""The applicant's forms: shape only (lengths, formats); the category's rules live in services.

One application form serves every category: the page shows only the fields the chosen category
needs (a firm's partita IVA, as many plates as it allows, zones or validity when there is a choice,
the start time of a two-hour permit), and the service ignores the rest.
Times are typed on the municipality's wall clock (its rules file's time zone): the labels say
"ora locale" rather than a city's name, since the same forms serve every municipality.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

PLATE_HELP = _l(
    "Senza spazi o con spazi, come preferisci. Per una targa estera scrivi prima il codice del "
    "paese e i due punti, per esempio DE:MAB1234."
)


# The vehicle categories a visitor may declare (ztl.eligibility.service.DECLARABLE_CATEGORIES), as
# people name them: the type-approval codes stay behind the form.
DECLARABLE_CATEGORY_LABELS = {
    "M1": _l("Autovettura (fino a 8 posti oltre al conducente)"),
    "N1": _l("Veicolo commerciale leggero (fino a 3,5 tonnellate)"),
    "L1e": _l("Ciclomotore"),
    "L3e": _l("Motociclo"),
    "M2": _l("Minibus (fino a 5 tonnellate)"),
    "N2": _l("Autocarro (da 3,5 a 12 tonnellate)"),
}
DECLARATION_HELP = _l(
    "La targa non è nel registro dei veicoli italiano: dichiara i dati del veicolo come sono "
    "scritti sulla carta di circolazione. Dichiari anche che il veicolo è in circolazione. Il "
    "permesso è rilasciato su questi dati e una dichiarazione falsa è sotto la tua responsabilità."
)


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ApplicationForm(FlaskForm):
    # The firms the person may act for (set by the view); any other value reaches the service,
    # which refuses it: the list is a convenience, not the check.
    applicant_id = SelectField(
        _l("Impresa intestataria"),
        choices=[],
        validate_choice=False,
        validators=[Optional(), Length(max=20)],
    )
    plate_1 = StringField(_l("Targa"), validators=[DataRequired(), Length(max=20)])
    plate_2 = StringField(_l("Seconda targa"), validators=[Optional(), Length(max=20)])
    plate_3 = StringField(_l("Terza targa"), validators=[Optional(), Length(max=20)])
    zones = CheckboxesField(_l("Zone"), choices=[], validate_choice=False)
    validity = SelectField(_l("Durata"), choices=[], validate_choice=False)
    requested_from = DateField(_l("Valido dal giorno"), validators=[Optional()])
    starts_at = DateTimeLocalField(
        _l("Inizio (ora locale)"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    transit_at = DateTimeLocalField(
        _l("Primo transito già avvenuto (ora locale)"),
        format="%Y-%m-%dT%H:%M",
        validators=[Optional()],
    )
    # A vehicle outside the register (the category decides it on the applicant's declaration);
    # the choices are set by the view, the service checks the values.
    declared_category = SelectField(
        _l("Tipo di veicolo"), choices=[], validate_choice=False, validators=[Optional()]
    )
    declared_fuel = SelectField(
        _l("Alimentazione"), choices=[], validate_choice=False, validators=[Optional()]
    )
    declared_euro_class = SelectField(
        _l("Classe Euro"), choices=[], validate_choice=False, validators=[Optional()]
    )
    registration_number = StringField(
        _l("Numero di iscrizione all'albo"), validators=[Optional(), Length(max=40)]
    )
    parking_spaces = IntegerField(
        _l("Posti auto dichiarati"), validators=[Optional(), NumberRange(1, 50)]
    )
    notes = TextAreaField(_l("Note per l'ufficio"), validators=[Optional(), Length(max=1000)])
    submit = SubmitField(_l("Salva la bozza"))


class DocumentForm(FlaskForm):
    kind = SelectField(_l("Tipo di documento"), choices=[], validate_choice=True)
    file = FileField(_l("File (PDF, JPEG o PNG)"), validators=[FileRequired()])
    submit = SubmitField(_l("Allega"))


class ActionForm(FlaskForm):
    """A button that changes state (submit, pay, withdraw, renew...): only its CSRF token."""

    submit = SubmitField(_l("Conferma"))


class SubmitForm(FlaskForm):
    """Sending the application; when the checks are not passed, the request for the office's
    review and its reason (the service decides whether they are needed)."""

    review_requested = BooleanField(_l("Chiedo la revisione dell'ufficio"))
    review_reason = TextAreaField(
        _l("Perché chiedi la revisione"), validators=[Optional(), Length(max=1000)]
    )
    submit = SubmitField(_l("Invia la domanda"))


class PlateChangeForm(FlaskForm):
    old_plate = SelectField(_l("Targa da sostituire"), choices=[], validate_choice=True)
    new_plate = StringField(_l("Nuova targa"), validators=[DataRequired(), Length(max=20)])
    submit = SubmitField(_l("Cambia la targa"))


class BookletForm(FlaskForm):
    # The hotels the person may act for (set by the view); the service decides, as above.
    hotel = SelectField(
        _l("Albergo del blocchetto"),
        choices=[],
        validate_choice=False,
        validators=[DataRequired(), Length(max=20)],
    )
    submit = SubmitField(_l("Richiedi un blocchetto"))


class GuestForm(FlaskForm):
    hotel = SelectField(_l("Albergo"), choices=[], validate_choice=True)
    plate = StringField(
        _l("Targa dell'ospite"),
        description=PLATE_HELP,
        validators=[DataRequired(), Length(max=20)],
    )
    arrival = DateTimeLocalField(
        _l("Arrivo o primo transito (ora locale)"),
        format="%Y-%m-%dT%H:%M",
        validators=[DataRequired()],
    )
    nights = IntegerField(
        _l("Giorni di permanenza"), default=1, validators=[DataRequired(), NumberRange(1, 7)]
    )
    submit = SubmitField(_l("Registra l'ospite"))


class GuestBatchForm(FlaskForm):
    hotel = SelectField(_l("Albergo"), choices=[], validate_choice=True)
    file = FileField(_l("File CSV: targa, arrivo, giorni"), validators=[FileRequired()])
    submit = SubmitField(_l("Registra gli ospiti del file"))


class DelegationRequestForm(FlaskForm):
    partita_iva = StringField(
        _l("Partita IVA dell'impresa"), validators=[DataRequired(), Length(max=20)]
    )
    delegation_form = FileField(
        _l("Delega firmata dal legale rappresentante (PDF, JPEG o PNG)"),
        validators=[FileRequired()],
    )
    identity_document = FileField(
        _l("Il tuo documento di identità (PDF, JPEG o PNG)"), validators=[FileRequired()]
    )
    submit = SubmitField(_l("Chiedi la delega"))
