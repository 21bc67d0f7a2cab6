"""Reading a municipality's rules file (TOML) into a Municipality, refusing anything doubtful.

A broken file (unknown check, window "25:00", missing fee, unknown zone) stops start-up with a
message that names the file, the line and the field, so the person who edited it can fix it.
tomllib gives no positions for values, so the line is found again in the text: the n-th
`[[categories]]` header, then the key inside that block.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ztl.rules.calendar import (
    CalendarEntry,
    CalendarError,
    HolidayMode,
    ZoneCalendar,
    entry_from_data,
    month_day,
)
from ztl.rules.checks import CHECKS
from ztl.rules.municipality import (
    DECIDERS,
    DEFAULT_COURT_APPEAL_DAYS,
    DEFAULT_LOOKUP_RETENTION_DAYS,
    DEFAULT_PRESIDENT_APPEAL_DAYS,
    DEFAULT_RECORD_RETENTION_YEARS,
    GATE_DIRECTIONS,
    REFUNDABLE,
    UNREGISTERED_DECIDERS,
    Appeal,
    Booklet,
    CategoryRules,
    CheckSpec,
    GateRules,
    Municipality,
    Office,
    Payments,
    PlateChangeLimit,
    Privacy,
    TransitRules,
    UnregisteredVehicles,
    ZoneRules,
)
from ztl.rules.registry import Param
from ztl.rules.windows import DailyWindow, WindowError, parse_window

DEFAULT_RULES = Path(__file__).parent / "municipalities" / "prato.toml"
_DURATION = re.compile(r"P(\d+[YMD])+|PT\d+H")


class RulesFileError(ValueError):
    """A rules file that cannot be used; str() names file, line and field."""

    def __init__(self, source: str, line: int | None, field: str, problem: str) -> None:
        where = f"{source}, line {line}" if line else source
        super().__init__(f"{where}, {field}: {problem}")
        self.source, self.line, self.field, self.problem = source, line, field, problem


class _Locator:
    """Finds the line of a field in the file's text (1-based), or the nearest header."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def find(
        self, table: str, index: int | None, *keys: str, sub: tuple[str, int] | None = None
    ) -> int | None:
        """The line of `keys` in the index-th `[[table]]` (or in its sub-th `[[table.name]]`)."""
        start, end = self._block(table, index)
        if start is None:
            return None
        if sub is not None:
            start, end = self._sub_block(f"[[{table}.{sub[0]}]]", sub[1], start, end)
            if start is None:
                return None
        line = start
        for key in keys:
            found = self._key_line(key, line, end)
            if found is None:
                return line + 1
            line = found
        return line + 1

    def _block(self, table: str, index: int | None) -> tuple[int | None, int]:
        header = f"[[{table}]]" if index is not None else f"[{table}]"
        seen = -1
        for number, raw in enumerate(self.lines):
            if _header(raw) == header:
                seen += 1
                if index is None or seen == index:
                    end = next(
                        (
                            n
                            for n in range(number + 1, len(self.lines))
                            if _header(self.lines[n]) == header
                        ),
                        len(self.lines),
                    )
                    return number, end
        return None, len(self.lines)

    def _sub_block(self, header: str, index: int, start: int, end: int) -> tuple[int | None, int]:
        found = [n for n in range(start, end) if _header(self.lines[n]) == header]
        if index >= len(found):
            return None, end
        stop = next(
            (n for n in range(found[index] + 1, end) if _header(self.lines[n]).startswith("[")),
            end,
        )
        return found[index], stop

    def _key_line(self, key: str, start: int, end: int) -> int | None:
        pattern = re.compile(rf"^\s*(\[[^\]]*\.)?{re.escape(key)}(\]|\s*=)")
        return next((n for n in range(start, end) if pattern.match(self.lines[n])), None)


def _header(line: str) -> str:
    """A line without its comment (`[emission_floor]   # ...` is the header `[emission_floor]`)."""
    return line.split("#", 1)[0].strip()


