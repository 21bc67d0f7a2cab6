"""What every template needs: the language, the signed-in user, the navigation, labels and formats.

Views pass only the data of their page; the page chrome (header, language switch, menu, footer) gets
its values here, once, so that a new page cannot forget the `next` of the language switch or show a
menu entry its user may not open. The municipality's name is the rules file's (`[municipality]
name`), so a city running its own rules file is named on every page without touching a template.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import Flask, request, url_for
from flask_babel import format_currency, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ztl.accounts.staff import resident_passwords_allowed
from ztl.city.rules_config import current_rules
from ztl.i18n import current_language, supported_languages
from ztl.identity.client import identity_clients
from ztl.identity.providers import ProviderSettings
from ztl.payments.providers import payment_provider
from ztl.permissions import ADMINS, CLERKS, HOME_ENDPOINT, POLICE, RESIDENTS, SUPERVISORS, has_role
from ztl.web.labels import (
    GATE_DIRECTION_LABELS,
    PERMIT_STATUS_LABELS,
    REGISTRY_LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
    TOKEN_ROLE_LABELS,
    label,
)

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


def money(cents: int) -> str:
    """Integer cents shown as euros in the user's language ("15,00 €" / "€15.00")."""
    return str(format_currency(Decimal(cents) / 100, "EUR"))


def category_name(category: Any) -> str:
    """A permit category's name in the user's language (the catalogue stores both)."""
    if current_language() == "en" and category.name_en:
        return str(category.name_en)
    return str(category.name_it)


def citizen_providers() -> list[ProviderSettings]:
    return [p for p in identity_clients().providers.values() if p.for_citizens]


def staff_providers() -> list[ProviderSettings]:
    return [p for p in identity_clients().providers.values() if not p.for_citizens]


def register_context(app: Flask) -> None:
    app.add_template_filter(money, "money")
    app.add_template_filter(category_name, "category_name")
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
            "payer_confirms": payment_provider().confirms_on_payer_word,
            # Sign-in: the SPID/CIE buttons, and whether residents may also use a password here.
            "citizen_providers": citizen_providers(),
            "staff_providers": staff_providers(),
            "resident_passwords": resident_passwords_allowed(),
        }
