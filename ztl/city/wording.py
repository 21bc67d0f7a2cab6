"""A zone's calendar as a person reads it, in the page's (or the document's) language.

The calendar itself (ztl.rules.calendar) decides; this only words it: "lun–ven 07:30–20:00, esclusi
i festivi", "dal primo gio di aprile alla prima dom di ottobre: gio 23:00–03:00 (fino al mattino
dopo)". The public page, the police home page and the permit's holder part use it, so they say
what the enforcement index and the seal verifiers apply.
"""

from __future__ import annotations

from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ztl.rules.calendar import (
    CalendarEntry,
    DayBound,
    HolidayMode,
    ZoneCalendar,
    weekday_runs,
)
from ztl.rules.windows import EVERY_DAY

WEEKDAY_NAMES: tuple[Any, ...] = (
    _l("lun"),
    _l("mar"),
    _l("mer"),
    _l("gio"),
    _l("ven"),
    _l("sab"),
    _l("dom"),
)
MONTH_NAMES: tuple[Any, ...] = (
    _l("gennaio"),
    _l("febbraio"),
    _l("marzo"),
    _l("aprile"),
    _l("maggio"),
    _l("giugno"),
    _l("luglio"),
    _l("agosto"),
    _l("settembre"),
    _l("ottobre"),
    _l("novembre"),
    _l("dicembre"),
)
ORDINAL_NAMES: dict[int, Any] = {
    1: _l("primo"),
    2: _l("secondo"),
    3: _l("terzo"),
    4: _l("quarto"),
    -1: _l("ultimo"),
}


def calendar_lines(calendar: ZoneCalendar) -> list[str]:
    """One line per entry; ["sempre"] for a zone always active, ["mai"] for one never active."""
    if calendar.always:
        return [_("sempre")]
    return [entry_line(entry) for entry in calendar.entries] or [_("mai")]


def zone_condition(code: str, calendar: ZoneCalendar) -> tuple[str, str] | None:
    """The permit's condition for one zone, (Italian, English): when the zone is restricted, and
    that outside those hours no permit is needed; None for a zone restricted at every hour."""
    if calendar.always:
        return None
    sentences = []
    for language in ("it", "en"):
        with force_locale(language):
            hours = "; ".join(calendar_lines(calendar))
            sentences.append(
                _(
                    "Zona %(zone)s: accesso riservato %(hours)s; fuori da questi orari il "
                    "permesso non serve.",
                    zone=code,
                    hours=hours,
                )
            )
    return sentences[0], sentences[1]


def entry_line(entry: CalendarEntry) -> str:
    hours = ", ".join(_hours(w.start_minute, w.end_minute) for w in entry.hours)
    if any(w.crosses_midnight for w in entry.hours):
        hours += " " + _("(fino al mattino dopo)")
    if entry.holidays is HolidayMode.ONLY:
        line = _("festivi %(hours)s", hours=hours)
    elif entry.days == EVERY_DAY:
        line = _("tutti i giorni %(hours)s", hours=hours)
    else:
        line = f"{_days(entry.days)} {hours}"
    if entry.holidays is HolidayMode.OFF:
        line += ", " + _("esclusi i festivi")
    elif entry.holidays is HolidayMode.ALSO:
        line += ", " + _("e nei festivi")
    if entry.season is not None:
        line = _(
            "dal %(start)s al %(end)s: %(line)s",
            start=bound_text(entry.season.start),
            end=bound_text(entry.season.end),
            line=line,
        )
    return line


def bound_text(bound: DayBound) -> str:
    month = str(MONTH_NAMES[bound.month - 1])
    if not bound.ordinal:
        return f"{bound.day} {month}"
    return _(
        "%(ordinal)s %(weekday)s di %(month)s",
        ordinal=ORDINAL_NAMES[bound.ordinal],
        weekday=WEEKDAY_NAMES[bound.weekday],
        month=month,
    )


def _days(mask: int) -> str:
    return ", ".join(
        str(WEEKDAY_NAMES[a]) if a == b else f"{WEEKDAY_NAMES[a]}–{WEEKDAY_NAMES[b]}"
        for a, b in weekday_runs(mask)
    )


def _hours(start: int, end: int) -> str:
    return f"{start // 60:02d}:{start % 60:02d}–{end // 60:02d}:{end % 60:02d}"