class _Reader:
    def __init__(self, source: str, text: str) -> None:
        self.source = source
        self.locate = _Locator(text)

    def fail(
        self,
        table: str,
        index: int | None,
        keys: tuple[str, ...],
        problem: str,
        sub: tuple[str, int] | None = None,
    ) -> RulesFileError:
        label = table + (f"[{index}]" if index is not None else "")
        if sub is not None:
            label += f".{sub[0]}[{sub[1]}]"
        field = ".".join((label, *keys)) if keys else label
        line = self.locate.find(table, index, *keys, sub=sub)
        return RulesFileError(self.source, line, field, problem)

    def take(
        self,
        data: Mapping[str, Any],
        key: str,
        kind: type | tuple[type, ...],
        table: str,
        index: int | None = None,
    ) -> Any:
        if key not in data:
            raise self.fail(table, index, (key,), "missing")
        value = data[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail(table, index, (key,), f"must be {_kind_name(kind)}, got {value!r}")
        return value

    def windows(self, texts: Any, table: str, index: int, key: str) -> tuple[DailyWindow, ...]:
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise self.fail(table, index, (key,), 'must be a list of "HH:MM-HH:MM"')
        try:
            return tuple(parse_window(t) for t in texts)
        except WindowError as exc:
            raise self.fail(table, index, (key,), str(exc)) from exc


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {
        int: "a whole number",
        str: "text",
        list: "a list",
        dict: "a table",
        bool: "true or false",
    }
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def load_rules(path: Path | None = None) -> Municipality:
    """Read and check a municipality's rules file (default: Prato's, shipped with the code)."""
    path = path or DEFAULT_RULES
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesFileError(str(path), None, "file", f"cannot be read: {exc}") from exc
    return parse_rules(text, str(path))


def parse_rules(text: str, source: str = "<rules>") -> Municipality:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise RulesFileError(
            source, int(match.group(1)) if match else None, "syntax", str(exc)
        ) from exc
    reader = _Reader(source, text)
    head = reader.take(data, "municipality", dict, "municipality")
    timezone = reader.take(head, "timezone", str, "municipality")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise reader.fail(
            "municipality", None, ("timezone",), f"unknown time zone {timezone!r}"
        ) from exc
    stamp = reader.take(head, "stamp_duty_cents", int, "municipality")
    retro = reader.take(head, "retroactive_hours", int, "municipality")
    floor = data.get("emission_floor", {})
    if not isinstance(floor, dict) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in floor.values()
    ):
        raise reader.fail("emission_floor", None, (), "must map a fuel to a Euro class (0-6)")
    patron = _patron_saint(reader, head)
    zones = _zones(reader, data, patron)
    zone_codes = {z.code for z in zones}
    gates = _gates(reader, data, zone_codes)
    categories = _categories(reader, data, zone_codes)
    lookup_days, record_years = _retention(reader, data)
    return Municipality(
        code=reader.take(head, "code", str, "municipality"),
        name=reader.take(head, "name", str, "municipality"),
        timezone=timezone,
        stamp_duty_cents=stamp,
        emission_floor=MappingProxyType(dict(floor)),
        retroactive_hours=retro,
        zones=zones,
        categories=categories,
        lookup_retention_days=lookup_days,
        record_retention_years=record_years,
        gates=gates,
        patron_saint=patron,
        office=_office(reader, data),
        payments=_payments(reader, data),
        transits=_transits(reader, data),
    )


def _patron_saint(reader: _Reader, head: Mapping[str, Any]) -> tuple[int, int] | None:
    """`patron_saint = "MM-DD"`: the city's own public holiday (San Giovanni in Firenze: 06-24)."""
    if "patron_saint" not in head:
        return None
    text = reader.take(head, "patron_saint", str, "municipality")
    try:
        return month_day(text)
    except CalendarError as exc:
        raise reader.fail("municipality", None, ("patron_saint",), str(exc)) from exc


PAYMENT_KEYS = ("creditor_fiscal_code", "notice_days", "refund_on", "stamp_duty_province")
MAX_NOTICE_DAYS = 365


