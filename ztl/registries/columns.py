"""Parsers for the values of registry file columns: each takes the stripped text of one cell.

A parser returns the value to store or raises InvalidValue whose message names the problem for the
bad-rows report. Lengths are checked here to the column sizes of the tables, so SQLite (which does
not enforce them) and PostgreSQL (which does) accept and refuse exactly the same rows.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from enum import StrEnum
from functools import lru_cache
from typing import Any

from ztl.values import InvalidValue
from ztl.values.fiscal import (
    is_valid_normal_codice_fiscale,
    parse_codice_fiscale,
    parse_partita_iva,
    parse_subject_id,
    person_key,
    subject_key,
)
from ztl.values.plates import parse_italian_plate

Parser = Callable[[str], Any]

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_INTEGER = re.compile(r"[+-]?\d{1,9}")
# EU vehicle categories (Directive 2007/46, Reg. 168/2013 and 167/2013): M, N with an off-road G,
# trailers O, tractors T, two- and three-wheelers L1e..L7e.
_CATEGORY = re.compile(r"(?:([MN])([1-3])(G?)|(O)([1-4])()|(T)([1-5])()|(L)([1-7])(E?))")


def _shown(raw: str) -> str:
    """The cell as quoted in a reason, cut short so one bad cell cannot flood the report."""
    return repr(raw if len(raw) <= 40 else raw[:40] + "…")


def text(max_length: int) -> Parser:
    """Required free text up to max_length characters, on one line (it is shown on permits)."""

    def parse(raw: str) -> str:
        if not raw:
            raise InvalidValue("valore mancante / value missing")
        if len(raw) > max_length:
            raise InvalidValue(
                f"troppo lungo / too long: {len(raw)} characters, at most {max_length}"
            )
        if not raw.isprintable():
            raise InvalidValue(
                f"caratteri di controllo / control characters (line breaks, tabs): {_shown(raw)}"
            )
        return raw

    return parse


def optional(parser: Parser) -> Parser:
    """An empty cell is None (NULL); anything else must satisfy parser."""

    def parse(raw: str) -> Any:
        return parser(raw) if raw else None

    return parse


def iso_date(raw: str) -> dt.date:
    """A calendar date written YYYY-MM-DD (and nothing else: 01/02/2024 is ambiguous)."""
    if not _DATE.fullmatch(raw):
        raise InvalidValue(
            f"data non valida (AAAA-MM-GG) / invalid date (YYYY-MM-DD): {_shown(raw)}"
        )
    try:
        return dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise InvalidValue(f"data inesistente / no such date: {_shown(raw)}") from exc


def integer(low: int, high: int) -> Parser:
    """A whole number in [low, high] (ASCII digits: int() alone would take "1_000" or "٣")."""

    def parse(raw: str) -> int:
        if not (raw.isascii() and (raw.isdigit() or _INTEGER.fullmatch(raw))) or len(raw) > 10:
            raise InvalidValue(f"numero intero non valido / not a whole number: {_shown(raw)}")
        value = int(raw)
        if not low <= value <= high:
            raise InvalidValue(f"fuori intervallo / out of range {low}..{high}: {value}")
        return value

    return parse


def choice(enum: type[StrEnum]) -> Parser:
    """One of an enum's values, case-insensitive; stored as the enum's (lower-case) value."""
    values = {member.value.lower(): member.value for member in enum}
    allowed = ", ".join(member.value for member in enum)

    def parse(raw: str) -> str:
        value = values.get(raw.lower())
        if value is None:
            raise InvalidValue(f"valore non ammesso / not one of {allowed}: {_shown(raw)}")
        return value

    return parse


def plate(raw: str) -> str:
    """An Italian plate, normalised (upper case, no spaces or dashes)."""
    return parse_italian_plate(raw)


def codice_fiscale(raw: str) -> str:
    """A valid personal codice fiscale (omocodic variants are valid), upper case."""
    if is_valid_normal_codice_fiscale(raw):
        return raw
    return parse_codice_fiscale(raw)


def codici_fiscali(max_items: int) -> Parser:
    """Codici fiscali separated by ";" (an empty cell: none), as ((person_key, codice fiscale),
    ...): each one valid, a person named twice (in any omocodic variant) counted once."""

    def parse(raw: str) -> tuple[tuple[str, str], ...]:
        parts = [part.strip() for part in raw.split(";")]
        found: dict[str, str] = {}
        bad: list[str] = []
        for part in parts:
            if not part:
                continue
            try:
                value = codice_fiscale(part.upper())
            except InvalidValue:
                bad.append(_shown(part))
                continue
            found.setdefault(person_key(value), value)
        if bad:
            raise InvalidValue(
                "codice fiscale non valido / invalid codice fiscale: " + ", ".join(bad[:5])
            )
        if len(found) > max_items:
            raise InvalidValue(f"troppi / too many: {len(found)}, at most {max_items}")
        return tuple(found.items())

    return parse


_ATECO = re.compile(r"\d{2}(\.\d{1,2}){0,2}")


def ateco(raw: str) -> str:
    """An ATECO activity code, as the chamber of commerce writes it: 55, 55.1, 55.10, 55.10.00."""
    if not _ATECO.fullmatch(raw):
        raise InvalidValue(f"codice ATECO non valido / not an ATECO code (55.10): {_shown(raw)}")
    return raw


def partita_iva(raw: str) -> str:
    """A valid partita IVA (11 digits, check digit verified)."""
    return parse_partita_iva(raw)


@lru_cache(maxsize=1 << 16)
def subject(raw: str) -> str:
    """A codice fiscale or partita IVA, stored as its subject key (omocodia undone).

    Why the key and not the text: a vehicle register names a person under any omocodic variant of
    their codice fiscale; storing the canonical key lets every lookup find them with one index hit.
    Cached: owners recur (families, fleets, leasing firms) and the check dominates the cost of a
    vehicle row; failures raise and are not cached, so the cache holds only valid ids.
    """
    if is_valid_normal_codice_fiscale(raw):
        return person_key(raw)
    return subject_key(parse_subject_id(raw))


@lru_cache(maxsize=256)
def vehicle_category(raw: str) -> str:
    """An EU vehicle category (M1, N1G, O2, T1, L3e...), written the usual way.

    Cached: a handful of values repeat on every row; failures raise and are not cached.
    """
    match = _CATEGORY.fullmatch(raw.upper().replace(" ", ""))
    if not match:
        raise InvalidValue(
            f"categoria non valida / not a vehicle category (M1, N1, L3e, ...): {_shown(raw)}"
        )
    letter, number, suffix = (part for part in match.groups() if part is not None)
    return f"{letter}{number}{suffix.lower() if letter == 'L' else suffix}"


def known_code(codes: Mapping[str, str], name_it: str, name_en: str) -> Parser:
    """A code that must exist (case-insensitive), stored as spelled in `codes`' values."""
    known = {key.upper(): value for key, value in codes.items()}
    names = sorted(known.values())
    listed = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "") if names else "none"

    def parse(raw: str) -> str:
        if not raw:
            raise InvalidValue("valore mancante / value missing")
        value = known.get(raw.upper())
        if value is None:
            raise InvalidValue(
                f"{name_it} sconosciuta / unknown {name_en}: {_shown(raw)} (known: {listed})"
            )
        return value

    return parse
