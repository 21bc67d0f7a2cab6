"""How dates, a permit's validity, durations, amounts and file sizes are written for people.

The one place these decisions live, so that a permit's end reads the same on its page, the
dashboard, the e-mails, the PDF, the police pages and `ztl verify`. Pure (no Flask): the PDF is
rendered in worker processes, and the CLI and the mail job have no request; the caller passes the
language ("it" or "en") and the municipality's time zone.

The decisions (README, "Dates, validity, durations and amounts"):
- instants are stored in UTC and shown on the municipality's wall clock (DST included);
- dates are dd/mm/yyyy and times 24-hour HH:MM in both languages (a date never puts the month
  first, and a year is never two digits);
- a permit's end is exclusive in storage (the midnight after its last day); a period ending at
  local midnight is written as its last day, inclusive ("fino al 02/12/2026 compreso"), any other
  end with its time ("fino al 02/12/2026 alle 11:00");
- durations in words ("1 anno", "2 ore"), never ISO 8601 codes;
- amounts as "€ 1.234,50" in both languages: the same figure as the PDF (which is bilingual) and
  the payment notice, whatever the page's language;
- file sizes in MB or KB (1 MB = 1,048,576 bytes), with the language's decimal mark.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

_PHRASES = {
    "it": {
        "inclusive": "{date} compreso",
        "at": "{date} alle {time}",
        "until": "fino al {end}",
        "range": "dal {start} al {end}",
    },
    "en": {
        "inclusive": "{date} inclusive",
        "at": "{date} at {time}",
        "until": "until {end}",
        "range": "from {start} to {end}",
    },
}
_UNITS = {
    "it": {
        "year": ("1 anno", "{n} anni"),
        "month": ("1 mese", "{n} mesi"),
        "week": ("1 settimana", "{n} settimane"),
        "day": ("1 giorno", "{n} giorni"),
        "hour": ("1 ora", "{n} ore"),
        "minute": ("1 minuto", "{n} minuti"),
    },
    "en": {
        "year": ("1 year", "{n} years"),
        "month": ("1 month", "{n} months"),
        "week": ("1 week", "{n} weeks"),
        "day": ("1 day", "{n} days"),
        "hour": ("1 hour", "{n} hours"),
        "minute": ("1 minute", "{n} minutes"),
    },
}

_DURATION = re.compile(
    r"P(?:(?P<year>\d+)Y)?(?:(?P<month>\d+)M)?(?:(?P<week>\d+)W)?(?:(?P<day>\d+)D)?"
    r"(?:T(?:(?P<hour>\d+)H)?(?:(?P<minute>\d+)M)?)?"
)


def _words(language: str) -> dict[str, str]:
    return _PHRASES.get(language, _PHRASES["it"])


def validity_phrases(language: str) -> dict[str, str]:
    """The words of a validity in a language, for the offline seal verifier's script
    (static/js/seal/display.js), which does the same arithmetic and must say the same words."""
    return dict(_words(language))


def _zone(tz: str | ZoneInfo) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)


def local(value: dt.datetime, tz: str | ZoneInfo) -> dt.datetime:
    """An instant on the municipality's wall clock; a naive value is taken as UTC (storage)."""
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(_zone(tz))


def date_text(value: dt.date | dt.datetime, tz: str | ZoneInfo | None = None) -> str:
    """ "02/12/2026"; an instant is first put on the wall clock of tz (required for an instant)."""
    if isinstance(value, dt.datetime):
        if tz is None:
            raise ValueError("an instant needs the time zone it is shown in")
        value = local(value, tz)
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


def time_text(value: dt.datetime, tz: str | ZoneInfo) -> str:
    """ "09:05" on the wall clock of tz (24-hour)."""
    moment = local(value, tz)
    return f"{moment.hour:02d}:{moment.minute:02d}"


def datetime_text(value: dt.datetime, tz: str | ZoneInfo) -> str:
    """ "02/12/2026 09:05": date and 24-hour time on the wall clock of tz."""
    return f"{date_text(value, tz)} {time_text(value, tz)}"


def at_midnight(valid_to: dt.datetime, tz: str | ZoneInfo) -> bool:
    moment = local(valid_to, tz)
    return (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0)