def _payments(reader: _Reader, data: Mapping[str, Any]) -> Payments | None:
    """The `[payments]` table, or None when absent (the pagoPA provider then refuses to start).

    The creditor's fiscal code is checked for its check digit: a wrong one would print notices no
    bank accepts.
    """
    if "payments" not in data:
        return None
    raw = data["payments"]
    if not isinstance(raw, dict):
        raise reader.fail("payments", None, (), "must be a table: [payments]")
    _known_table_keys(reader, raw, "payments", PAYMENT_KEYS)
    code = reader.take(raw, "creditor_fiscal_code", str, "payments")
    if not fiscal_number_is_valid(code):
        raise reader.fail(
            "payments",
            None,
            ("creditor_fiscal_code",),
            f"{code!r} is not an 11-digit fiscal code with a valid check digit",
        )
    days = reader.take(raw, "notice_days", int, "payments") if "notice_days" in raw else 30
    if not 1 <= days <= MAX_NOTICE_DAYS:
        raise reader.fail(
            "payments", None, ("notice_days",), f"must be 1 to {MAX_NOTICE_DAYS} days, got {days}"
        )
    refund_on = raw.get("refund_on", ["rejected"])
    if not isinstance(refund_on, list) or not all(v in REFUNDABLE for v in refund_on):
        raise reader.fail(
            "payments",
            None,
            ("refund_on",),
            f"must be a list of {', '.join(repr(v) for v in REFUNDABLE)}",
        )
    province = raw.get("stamp_duty_province", "")
    if not isinstance(province, str) or not re.fullmatch(r"[A-Z]{2}", province):
        raise reader.fail(
            "payments", None, ("stamp_duty_province",), "must be a province's two capital letters"
        )
    return Payments(code, days, frozenset(refund_on), province)


def fiscal_number_is_valid(code: str) -> bool:
    """An 11-digit fiscal code (an entity's, like a partita IVA) with its check digit."""
    if len(code) != 11 or not code.isascii() or not code.isdigit():
        return False
    total = 0
    for index, char in enumerate(code[:10]):
        digit = int(char)
        if index % 2:
            digit *= 2
            digit -= 9 if digit > 9 else 0
        total += digit
    return (10 - total % 10) % 10 == int(code[10])


# [transits]: each setting with the range it may take (ztl.rules.municipality.TransitRules).
TRANSIT_LIMITS = {
    "future_seconds": (0, 3600),
    "late_hours": (1, 24 * 30),
    "notify_days": (1, 3650),
    "silent_minutes": (1, 24 * 60),
    "clock_alarm_seconds": (1, 24 * 3600),
    "retention_days": (0, 36_500),
}


def _transits(reader: _Reader, data: Mapping[str, Any]) -> TransitRules:
    """The `[transits]` table; every setting has a default, a misspelt one is refused."""
    raw = data.get("transits", {})
    if not isinstance(raw, dict):
        raise reader.fail("transits", None, (), "must be a table: [transits]")
    _known_table_keys(reader, raw, "transits", tuple(TRANSIT_LIMITS))
    values: dict[str, int] = {}
    for key, (lowest, highest) in TRANSIT_LIMITS.items():
        if key not in raw:
            continue
        value: int = reader.take(raw, key, int, "transits")
        if not lowest <= value <= highest:
            raise reader.fail(
                "transits", None, (key,), f"must be from {lowest} to {highest}, got {value}"
            )
        values[key] = value
    return TransitRules(**values)


RETENTION_KEYS = ("lookups_days", "records_years")
MAX_RETENTION_DAYS = 36_500  # a century: beyond it the date arithmetic overflows, not a policy
MAX_RETENTION_YEARS = 100  # the same century, counted in years


def _retention(reader: _Reader, data: Mapping[str, Any]) -> tuple[int, int]:
    """The `[retention]` table: (lookups_days, records_years), 7 and 10 when absent.

    `lookups_days`: days plate lookups keep their plate (0 or more). `records_years`: years an
    ended permit or closed application keeps the person's data (1 or more: 0 would anonymise a
    permit the day it ends, before any appeal against a revocation could be heard).
    A misspelt key is refused rather than ignored: a retention period silently left at its default
    is personal data kept longer (or shorter) than the municipality decided.
    """
    raw = data.get("retention", {})
    if not isinstance(raw, dict):
        raise reader.fail("retention", None, (), "must be a table: [retention]")
    for key in raw:
        if key not in RETENTION_KEYS:
            raise reader.fail(
                "retention",
                None,
                (key,),
                f"unknown setting {key!r}; known: {', '.join(RETENTION_KEYS)}",
            )
    days = _retention_number(
        reader, raw, "lookups_days", DEFAULT_LOOKUP_RETENTION_DAYS, 0, MAX_RETENTION_DAYS, "days"
    )
    years = _retention_number(
        reader,
        raw,
        "records_years",
        DEFAULT_RECORD_RETENTION_YEARS,
        1,
        MAX_RETENTION_YEARS,
        "years",
    )
    return days, years


