"""Sign-in and registration forms: shape only (required, lengths, formats); decisions are services'.

Messages that WTForms would phrase generically ("between 10 and 200 characters") are given here in
the words a person filling the form needs; the rest come from WTForms' own Italian and English texts.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Regexp

EMAIL_INVALID = _l("Scrivi un indirizzo e-mail completo, per esempio nome@esempio.it.")


class LoginForm(FlaskForm):
    email = EmailField(
        _l("E-mail"), validators=[DataRequired(), Email(message=EMAIL_INVALID), Length(max=254)]
    )
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    next = HiddenField()
    submit = SubmitField(_l("Accedi"))


class RegistrationForm(FlaskForm):
    full_name = StringField(_l("Nome e cognome"), validators=[DataRequired(), Length(max=200)])
    codice_fiscale = StringField(
        _l("Codice fiscale"),
        validators=[
            DataRequired(),
            Length(min=16, max=20, message=_l("Il codice fiscale ha 16 caratteri.")),
        ],
    )
    email = EmailField(
        _l("E-mail"), validators=[DataRequired(), Email(message=EMAIL_INVALID), Length(max=254)]
    )
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(),
            Length(min=10, message=_l("La password deve avere almeno 10 caratteri.")),
            Length(max=200),
        ],
    )
    confirm = PasswordField(
        _l("Ripeti la password"),
        validators=[DataRequired(), EqualTo("password", message=_l("Le password non coincidono."))],
    )
    submit = SubmitField(_l("Registrati"))


class LogoutForm(FlaskForm):
    submit = SubmitField(_l("Esci"))


class SessionEndForm(FlaskForm):
    """A button that ends a browser session (one, or all the others): only the CSRF token."""

    submit = SubmitField(_l("Termina"))


# The six digits of an authenticator app; a space in the middle, as some apps show them, is fine.
SIX_DIGITS = Regexp(r"^\s*\d{3}\s?\d{3}\s*$", message=_l("Scrivi le 6 cifre che mostra l'app."))


class SecondFactorCodeForm(FlaskForm):
    """The sign-in's second step: a code of the app, or one of the recovery codes."""

    code = StringField(_l("Codice di verifica"), validators=[DataRequired(), Length(max=40)])
    submit = SubmitField(_l("Verifica"))


class SecondFactorEnrolForm(FlaskForm):
    """A first code of a new authenticator, proving the app has the secret."""

    code = StringField(_l("Codice di verifica"), validators=[DataRequired(), SIX_DIGITS])
    submit = SubmitField(_l("Attiva"))


class RecoveryCodesForm(FlaskForm):
    """New recovery codes, for a current code of the app."""

    code = StringField(_l("Codice di verifica"), validators=[DataRequired(), SIX_DIGITS])
    submit = SubmitField(_l("Genera nuovi codici di recupero"))
