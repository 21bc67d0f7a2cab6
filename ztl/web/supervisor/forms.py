"""Supervisors' forms: shape only (required, lengths, formats, choices); decisions are services'."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, Regexp

from ztl.accounts.user_admin import STAFF_ROLES
from ztl.labels import REGISTRY_LABELS, ROLE_LABELS, TOKEN_ROLE_LABELS
from ztl.models.enums import TokenRole
from ztl.registries.schemas import KINDS

EMAIL_INVALID = _l("Scrivi un indirizzo e-mail completo, per esempio nome@esempio.it.")
TOKEN_ROLES = tuple(r.value for r in TokenRole)


class UserFilterForm(FlaskForm):
    """The filters of the user list: a GET form (bookmarkable), so without a CSRF token."""

    class Meta:
        csrf = False

    role = SelectField(
        _l("Ruolo"),
        choices=[
            SelectChoice("", _l("Tutti i ruoli")),
            *(SelectChoice(r, ROLE_LABELS[r]) for r in ROLE_LABELS),
        ],
        validators=[Optional()],
    )
    q = StringField(_l("Cerca per e-mail o nome"), validators=[Optional(), Length(max=100)])
    submit = SubmitField(_l("Filtra"))


class CreateUserForm(FlaskForm):
    full_name = StringField(_l("Nome e cognome"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(
        _l("E-mail"), validators=[DataRequired(), Email(message=EMAIL_INVALID), Length(max=254)]
    )
    role = SelectField(
        _l("Ruolo"),
        choices=[SelectChoice(r, ROLE_LABELS[r]) for r in STAFF_ROLES],
        validators=[DataRequired()],
    )
    password = PasswordField(_l("Password iniziale"), validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField(
        _l("Ripeti la password"),
        validators=[DataRequired(), EqualTo("password", message=_l("Le password non coincidono."))],
    )
    submit = SubmitField(_l("Crea l'utente"))


class ActionForm(FlaskForm):
    """A button that changes something (deactivate, reactivate, revoke): only the CSRF token."""


class TokenForm(FlaskForm):
    name = StringField(
        _l("Nome del token"),
        validators=[
            DataRequired(),
            Length(max=100),
            Regexp(
                r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                message=_l("Usa lettere, cifre, punto, trattino o trattino basso, senza spazi."),
            ),
        ],
    )
    role = SelectField(
        _l("Usato da"),
        choices=[SelectChoice(r, TOKEN_ROLE_LABELS[r]) for r in TOKEN_ROLES],
        validators=[DataRequired()],
    )
    submit = SubmitField(_l("Crea il token"))


class ImportForm(FlaskForm):
    kind = SelectField(
        _l("Registro"),
        choices=[SelectChoice(k, REGISTRY_LABELS[k]) for k in KINDS],
        validators=[DataRequired()],
    )
    file = FileField(
        _l("File CSV"),
        validators=[
            FileRequired(message=_l("Scegli il file da importare.")),
            FileAllowed(["csv"], message=_l("Il file deve avere estensione .csv.")),
        ],
    )
    submit = SubmitField(_l("Importa"))