def _retention_number(
    reader: _Reader,
    raw: Mapping[str, Any],
    key: str,
    default: int,
    lowest: int,
    highest: int,
    unit: str,
) -> int:
    if key not in raw:
        return default
    value: int = reader.take(raw, key, int, "retention")
    if not lowest <= value <= highest:
        raise reader.fail(
            "retention",
            None,
            (key,),
            f"must be a number of {unit} from {lowest} to {highest}, got {value}",
        )
    return value


OFFICE_KEYS = (
    "name",
    "address",
    "email",
    "phone",
    "pec",
    "hours_it",
    "hours_en",
    "decision_days",
    "accessibility_email",
    "privacy",
    "appeal",
)
PRIVACY_KEYS = ("controller", "controller_email", "dpo_name", "dpo_email")
APPEAL_KEYS = ("court", "court_days", "president_days")
MAX_DECISION_DAYS = 365  # longer than a year is no term an applicant can plan by
MAX_APPEAL_DAYS = 365
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"\+?[0-9][0-9 ./-]{4,24}")


def _office(reader: _Reader, data: Mapping[str, Any]) -> Office | None:
    """The `[office]` table (with `[office.privacy]` and `[office.appeal]`), or None when absent.

    Optional because a city can start before its office has published every detail: the pages
    then say so instead of inventing one. When present, name, address and e-mail are required (an
    office nobody can reach is no contact), the hours come in both languages or not at all, and a
    misspelt key is refused: a PEC silently dropped is an address nobody learns.
    """
    if "office" not in data:
        return None
    raw = data["office"]
    if not isinstance(raw, dict):
        raise reader.fail("office", None, (), "must be a table: [office]")
    _known_table_keys(reader, raw, "office", OFFICE_KEYS)
    text = _office_texts(reader, raw, "office", ("name", "address"), ("hours_it", "hours_en"))
    if ("hours_it" in text) != ("hours_en" in text):
        missing = "hours_en" if "hours_it" in text else "hours_it"
        raise reader.fail(
            "office", None, (missing,), "give the office hours in both languages, or neither"
        )
    emails = _office_emails(reader, raw, "office", ("email",), ("pec", "accessibility_email"))
    phone = _office_texts(reader, raw, "office", (), ("phone",)).get("phone")
    if phone is not None and not _PHONE.fullmatch(phone):
        raise reader.fail("office", None, ("phone",), f"{phone!r} is not a telephone number")
    return Office(
        name=text["name"],
        address=text["address"],
        email=emails["email"],
        phone=phone,
        pec=emails.get("pec"),
        hours_it=text.get("hours_it"),
        hours_en=text.get("hours_en"),
        decision_days=_office_days(reader, raw, "office", "decision_days", None, MAX_DECISION_DAYS),
        accessibility_email=emails.get("accessibility_email"),
        privacy=_privacy(reader, raw),
        appeal=_appeal(reader, raw),
    )


def _office_table(
    reader: _Reader, office: Mapping[str, Any], table: str, keys: tuple[str, ...]
) -> Mapping[str, Any] | None:
    """A sub-table of `[office]` ("office.privacy"), checked to be a table of known keys; None
    when the file leaves it out."""
    name = table.removeprefix("office.")
    if name not in office:
        return None
    raw = office[name]
    if not isinstance(raw, dict):
        raise reader.fail(table, None, (), f"must be a table: [{table}]")
    _known_table_keys(reader, raw, table, keys)
    return raw


def _privacy(reader: _Reader, office: Mapping[str, Any]) -> Privacy | None:
    """`[office.privacy]`: controller and DPO, both required by the privacy notice (GDPR art. 13)."""
    table = "office.privacy"
    raw = _office_table(reader, office, table, PRIVACY_KEYS)
    if raw is None:
        return None
    text = _office_texts(reader, raw, table, ("controller",), ("dpo_name",))
    emails = _office_emails(reader, raw, table, ("dpo_email",), ("controller_email",))
    return Privacy(
        controller=text["controller"],
        dpo_email=emails["dpo_email"],
        controller_email=emails.get("controller_email"),
        dpo_name=text.get("dpo_name"),
    )