def last_day(valid_to: dt.datetime, tz: str | ZoneInfo) -> dt.date:
    """The last local day a period covers: its end is exclusive (the midnight after that day)."""
    return (local(valid_to, tz) - dt.timedelta(microseconds=1)).date()


def validity_start_text(valid_from: dt.datetime, tz: str | ZoneInfo, language: str) -> str:
    """A permit's start after "valido dal": "02/12/2026" from local midnight, "02/12/2026 alle
    09:00" otherwise."""
    if at_midnight(valid_from, tz):
        return date_text(valid_from, tz)
    return _words(language)["at"].format(
        date=date_text(valid_from, tz), time=time_text(valid_from, tz)
    )


def validity_end_text(valid_to: dt.datetime, tz: str | ZoneInfo, language: str) -> str:
    """A permit's end as it follows "valido fino al" / "valid until": "02/12/2026 compreso" for a
    period ending at local midnight (its last day), "02/12/2026 alle 11:00" otherwise."""
    words = _words(language)
    if at_midnight(valid_to, tz):
        return words["inclusive"].format(date=date_text(last_day(valid_to, tz)))
    return words["at"].format(date=date_text(valid_to, tz), time=time_text(valid_to, tz))


def validity_start_both(valid_from: dt.datetime, tz: str | ZoneInfo) -> str:
    """The start on a document in both languages (the PDF): "02/12/2026", "02/12/2026 09:00"."""
    if at_midnight(valid_from, tz):
        return date_text(valid_from, tz)
    return datetime_text(valid_from, tz)


def validity_end_both(valid_to: dt.datetime, tz: str | ZoneInfo) -> str:
    """The end on a document in both languages (the PDF): "02/12/2026 (compreso · inclusive)"
    for an end at local midnight, "02/12/2026 11:00" otherwise."""
    if at_midnight(valid_to, tz):
        return f"{date_text(last_day(valid_to, tz))} (compreso · inclusive)"
    return datetime_text(valid_to, tz)


def validity_until_text(valid_to: dt.datetime, tz: str | ZoneInfo, language: str) -> str:
    """ "fino al 02/12/2026 compreso" / "until 02/12/2026 inclusive"."""
    return _words(language)["until"].format(end=validity_end_text(valid_to, tz, language))


def validity_text(
    valid_from: dt.datetime, valid_to: dt.datetime, tz: str | ZoneInfo, language: str
) -> str:
    """The whole period: "dal 02/12/2026 al 02/12/2026 compreso", "dal 02/12/2026 alle 09:00 al
    02/12/2026 alle 11:00" / "from 02/12/2026 to 02/12/2026 inclusive"."""
    return _words(language)["range"].format(
        start=validity_start_text(valid_from, tz, language),
        end=validity_end_text(valid_to, tz, language),
    )


def duration_text(duration: str, language: str) -> str:
    """ "P1Y" -> "1 anno" / "1 year", "PT2H" -> "2 ore" / "2 hours", "P1Y6M" -> "1 anno, 6 mesi";
    a form not understood is shown as written."""
    match = _DURATION.fullmatch(duration or "")
    if not match or not any(match.groupdict().values()) or duration.endswith("T"):
        return duration
    units = _UNITS.get(language, _UNITS["it"])
    parts = []
    for unit, amount in match.groupdict().items():
        if amount and int(amount):
            one, many = units[unit]
            parts.append(one if int(amount) == 1 else many.format(n=int(amount)))
    return ", ".join(parts) if parts else duration


def money_text(cents: int) -> str:
    """Integer cents as euros: "€ 1.234,50", the same in both languages (see the module's doc)."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}€ {whole:,}".replace(",", ".") + f",{rest:02d}"


_KB, _MB = 1024, 1024 * 1024


def size_text(size: int, language: str) -> str:
    """ "5 MB", "2,5 MB" / "2.5 MB", "120 KB" (rounded up: a size is never understated)."""
    if size >= _MB:
        tenths = -(-size * 10 // _MB)
        text = f"{tenths // 10}" if tenths % 10 == 0 else f"{tenths / 10:.1f}"
        unit = "MB"
    else:
        text, unit = f"{max(1, -(-size // _KB))}", "KB"
    if language != "en":
        text = text.replace(".", ",")
    return f"{text} {unit}"
