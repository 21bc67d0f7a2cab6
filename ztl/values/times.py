"""Dates and instants typed by people and machines: ISO 8601, and never a time without an offset."""

from __future__ import annotations

import datetime as dt

from ztl.values import InvalidValue


def parse_date(raw: str) -> dt.date:
    try:
        return dt.date.fromisoformat((raw or "").strip())
    except ValueError as exc:
        raise InvalidValue(f"data non valida / invalid date (YYYY-MM-DD): {raw!r}") from exc


# Instants outside these years are refused: a transit or a question about year 1 or 9999 is a typo
# or an attack, and at those edges the conversion to local time overflows the calendar.
MIN_YEAR, MAX_YEAR = 1900, 9998


def instant_in_range(value: dt.datetime) -> bool:
    """Whether an aware instant lies in the years the service reasons about (see MIN_YEAR)."""
    return MIN_YEAR <= value.year <= MAX_YEAR


def parse_instant(raw: str) -> dt.datetime:
    """An ISO 8601 date-time with an offset ("Z" or "+01:00"); a local time is refused, not guessed."""
    text = (raw or "").strip()
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidValue(f"ora non valida / invalid time (ISO 8601): {raw!r}") from exc
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidValue(
            f"ora senza fuso orario / time without an offset: {raw!r} (add Z or +01:00)"
        )
    if not instant_in_range(value):
        raise InvalidValue(
            f"ora fuori intervallo / time out of range (years {MIN_YEAR}-{MAX_YEAR}): {raw!r}"
        )
    return value


def from_local(value: dt.datetime, timezone: str) -> dt.datetime:
    """A wall-clock time typed in a form (the municipality's local time) as an aware instant.

    Forms show local time because people think in it; a time that does not exist (the hour skipped
    when DST starts) moves forward, an ambiguous one (the repeated hour) takes the first.
    """
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(timezone)
    local = value.replace(tzinfo=zone, fold=0)
    round_trip = local.astimezone(dt.UTC).astimezone(zone)
    if round_trip.replace(tzinfo=None) != value:  # in the gap: keep the instant zoneinfo chose
        return round_trip
    return local


def instant_text(value: dt.datetime) -> str:
    """An instant as machines read it everywhere in this system: UTC, ISO 8601, "Z" suffix.

    One writer for every API answer, CSV file and signed list, so the same instant is the same
    bytes whichever door it leaves by (the API and the CLI once wrote "+00:00" and "Z").
    Microseconds are kept when there are any (isoformat's rule).
    """
    if value.tzinfo is None:
        raise ValueError("an instant without an offset")
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
