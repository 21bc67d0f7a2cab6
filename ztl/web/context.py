"""What every template needs: the language, the signed-in user, the navigation, labels and formats.

Views pass only the data of their page; the page chrome (header, language switch, menu, footer) gets
its values here, once, so that a new page cannot forget the `next` of the language switch or show a
menu entry its user may not open. The municipality's name is the rules file's (`[municipality]
name`), so a city running its own rules file is named on every page without touching a template.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import Flask, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ztl.accounts.staff import resident_passwords_allowed
from ztl.city.rules_config import current_rules
from ztl.i18n import current_language, supported_languages
from ztl.identity.client import identity_clients
from ztl.identity.providers import ProviderSettings
from ztl.labels import (
    CHECK_LABELS,
    EVIDENCE_KEYS,
    EVIDENCE_VALUES,
    GATE_DIRECTION_LABELS,
    PERMIT_STATUS_LABELS,
    REGISTRY_LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
    STATUS_VALUES,
    TOKEN_ROLE_LABELS,
    label,
)
from ztl.payments.active import payer_word_confirms
from ztl.payments.notice_numbers import grouped
from ztl.permissions import ADMINS, CLERKS, HOME_ENDPOINT, POLICE, RESIDENTS, SUPERVISORS, has_role
from ztl.values import display

# Each language is named in itself, so that someone who cannot read the current one finds theirs.
LANGUAGE_NAMES = {"it": "Italiano", "en": "English"}


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: Any


NAVIGATION = (
    (RESIDENTS, NavItem("resident.home", _l("Area personale"))),
    (CLERKS, NavItem("clerk.home", _l("Ufficio permessi"))),
    (SUPERVISORS, NavItem("supervisor.home", _l("Supervisione"))),
    (POLICE, NavItem("police.home", _l("Polizia municipale"))),
    (ADMINS, NavItem("admin.home", _l("Amministrazione"))),
)


def navigation_for(user: Any) -> list[NavItem]:
    """The menu entries of the areas the user may open (the same sets that guard the blueprints)."""
    return [item for roles, item in NAVIGATION if has_role(user, roles)]


def signed_in_user() -> Any | None:
    """The signed-in user, or None for a visitor.

    When the database is down, `ztl.web.errors` has already made the user anonymous for the error
    page, so this does not query again.
    """
    return current_user if current_user.is_authenticated else None


def _timezone() -> str:
    return current_rules().timezone


def money(cents: int) -> str:
    """Integer cents as euros, "€ 15,00" in both languages (ztl.values.display)."""
    return display.money_text(cents)


def date_text(value: dt.date | dt.datetime) -> str:
    """ "02/12/2026": a day, or an instant's day on the municipality's clock."""
    return display.date_text(value, _timezone())


def datetime_text(value: dt.datetime | str) -> str:
    """ "02/12/2026 09:05" on the municipality's clock; a string is an instant as stored in an
    application's details (ISO 8601 with its offset)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return display.datetime_text(value, _timezone())


def evidence_text(value: Any, key: str) -> str:
    """A piece of a check's evidence as the clerk reads it: names for codes (documents, fuels, a
    person's or a firm's status), "sì"/"no", lists comma-separated, days and instants in the
    page's format. The rules engine keeps instants as ISO text, days as "2026-12-02"."""
    if value is True:
        return str(_l("sì"))
    if value is False:
        return str(_l("no"))
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list | tuple):
        return ", ".join(evidence_text(item, key) for item in value)
    names = STATUS_VALUES if key == "status" else EVIDENCE_VALUES.get(key)
    if names is not None:
        return label(names, str(value))
    if isinstance(value, str) and len(value) >= 10 and value[:4].isdigit() and value[4] == "-":
        try:
            instant = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
        if len(value) == 10:
            return display.date_text(instant.date(), _timezone())
        return datetime_text(instant) if instant.tzinfo else value
    return str(value)


def valid_from(value: dt.datetime) -> str:
    """A permit's start after "Valido dal": "02/12/2026" / "02/12/2026 alle 09:00"."""
    return display.validity_start_text(value, _timezone(), current_language())