def _appeal(reader: _Reader, office: Mapping[str, Any]) -> Appeal | None:
    """`[office.appeal]`: the court (required) and the terms, by default the statutory ones."""
    table = "office.appeal"
    raw = _office_table(reader, office, table, APPEAL_KEYS)
    if raw is None:
        return None
    court = _office_texts(reader, raw, table, ("court",), ())["court"]
    court_days = _office_days(reader, raw, table, "court_days", None, MAX_APPEAL_DAYS)
    president_days = _office_days(reader, raw, table, "president_days", None, MAX_APPEAL_DAYS)
    return Appeal(
        court,
        court_days or DEFAULT_COURT_APPEAL_DAYS,
        president_days or DEFAULT_PRESIDENT_APPEAL_DAYS,
    )


def _known_table_keys(
    reader: _Reader, raw: Mapping[str, Any], table: str, known: tuple[str, ...]
) -> None:
    for key in raw:
        if key not in known:
            raise reader.fail(
                table, None, (key,), f"unknown setting {key!r}; known: {', '.join(known)}"
            )


def _office_texts(
    reader: _Reader,
    raw: Mapping[str, Any],
    table: str,
    required: tuple[str, ...],
    optional: tuple[str, ...],
) -> dict[str, str]:
    """The text keys given, stripped; a required one missing or any one blank is refused."""
    found: dict[str, str] = {}
    for key in (*required, *optional):
        if key not in raw and key in optional:
            continue
        value = str(reader.take(raw, key, str, table)).strip()
        if not value:
            raise reader.fail(table, None, (key,), "must not be empty")
        found[key] = value
    return found


def _office_emails(
    reader: _Reader,
    raw: Mapping[str, Any],
    table: str,
    required: tuple[str, ...],
    optional: tuple[str, ...],
) -> dict[str, str]:
    found = _office_texts(reader, raw, table, required, optional)
    for key, value in found.items():
        if not _EMAIL.fullmatch(value):
            raise reader.fail(table, None, (key,), f"{value!r} is not an e-mail address")
    return found


def _office_days(
    reader: _Reader,
    raw: Mapping[str, Any],
    table: str,
    key: str,
    default: int | None,
    highest: int,
) -> int | None:
    if key not in raw:
        return default
    value: int = reader.take(raw, key, int, table)
    if not 1 <= value <= highest:
        raise reader.fail(
            table, None, (key,), f"must be a number of days from 1 to {highest}, got {value}"
        )
    return value


_CODE = re.compile(r"[A-Z0-9][A-Z0-9/_-]{0,9}")


def _known_keys(
    reader: _Reader, item: Mapping[str, Any], table: str, index: int, known: tuple[str, ...]
) -> None:
    """A misspelt key is refused, not ignored: a gate's `drection` silently left at its default
    would be a gate the cameras report differently from what the file says."""
    unknown = sorted(set(item) - set(known))
    if unknown:
        raise reader.fail(
            table, index, (unknown[0],), f"unknown key {unknown[0]!r}; keys: {', '.join(known)}"
        )


def _zones(
    reader: _Reader, data: Mapping[str, Any], patron: tuple[int, int] | None
) -> tuple[ZoneRules, ...]:
    raw = data.get("zones")
    if not isinstance(raw, list) or not raw:
        raise reader.fail("zones", None, (), "at least one [[zones]] table is needed")
    zones: list[ZoneRules] = []
    for i, item in enumerate(raw):
        _known_keys(reader, item, "zones", i, ("code", "name", "active", "calendar"))
        code = reader.take(item, "code", str, "zones", i)
        if not _CODE.fullmatch(code):
            raise reader.fail(
                "zones", i, ("code",), "1-10 capital letters or digits (A, B, ZTL1, F/S)"
            )
        if code in {z.code for z in zones}:
            raise reader.fail("zones", i, ("code",), f"zone {code!r} is defined twice")
        name = reader.take(item, "name", str, "zones", i)
        zones.append(ZoneRules(code, name, _calendar(reader, item, i, patron)))
    return tuple(zones)


