"""The municipality's categories and fees as a person reads them (durations, hours, deciders).

Why here and not in the rules package: the rules are pure data and logic without a language; how a
duration or a daily window is written in Italian or English is the page's business.
"""

from __future__ import annotations

from dataclasses import dataclass

from babel.dates import get_day_names
from flask_babel import gettext as _

from ztl.i18n import current_language
from ztl.labels import DECIDER_LABELS, FUEL_LABELS, label
from ztl.rules.fees import Purpose, fee_for
from ztl.rules.municipality import CategoryRules, Municipality
from ztl.rules.windows import EVERY_DAY, DailyWindow
from ztl.values import display


@dataclass(frozen=True)
class ValidityFee:
    label: str
    fee_cents: int | None  # from ztl.rules.fees (stamp duty apart); None: no fee set


@dataclass(frozen=True)
class CategoryRow:
    code: str
    name: str
    zones: str
    options: tuple[ValidityFee, ...]
    stamp_duty: bool
    decided_by: str
    windows: str
    free_fuels: str  # their names, comma-separated; empty when none rides free
    unregistered: str  # how a vehicle outside the register is decided; empty: refused


def duration_text(duration: str) -> str:
    """ "P2Y" -> "2 anni", "PT2H" -> "2 ore" in the page's language (ztl.values.display)."""
    return display.duration_text(duration, current_language())


def _minutes(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def window_text(window: DailyWindow) -> str:
    """ "07:00–10:00", "sempre", with the weekdays when the window is not every day."""
    hours = (
        _("sempre")
        if window.whole_day
        else (f"{_minutes(window.start_minute)}–{_minutes(window.end_minute)}")
    )
    if window.weekdays == EVERY_DAY:
        return hours
    names = get_day_names("abbreviated", locale=current_language())
    days = ", ".join(str(names[d]) for d in range(7) if window.weekdays >> d & 1)
    return f"{hours} ({days})"


def unregistered_text(category: CategoryRules) -> str:
    """The rules file's `unregistered_vehicles` in words (empty when the category has none)."""
    policy = category.unregistered_vehicles
    if policy is None:
        return ""
    if policy.on_declaration:
        return _("Veicoli fuori dal registro: sulla dichiarazione del richiedente.")
    return _(
        "Veicoli fuori dal registro: decide l'ufficio permessi entro %(h)s ore dal pagamento.",
        h=policy.within_hours,
    )


def category_row(municipality: Municipality, category: CategoryRules) -> CategoryRow:
    english = current_language() == "en"
    options = [
        ValidityFee(duration_text(v), fee_for(municipality, category, v, ()).fee_cents)
        for v in category.validity
    ]
    if category.booklet is not None:
        booklet = fee_for(municipality, category, None, (), Purpose.BOOKLET)
        booklet_name = _("blocchetto di %(n)s registrazioni", n=category.booklet.registrations)
        options.append(ValidityFee(booklet_name, booklet.fee_cents))
    return CategoryRow(
        code=category.code,
        name=category.name_en if english and category.name_en else category.name_it,
        zones=", ".join(category.zones),
        options=tuple(options),
        stamp_duty=category.stamp_duty,
        decided_by=label(DECIDER_LABELS, category.decided_by),
        windows=", ".join(window_text(w) for w in category.windows) or _("sempre"),
        free_fuels=", ".join(label(FUEL_LABELS, f) for f in category.free_fuels),
        unregistered=unregistered_text(category),
    )


def category_rows(municipality: Municipality) -> list[CategoryRow]:
    return [category_row(municipality, c) for c in municipality.categories]
