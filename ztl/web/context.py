"""What every template needs: the language, the navigation for the user's roles, the icon sprite."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import Flask, request, url_for
from flask_babel import format_currency, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ztl.i18n import supported_languages
from ztl.permissions import ADMINS, CLERKS, POLICE, RESIDENTS, SUPERVISORS, has_role

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
    return [item for roles, item in NAVIGATION if has_role(user, roles)]


def money(cents: int) -> str:
    """Integer cents shown as euros in the user's language ("15,00 €" / "€15.00")."""
    return str(format_currency(Decimal(cents) / 100, "EUR"))


def register_context(app: Flask) -> None:
    app.add_template_filter(money, "money")

    @app.context_processor
    def inject() -> dict[str, Any]:
        return {
            "get_locale": get_locale,
            "current_language": str(get_locale() or "it"),
            "languages": [(code, LANGUAGE_NAMES.get(code, code)) for code in supported_languages()],
            "navigation": navigation_for(current_user),
            "current_path": request.full_path.rstrip("?") if request else "/",
            "sprite": url_for("static", filename="vendor/bootstrap-italia/svg/sprites.svg"),
        }