def _calendar(
    reader: _Reader, item: Mapping[str, Any], index: int, patron: tuple[int, int] | None
) -> ZoneCalendar:
    """`active = [...]` (these hours every day) or `[[zones.calendar]]` entries, not both."""
    if ("active" in item) == ("calendar" in item):
        raise reader.fail(
            "zones",
            index,
            (),
            'give either active = ["HH:MM-HH:MM"] (every day) or [[zones.calendar]] entries',
        )
    if "active" in item:
        windows = reader.windows(item["active"], "zones", index, "active")
        if not windows:
            raise reader.fail(
                "zones", index, ("active",), 'no hours given: write ["00:00-24:00"] for always'
            )
        return ZoneCalendar((CalendarEntry(windows, holidays=HolidayMode.IGNORE),), patron)
    raw = item["calendar"]
    if not isinstance(raw, list) or not raw or not all(isinstance(e, dict) for e in raw):
        raise reader.fail("zones", index, ("calendar",), "write one or more [[zones.calendar]]")
    entries = []
    for n, entry in enumerate(raw):
        try:
            entries.append(entry_from_data(entry))
        except CalendarError as exc:
            keys = (exc.key,) if exc.key and exc.key != "calendar" else ()
            raise reader.fail("zones", index, keys, str(exc), sub=("calendar", n)) from exc
    return ZoneCalendar(tuple(entries), patron)


def _gates(reader: _Reader, data: Mapping[str, Any], zone_codes: set[str]) -> tuple[GateRules, ...]:
    """`[[gates]]`: optional (a city may check plates by zone only), each code once."""
    raw = data.get("gates", [])
    if not isinstance(raw, list):
        raise reader.fail("gates", None, (), "write one [[gates]] table per gate")
    gates: list[GateRules] = []
    for i, item in enumerate(raw):
        _known_keys(reader, item, "gates", i, ("code", "name", "zone", "direction"))
        code = reader.take(item, "code", str, "gates", i)
        if not _CODE.fullmatch(code):
            raise reader.fail("gates", i, ("code",), "1-10 capital letters or digits (A1, F03)")
        zone = reader.take(item, "zone", str, "gates", i)
        if zone not in zone_codes:
            raise reader.fail(
                "gates", i, ("zone",), f"unknown zone {zone!r}; zones: {sorted(zone_codes)}"
            )
        earlier = next((g for g in gates if g.code == code), None)
        if earlier is not None:
            raise reader.fail(
                "gates",
                i,
                ("code",),
                f"gate {code!r} is already a gate of zone {earlier.zone}: one code, one gate",
            )
        direction = item.get("direction", "in")
        if direction not in GATE_DIRECTIONS:
            raise reader.fail(
                "gates", i, ("direction",), f"must be one of {', '.join(GATE_DIRECTIONS)}"
            )
        gates.append(GateRules(code, reader.take(item, "name", str, "gates", i), zone, direction))
    return tuple(gates)


