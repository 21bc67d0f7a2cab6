"""What the public pages and the e-mails tell people about a category and the office, from the
rules file in force.

Why here and not in the views: the permit pages, the help page and the e-mails must give the same
price, the same decision time and the same appeal terms, and a page should only lay them out. The
price comes from ztl.rules.fees (the one function every amount comes from); this module only splits
it into the lines a person pays (the fee, the stamp duty on the application, the stamp duty on the
permit), and the total is the fee function's own.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import ngettext

from ztl.city.wording import calendar_lines, group_line
from ztl.rules.calendar import CalendarEntry, HolidayMode
from ztl.rules.fees import Fee, Purpose, fee_for
from ztl.rules.municipality import (
    DEFAULT_COURT_APPEAL_DAYS,
    DEFAULT_PRESIDENT_APPEAL_DAYS,
    STATUTORY_DECISION_DAYS,
    Booklet,
    CategoryRules,
    Municipality,
)
from ztl.values import display

# Checks whose outcome the person cannot act on or that the documents section already covers:
# listing them as requirements would only lengthen the page.
_NOT_REQUIREMENTS = frozenset({"documents_attached"})


@dataclass(frozen=True)
class Price:
    """What a permit of one validity (or a booklet) costs, line by line.

    `stamps` are the application's and the permit's stamp duty, in that order (empty for an
    exempt category); `total_cents` is ztl.rules.fees' total, never a sum made here.
    """

    validity: str | None  # ISO 8601 duration; None for a booklet
    fee: Fee
    stamps: tuple[int, ...]

    @property
    def fee_cents(self) -> int:
        return self.fee.fee_cents

    @property
    def total_cents(self) -> int:
        return self.fee.total_cents


@dataclass(frozen=True)
class ZoneHours:
    code: str
    name: str
    hours: tuple[str, ...]  # calendar lines in the page's language


@dataclass(frozen=True)
class Requirement:
    check_id: str
    detail: str | None  # the parameter in words ("al massimo 2 per nucleo familiare")


@dataclass(frozen=True)
class CategoryInfo:
    """A category as its public page presents it."""

    rules: CategoryRules
    zones: tuple[ZoneHours, ...]
    permit_hours: str | None  # the category's own hours within the zones; None: any hour
    prices: tuple[Price, ...]  # one per validity offered, or the booklet's alone
    booklet: Booklet | None
    requirements: tuple[Requirement, ...]
    decision: str  # how it is decided, in words
    decision_time: tuple[str, ...]  # how long it takes, in words

    @property
    def payable(self) -> bool:
        """Whether anything is paid (a free category gets no pagoPA notice)."""
        return any(p.total_cents for p in self.prices)


def price(municipality: Municipality, category: CategoryRules, validity: str | None) -> Price:
    """The price of one validity (None: a booklet) as ztl.rules.fees computes it."""
    purpose = Purpose.APPLICATION if validity is not None else Purpose.BOOKLET
    fee = fee_for(municipality, category, validity, (), purpose)
    stamps: tuple[int, ...] = ()
    if fee.stamp_duty_cents:
        # Due once on the application and once on the permit (ztl.rules.fees).
        each = municipality.stamp_duty_cents
        stamps = (each, fee.stamp_duty_cents - each)
    return Price(validity, fee, stamps)


def category_info(
    municipality: Municipality, category: CategoryRules, language: str
) -> CategoryInfo:
    """Everything the public page of a category says, worded in `language` (the request's)."""
    zones = tuple(
        ZoneHours(zone.code, zone.name, tuple(calendar_lines(zone.calendar)))
        for zone in (municipality.zone(code) for code in category.zones)
    )
    permit_hours = (
        group_line([CalendarEntry(category.windows, holidays=HolidayMode.IGNORE)])
        if category.windows
        else None
    )
    # A booklet category is bought only as booklets: its registrations cost nothing one by one.
    prices = (
        (price(municipality, category, None),)
        if category.booklet
        else tuple(price(municipality, category, v) for v in category.validity)
    )
    return CategoryInfo(
        rules=category,
        zones=zones,
        permit_hours=permit_hours,
        prices=prices,
        booklet=category.booklet,
        requirements=tuple(_requirements(category)),
        decision=decision_text(category),
        decision_time=decision_time_text(municipality, category, language),
    )


def _requirements(category: CategoryRules) -> list[Requirement]:
    found = []
    for spec in category.checks:
        if spec.check_id in _NOT_REQUIREMENTS:
            continue
        found.append(Requirement(spec.check_id, _detail(spec.check_id, dict(spec.params))))
    return found


def _detail(check_id: str, params: dict[str, object]) -> str | None:
    """A check's parameter in words; None when the label says it all."""
    limit = params.get("limit")
    if check_id == "household_limit" and isinstance(limit, int):
        return ngettext(
            "al massimo %(num)s permesso di questo tipo per nucleo familiare",
            "al massimo %(num)s permessi di questo tipo per nucleo familiare",
            limit,
        )
    if check_id == "daily_monthly_limit" and isinstance(limit, int):
        return ngettext(
            "al massimo %(num)s permesso giornaliero al mese per veicolo",
            "al massimo %(num)s permessi giornalieri al mese per veicolo",
            limit,
        )
    hours = params.get("hours")
    if check_id == "retroactive_window" and isinstance(hours, int):
        return ngettext(
            "anche dopo il transito, entro %(num)s ora",
            "anche dopo il transito, entro %(num)s ore",
            hours,
        )
    allowed = params.get("allowed")
    if check_id == "vehicle_category" and isinstance(allowed, list):
        return ", ".join(map(str, allowed))  # the categories of the registration certificate
    tied = params.get("to")
    if check_id == "vehicle_tied":
        return {
            "household": _("intestato al richiedente o a un componente del suo nucleo familiare"),
            "applicant": _("intestato al richiedente"),
            "firm": _("intestato all'impresa"),
        }.get(str(tied))
    return None


def decision_text(category: CategoryRules) -> str:
    """How an application of the category is decided."""
    if category.decided_by == "clerk":
        return _(
            "Decide un operatore dell'ufficio permessi, dopo aver esaminato la domanda, i "
            "controlli sui registri e i documenti allegati."
        )
    if category.decided_by == "automatic_if_registered":
        return _(
            "Se i dati risultano nei registri del Comune, il permesso è rilasciato "
            "automaticamente; altrimenti la domanda passa a un operatore dell'ufficio permessi."
        )
    return _(
        "Se tutti i controlli sui registri sono superati, il permesso è rilasciato "
        "automaticamente; se un controllo non si può concludere, decide un operatore "
        "dell'ufficio permessi."
    )


def decision_days_text(municipality: Municipality, language: str) -> str:
    """The office's term for a clerk's decision, in words; the statutory 30 days, said as such,
    when the rules file publishes none."""
    office = municipality.office
    if office is not None and office.decision_days is not None:
        return _(
            "L'ufficio decide entro %(days)s dalla domanda completa e pagata.",
            days=display.duration_text(f"P{office.decision_days}D", language),
        )
    return _(
        "L'ufficio non ha ancora pubblicato il proprio termine per decidere: vale quello di legge, "
        "%(days)s dalla domanda completa e pagata (legge 241/1990, art. 2).",
        days=display.duration_text(f"P{STATUTORY_DECISION_DAYS}D", language),
    )


def decision_time_text(
    municipality: Municipality, category: CategoryRules, language: str
) -> tuple[str, ...]:
    """How long the decision takes for this category, one sentence a line: a category decided
    automatically is decided at once, unless its application passes to the office."""
    term = decision_days_text(municipality, language)
    if category.decided_by == "clerk":
        return (term,)
    return (
        _(
            "Subito, se i controlli sono superati: appena registrato il pagamento, o all'invio "
            "della domanda se il permesso è gratuito."
        ),
        term,
    )


def appeal_text(municipality: Municipality, language: str) -> str:
    """Where and by when a negative decision can be challenged (legge 241/1990, art. 3, c. 4):
    the rules file's court and terms, or the regional court and the statutory terms."""
    appeal = municipality.office.appeal if municipality.office else None
    court_days = appeal.court_days if appeal else DEFAULT_COURT_APPEAL_DAYS
    president_days = appeal.president_days if appeal else DEFAULT_PRESIDENT_APPEAL_DAYS
    court = appeal.court if appeal else _("Tribunale amministrativo regionale competente")
    return _(
        "Contro la decisione è possibile presentare ricorso al giudice amministrativo (%(court)s) "
        "entro %(court_days)s dalla comunicazione, oppure ricorso straordinario al Presidente della "
        "Repubblica entro %(president_days)s.",
        court=court,
        court_days=display.duration_text(f"P{court_days}D", language),
        president_days=display.duration_text(f"P{president_days}D", language),
    )


def office_contact_lines(municipality: Municipality) -> list[str]:
    """The office's contact in a few lines for the foot of an e-mail; an empty list when the
    rules file publishes no office (the e-mail then names only the municipality)."""
    office = municipality.office
    if office is None:
        return []
    lines = [office.name, office.address]
    if office.phone:
        lines.append(_("Telefono: %(phone)s", phone=office.phone))
    lines.append(_("E-mail: %(email)s", email=office.email))
    if office.pec:
        lines.append(_("PEC: %(pec)s", pec=office.pec))
    return lines


@dataclass(frozen=True)
class Retention:
    """How long personal data is kept, in words, as the privacy notice states it (GDPR art.
    13(2)(a)); the periods are the rules file's [retention], which ztl.records and ztl.lookups
    apply."""

    records: str  # "10 anni"
    lookups: str  # "7 giorni"


def retention(municipality: Municipality, language: str) -> Retention:
    return Retention(
        records=display.duration_text(f"P{municipality.record_retention_years}Y", language),
        lookups=display.duration_text(f"P{municipality.lookup_retention_days}D", language)
        if municipality.lookup_retention_days
        else _("meno di un giorno"),
    )


def accessibility_contact(municipality: Municipality) -> str | None:
    """Where to report an accessibility problem: the office's own address for it, else the
    office's e-mail; None when no office is published."""
    office = municipality.office
    if office is None:
        return None
    return office.accessibility_email or office.email
