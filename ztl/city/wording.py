"""A zone's calendar as a person reads it, in the page's (or the document's) language.

The calendar itself (ztl.rules.calendar) decides; this only words it: "lun–ven 07:30–20:00, esclusi
i festivi", "primo giovedì di aprile – prima domenica di ottobre: gio 23:00–03:00 (fino al mattino
dopo)". The public page, the police home page and the permit's holder part use it, so they say
what the enforcement index and the seal verifiers apply.
"""

from __future__ import annotations

from typing import Any

from flask_babel import force_locale, ngettext
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
WEEKDAY_FULL_NAMES: tuple[Any, ...] = (
    _l("lunedì"),
    _l("martedì"),
    _l("mercoledì"),
    _l("giovedì"),
    _l("venerdì"),
    _l("sabato"),
    _l("domenica"),
)
# Italian ordinals agree with the weekday: "primo giovedì", "prima domenica" (Sunday is feminine).
ORDINAL_NAMES: dict[int, Any] = {
    1: _l("primo"),
    2: _l("secondo"),
    3: _l("terzo"),
    4: _l("quarto"),
    -1: _l("ultimo"),
}
FEMININE_ORDINAL_NAMES: dict[int, Any] = {
    1: _l("prima"),
    2: _l("seconda"),
    3: _l("terza"),
    4: _l("quarta"),
    -1: _l("ultima"),
}
SUNDAY = 6


def calendar_lines(calendar: ZoneCalendar) -> list[str]:
    """One line per season and holiday rule; ["sempre"] for a zone always active, ["mai"] for one
    never active. Consecutive entries that share both are one line ("lun–ven 07:30–20:00, sab
    07:30–16:00, esclusi i festivi"), so a city's calendar reads as its signs do."""
    if calendar.always:
        return [_("sempre")]
    groups: list[list[CalendarEntry]] = []
    for entry in calendar.entries:
        if groups and (groups[-1][0].season, groups[-1][0].holidays) == (
            entry.season,
            entry.holidays,
        ):
            groups[-1].append(entry)
        else:
            groups.append([entry])
    return [group_line(group) for group in groups] or [_("mai")]


def zone_condition(codes: list[str], calendar: ZoneCalendar) -> tuple[str, str] | None:
    """The permit's condition for zones sharing one calendar, (Italian, English): when they are
    restricted, and that outside those hours no permit is needed; None for zones restricted at
    every hour (the permit's own hours say it all)."""
    if calendar.always:
        return None
    sentences = []
    for language in ("it", "en"):
        with force_locale(language):
            hours = "; ".join(calendar_lines(calendar))
            sentences.append(
                ngettext(
                    "Zona %(zones)s: accesso riservato %(hours)s; fuori da questi orari il "
                    "permesso non serve.",
                    "Zone %(zones)s: accesso riservato %(hours)s; fuori da questi orari il "
                    "permesso non serve.",
                    len(codes),
                    zones=", ".join(codes),
                    hours=hours,
                )
            )
    return sentences[0], sentences[1]


def group_line(entries: list[CalendarEntry]) -> str:
    """Entries with the same season and holiday rule, worded as one line."""
    first = entries[0]
    line = ", ".join(_days_and_hours(entry) for entry in entries)
    if any(w.crosses_midnight for entry in entries for w in entry.hours):
        line += " " + _("(fino al mattino dopo)")
    if first.holidays is HolidayMode.OFF:
        line += ", " + _("esclusi i festivi")
    elif first.holidays is HolidayMode.ALSO:
        line += ", " + _("e nei festivi")
    if first.season is not None:
        # "start – end: hours": no preposition to agree with the bound ("dal 1", "dalla prima").
        line = f"{bound_text(first.season.start)} – {bound_text(first.season.end)}: {line}"
    return line


def _days_and_hours(entry: CalendarEntry) -> str:
    hours = ", ".join(_hours(w.start_minute, w.end_minute) for w in entry.hours)
    if entry.holidays is HolidayMode.ONLY:
        return _("festivi %(hours)s", hours=hours)
    if entry.days == EVERY_DAY:
        return _("tutti i giorni %(hours)s", hours=hours)
    return f"{_days(entry.days)} {hours}"


def bound_text(bound: DayBound) -> str:
    month = str(MONTH_NAMES[bound.month - 1])
    if not bound.ordinal:
        return f"{bound.day} {month}"
    ordinals = FEMININE_ORDINAL_NAMES if bound.weekday == SUNDAY else ORDINAL_NAMES
    return _(
        "%(ordinal)s %(weekday)s di %(month)s",
        ordinal=ordinals[bound.ordinal],
        weekday=WEEKDAY_FULL_NAMES[bound.weekday],
        month=month,
    )


def _days(mask: int) -> str:
    return ", ".join(
        str(WEEKDAY_NAMES[a]) if a == b else f"{WEEKDAY_NAMES[a]}–{WEEKDAY_NAMES[b]}"
        for a, b in weekday_runs(mask)
    )


def _hours(start: int, end: int) -> str:
    return f"{start // 60:02d}:{start % 60:02d}–{end // 60:02d}:{end % 60:02d}"