def _categories(
    reader: _Reader, data: Mapping[str, Any], zone_codes: set[str]
) -> tuple[CategoryRules, ...]:
    raw = data.get("categories")
    if not isinstance(raw, list) or not raw:
        raise reader.fail("categories", None, (), "at least one [[categories]] table is needed")
    categories: list[CategoryRules] = []
    for i, item in enumerate(raw):
        t = "categories"
        code = reader.take(item, "code", str, t, i)
        if code in {c.code for c in categories}:
            raise reader.fail(t, i, ("code",), f"category {code!r} is defined twice")
        zones = tuple(reader.take(item, "zones", list, t, i))
        for zone in zones:
            if zone not in zone_codes:
                raise reader.fail(
                    t, i, ("zones",), f"unknown zone {zone!r}; zones: {sorted(zone_codes)}"
                )
        validity = tuple(reader.take(item, "validity", list, t, i))
        for duration in validity:
            if not isinstance(duration, str) or not _DURATION.fullmatch(duration):
                raise reader.fail(
                    t, i, ("validity",), f"{duration!r} is not a duration like P1Y, P1D, PT2H"
                )
        fees = reader.take(item, "fees_cents", dict, t, i)
        for duration in validity:
            fee = fees.get(duration)
            if not isinstance(fee, int) or isinstance(fee, bool) or fee < 0:
                raise reader.fail(
                    t, i, ("fees_cents",), f"missing or invalid fee for validity {duration}"
                )
        decided_by = reader.take(item, "decided_by", str, t, i)
        if decided_by not in DECIDERS:
            raise reader.fail(t, i, ("decided_by",), f"must be one of {', '.join(DECIDERS)}")
        max_plates = reader.take(item, "max_plates", int, t, i)
        if max_plates < 1:
            raise reader.fail(t, i, ("max_plates",), "must be at least 1")
        booklet = _booklet(reader, item, i)
        plate_changes = _plate_changes(reader, item, i)
        unregistered = _unregistered_vehicles(reader, item, i, max_plates)
        categories.append(
            CategoryRules(
                code=code,
                name_it=reader.take(item, "name_it", str, t, i),
                name_en=reader.take(item, "name_en", str, t, i),
                zones=zones,
                windows=reader.windows(item.get("windows", []), t, i, "windows"),
                validity=validity,
                fees_cents=MappingProxyType({d: int(fees[d]) for d in validity}),
                stamp_duty=reader.take(item, "stamp_duty", bool, t, i),
                decided_by=decided_by,
                max_plates=max_plates,
                documents=tuple(str(d) for d in item.get("documents", [])),
                checks=_checks(reader, item, i),
                free_fuels=tuple(str(f) for f in item.get("free_fuels", [])),
                booklet=booklet,
                plate_changes=plate_changes,
                unregistered_vehicles=unregistered,
            )
        )
    return tuple(categories)


MAX_CLERK_HOURS = 72  # three days: beyond that a daily or two-hour permit has no sense waiting


def _unregistered_vehicles(
    reader: _Reader, item: Mapping[str, Any], index: int, max_plates: int
) -> UnregisteredVehicles | None:
    """`unregistered_vehicles = { decided_by = "declaration" }` or `{ decided_by = "clerk",
    within_hours = 4 }`: how a vehicle outside the register is decided; absent: refused.

    A declaration is one vehicle's data (the form asks for one), so it needs max_plates = 1, and
    names no owner, so it cannot pass vehicle_tied; a clerk's decision needs its time, which the
    applicant is told before paying.
    """
    if "unregistered_vehicles" not in item:
        return None
    raw = reader.take(item, "unregistered_vehicles", dict, "categories", index)
    keys = ("unregistered_vehicles",)
    unknown = sorted(set(raw) - {"decided_by", "within_hours"})
    if unknown:
        raise reader.fail(
            "categories", index, keys, f"unknown key {unknown[0]!r}; keys: decided_by, within_hours"
        )
    decided_by = raw.get("decided_by")
    if decided_by not in UNREGISTERED_DECIDERS:
        raise reader.fail(
            "categories",
            index,
            keys,
            f"decided_by must be one of {', '.join(UNREGISTERED_DECIDERS)}, got {decided_by!r}",
        )
    hours = raw.get("within_hours")
    if decided_by == "declaration":
        if hours is not None:
            raise reader.fail(
                "categories", index, keys, 'within_hours is for decided_by = "clerk" only'
            )
        if max_plates != 1:
            raise reader.fail(
                "categories",
                index,
                keys,
                "a declaration is one vehicle's data: it needs max_plates = 1",
            )
        if "vehicle_tied" in (item.get("checks") or {}):
            raise reader.fail(
                "categories",
                index,
                keys,
                "a declared vehicle is tied to nobody in a register: a category with "
                'vehicle_tied needs decided_by = "clerk"',
            )
        return UnregisteredVehicles("declaration")
    if not isinstance(hours, int) or isinstance(hours, bool) or not 1 <= hours <= MAX_CLERK_HOURS:
        raise reader.fail(
            "categories",
            index,
            keys,
            f"within_hours must be a whole number of hours from 1 to {MAX_CLERK_HOURS}, "
            f"got {hours!r}",
        )
    return UnregisteredVehicles("clerk", hours)


_CALENDAR_DURATION = re.compile(r"P(?!$)(\d+Y)?(\d+M)?(\d+D)?")