def valid_until(valid_to: dt.datetime) -> str:
    """A permit's end after "Valido fino al": "02/12/2026 compreso" / "02/12/2026 alle 11:00"."""
    return display.validity_end_text(valid_to, _timezone(), current_language())


def validity(valid_from: dt.datetime, valid_to: dt.datetime) -> str:
    """ "dal 02/12/2026 al 02/12/2026 compreso" in the page's language."""
    return display.validity_text(valid_from, valid_to, _timezone(), current_language())


def duration(code: str) -> str:
    """ "P1Y" -> "1 anno" in the page's language."""
    return display.duration_text(code, current_language())


def file_size(size: float) -> str:
    """ "5 MB" with the page's decimal mark."""
    return display.size_text(int(size), current_language())


def category_name(category: Any) -> str:
    """A permit category's name in the user's language (the catalogue stores both)."""
    if current_language() == "en" and category.name_en:
        return str(category.name_en)
    return str(category.name_it)


def said_here(text: str) -> str:
    """The page's half of a text written "italiano / English" (the enforcement answers' reasons,
    which the API gives in both languages at once)."""
    italian, _sep, english = text.partition(" / ")
    return english if english and current_language() == "en" else italian


def citizen_providers() -> list[ProviderSettings]:
    return [p for p in identity_clients().providers.values() if p.for_citizens]


def staff_providers() -> list[ProviderSettings]:
    return [p for p in identity_clients().providers.values() if not p.for_citizens]


def register_context(app: Flask) -> None:
    app.add_template_filter(money, "money")
    app.add_template_filter(date_text, "date_text")
    app.add_template_filter(datetime_text, "datetime_text")
    app.add_template_filter(valid_from, "valid_from")
    app.add_template_filter(valid_until, "valid_until")
    app.add_template_filter(duration, "duration")
    app.add_template_filter(file_size, "file_size")
    app.add_template_filter(grouped, "notice_number")
    app.add_template_filter(said_here, "said_here")
    app.add_template_global(validity, "validity")
    app.add_template_filter(category_name, "category_name")
    app.add_template_filter(evidence_text, "evidence_text")
    app.add_template_filter(lambda code: label(CHECK_LABELS, code), "check_label")
    app.add_template_filter(lambda code: label(EVIDENCE_KEYS, code), "evidence_label")
    app.add_template_filter(lambda code: label(STATUS_LABELS, code), "status_label")
    app.add_template_filter(lambda code: label(PERMIT_STATUS_LABELS, code), "permit_status_label")
    app.add_template_filter(lambda code: label(ROLE_LABELS, code), "role_label")
    app.add_template_filter(lambda code: label(TOKEN_ROLE_LABELS, code), "token_role_label")
    app.add_template_filter(lambda code: label(REGISTRY_LABELS, code), "registry_label")
    app.add_template_filter(lambda code: label(GATE_DIRECTION_LABELS, code), "gate_direction")

    @app.context_processor
    def inject() -> dict[str, Any]:
        user = signed_in_user()
        return {
            "current_language": str(get_locale() or app.config["BABEL_DEFAULT_LOCALE"]),
            "languages": [(code, LANGUAGE_NAMES.get(code, code)) for code in supported_languages()],
            "user": user,
            "user_home": url_for(HOME_ENDPOINT[user.role]) if user is not None else None,
            "navigation": navigation_for(user) if user is not None else [],
            # Where the language switch returns to: this page (path and query, never a host).
            "current_path": request.full_path.rstrip("?"),
            "sprite": url_for("static", filename="vendor/bootstrap-italia/svg/sprites.svg"),
            "municipality_name": current_rules(app).name,
            # Only the development stand-in takes the payer's word; otherwise the page says the
            # payment system's receipt is awaited, and offers no button that would pretend.
            "payer_confirms": payer_word_confirms(),
            # Sign-in: the SPID/CIE buttons, and whether residents may also use a password here.
            "citizen_providers": citizen_providers(),
            "staff_providers": staff_providers(),
            "resident_passwords": resident_passwords_allowed(),
        }