def _plate_changes(reader: _Reader, item: Mapping[str, Any], index: int) -> PlateChangeLimit | None:
    """`plate_changes = { limit = 3, per = "P1Y", from = "2027-01-01" }`; absent: no limit."""
    if "plate_changes" not in item:
        return None
    raw = reader.take(item, "plate_changes", dict, "categories", index)
    keys = ("plate_changes",)
    unknown = sorted(set(raw) - {"limit", "per", "from"})
    if unknown:
        raise reader.fail(
            "categories", index, keys, f"unknown key {unknown[0]!r}; keys: limit, per, from"
        )
    limit = raw.get("limit")
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise reader.fail("categories", index, keys, "limit must be a whole number >= 0")
    per = raw.get("per")
    if per is not None and (not isinstance(per, str) or not _CALENDAR_DURATION.fullmatch(per)):
        raise reader.fail(
            "categories", index, keys, f"per {per!r} is not a calendar duration like P1Y, P6M"
        )
    since = raw.get("from")
    if since is not None and (
        isinstance(since, dt.datetime) or not isinstance(since, dt.date | str)
    ):
        raise reader.fail("categories", index, keys, "from must be a date YYYY-MM-DD")
    if isinstance(since, str):
        try:
            since = dt.date.fromisoformat(since)
        except ValueError as exc:
            raise reader.fail(
                "categories", index, keys, f"from {since!r} is not a date YYYY-MM-DD"
            ) from exc
    return PlateChangeLimit(limit, per, since)


def _booklet(reader: _Reader, item: Mapping[str, Any], index: int) -> Booklet | None:
    """`booklet = { registrations = 40, fee_cents = 4500 }`: registrations sold in advance."""
    if "booklet" not in item:
        return None
    raw = reader.take(item, "booklet", dict, "categories", index)
    values = {}
    for key, lowest in (("registrations", 1), ("fee_cents", 0)):
        value = raw.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < lowest:
            raise reader.fail(
                "categories", index, ("booklet",), f"{key} must be a whole number >= {lowest}"
            )
        values[key] = value
    ateco = raw.get("ateco", [])
    if not isinstance(ateco, list) or not all(
        isinstance(a, str) and _ATECO_PREFIX.fullmatch(a) for a in ateco
    ):
        raise reader.fail(
            "categories",
            index,
            ("booklet",),
            'ateco must be a list of activity codes or their start, like ["55"] or ["55.10"]',
        )
    return Booklet(values["registrations"], values["fee_cents"], tuple(ateco))


_ATECO_PREFIX = re.compile(r"\d{2}(\.\d{1,2}){0,2}")


def _checks(reader: _Reader, item: Mapping[str, Any], index: int) -> tuple[CheckSpec, ...]:
    """`[categories.checks]`: registered checks only, each with the parameters it declares."""
    raw = reader.take(item, "checks", dict, "categories", index)
    specs = []
    for check_id, params in raw.items():
        keys = ("checks", check_id)
        if check_id not in CHECKS:
            known = ", ".join(CHECKS.ids())
            raise reader.fail(
                "categories", index, keys, f"unknown check {check_id!r}; known: {known}"
            )
        if not isinstance(params, dict):
            raise reader.fail("categories", index, keys, "parameters must be a table, {} for none")
        problem = _parameter_problem(CHECKS[check_id].params, params)
        if problem is not None:
            raise reader.fail("categories", index, keys, problem)
        specs.append(CheckSpec(check_id, MappingProxyType(dict(params))))
    return tuple(specs)


def _parameter_problem(declared: tuple[Param, ...], params: Mapping[str, Any]) -> str | None:
    """What is wrong with a check's parameters against its declaration, or None: unknown names
    and wrong types first, then missing ones, then values outside the declared choices."""
    expected = {param.name: param for param in declared}
    for name, value in params.items():
        param = expected.get(name)
        if param is None:
            return f"unknown parameter {name!r}"
        kind = param.kind
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            return f"{name} must be {_kind_name(kind)}"
    missing = set(expected) - set(params)
    if missing:
        return f"missing parameter(s): {', '.join(sorted(missing))}"
    for param in declared:
        if param.choices and params[param.name] not in param.choices:
            return f"{param.name} must be one of {', '.join(param.choices)}"
    return None
