"""A municipality's rules as data: zones, categories, fees, limits, which checks apply and how.

Built from the municipality's TOML file by ztl.rules.loader; frozen so a verdict can never change
the rules it is decided by.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from ztl.rules.calendar import ZoneCalendar
from ztl.rules.windows import DailyWindow, local_time

DECIDERS = ("automatic", "automatic_if_registered", "clerk")
# Days a plate lookup keeps its plate when the rules file does not say ([retention] lookups_days).
DEFAULT_LOOKUP_RETENTION_DAYS = 7
# Years an ended permit or application keeps the person's data when the rules file does not say
# ([retention] records_years). Ten because Italian administrative records are commonly kept that
# long: the ordinary limitation period for claims (art. 2946 c.c.) and the conservation of
# accounting records (art. 2220 c.c.) are ten years, so an appeal, an audit or a recovery of fees
# can still need them; after that nothing justifies keeping who held the permit.
DEFAULT_RECORD_RETENTION_YEARS = 10


@dataclass(frozen=True)
class CheckSpec:
    """A check the rules file switches on for a category, with its parameters as the file gives
    them; what the check does and which parameters it takes is its declaration in
    ztl.rules.checks.CHECKS, against which the loader validated these."""

    check_id: str
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


GATE_DIRECTIONS = ("in", "out", "both")


@dataclass(frozen=True)
class ZoneRules:
    """A zone or sector and the calendar of its restrictions (outside it no permit is needed)."""

    code: str
    name: str
    calendar: ZoneCalendar


@dataclass(frozen=True)
class GateRules:
    """A camera gate (varco): where transits are read, and into which zone they lead."""

    code: str
    name: str
    zone: str
    direction: str  # in, out or both


@dataclass(frozen=True)
class PlateChangeLimit:
    """How often a permit's plate may be changed (`plate_changes` in the rules file).

    limit 0: never once the permit is valid (a daily or two-hour permit would otherwise serve a
    different car every hour); otherwise at most `limit` changes in any `per` (an ISO calendar
    duration) or, without `per`, over the permit's whole life; counted from the local date
    `since` on, before which no limit applies (a municipality announces a new limit in advance).
    """

    limit: int
    per: str | None = None
    since: dt.date | None = None


@dataclass(frozen=True)
class Booklet:
    """Registrations sold in advance (a hotel's booklet for its guests' plates), only to firms
    whose main activity (ATECO) starts with one of `ateco` and whose seat is in a zone of the
    category: a booklet is seven-day permits for any plate, not for any firm to hand out."""

    registrations: int
    fee_cents: int
    ateco: tuple[str, ...] = ()  # activity code prefixes ("55": accommodation); empty: any firm

    def sold_to(self, activity: str | None) -> bool:
        """Whether a firm of this main activity may buy one. ATECO codes narrow left to right
        (55 accommodation, 55.1 hotels, 55.10, 55.10.00), so a prefix is the group it names."""
        if not self.ateco:
            return True
        return activity is not None and any(activity.startswith(p) for p in self.ateco)


# How a vehicle outside the vehicle register (a foreign plate, an Italian one registered elsewhere)
# is decided, when the category admits one: on the applicant's declaration, or by a clerk.
UNREGISTERED_DECIDERS = ("declaration", "clerk")


@dataclass(frozen=True)
class UnregisteredVehicles:
    """`unregistered_vehicles` in the rules file: a visitor's car is in no register the city reads.

    "declaration": the applicant declares the vehicle's category, fuel and Euro class, the checks
    judge those as they would the register's (saying the data were declared), and the permit is
    issued at once; a false declaration is the applicant's responsibility. "clerk": the permit
    office decides within `within_hours` of the payment, which the applicant is told before paying,
    so a permit meant for today is not left waiting with no time given.
    """

    decided_by: str  # one of UNREGISTERED_DECIDERS
    within_hours: int | None = None  # "clerk" only: the office's promise

    @property
    def on_declaration(self) -> bool:
        return self.decided_by == "declaration"


@dataclass(frozen=True)
class CategoryRules:
    code: str
    name_it: str
    name_en: str
    zones: tuple[str, ...]
    windows: tuple[DailyWindow, ...]  # empty: always
    validity: tuple[str, ...]  # ISO 8601 durations offered, first is the default
    fees_cents: Mapping[str, int]  # by validity
    stamp_duty: bool
    decided_by: str
    max_plates: int
    documents: tuple[str, ...]
    checks: tuple[CheckSpec, ...]
    free_fuels: tuple[str, ...] = ()  # vehicles with these fuels pay no fee (e.g. electric)
    booklet: Booklet | None = None  # registrations are bought as booklets (hotel guests)
    plate_changes: PlateChangeLimit | None = None  # None: a plate may be changed at any time
    # None: a vehicle not in the register is refused (a foreign plate goes to the office, untimed)
    unregistered_vehicles: UnregisteredVehicles | None = None

    def check(self, check_id: str) -> CheckSpec | None:
        return next((c for c in self.checks if c.check_id == check_id), None)


# Statutory terms of an appeal against a negative decision, used when the rules file's
# [office.appeal] does not give its own: 60 days to the regional administrative court (d.lgs.
# 104/2010, art. 29), 120 days for the extraordinary appeal to the President of the Republic
# (d.P.R. 1199/1971, art. 9). Both run from when the person learns of the decision.
DEFAULT_COURT_APPEAL_DAYS = 60
DEFAULT_PRESIDENT_APPEAL_DAYS = 120
# Days a procedure may take when nobody set a term (legge 241/1990, art. 2, c. 2): what the pages
# say of a clerk's decision when [office] decision_days is absent.
STATUTORY_DECISION_DAYS = 30


@dataclass(frozen=True)
class Privacy:
    """Who answers for personal data (`[office.privacy]`): the data controller (titolare) and the
    data protection officer (DPO), as the privacy notice must name them (GDPR art. 13(1)(a-b))."""

    controller: str  # "Comune di Prato, Piazza del Comune 2, 59100 Prato"
    dpo_email: str
    controller_email: str | None = None  # the controller's contact, often the PEC
    dpo_name: str | None = None


@dataclass(frozen=True)
class Appeal:
    """Where a negative decision can be challenged (`[office.appeal]`), which every rejection or
    revocation must say (legge 241/1990, art. 3, c. 4)."""

    court: str  # "TAR Toscana"
    court_days: int = DEFAULT_COURT_APPEAL_DAYS
    president_days: int = DEFAULT_PRESIDENT_APPEAL_DAYS


@dataclass(frozen=True)
class Office:
    """The permits office as the public reaches it (`[office]`): footer, contacts page, e-mails,
    privacy notice and accessibility statement read it here, so a city's own file names its own
    office. Optional parts are None until the municipality publishes them."""

    name: str
    address: str
    email: str
    phone: str | None = None
    pec: str | None = None
    hours_it: str | None = None
    hours_en: str | None = None
    decision_days: int | None = None  # days a clerk takes to decide, from submission (or payment)
    accessibility_email: str | None = None  # feedback on accessibility; else `email`
    privacy: Privacy | None = None
    appeal: Appeal | None = None


REFUNDABLE = ("rejected", "withdrawn")


@dataclass(frozen=True)
class Payments:
    """`[payments]`: what the municipality's pagoPA notices say and when money goes back.

    `creditor_fiscal_code`: the municipality's 11-digit fiscal code, the creditor on every notice
    and in its QR code. `notice_days`: days from the notice to its expiry. `refund_on`: the ends of
    a paid application that give the money back ("rejected", "withdrawn"); what is refunded is the
    fee and the permit's stamp duty (the application's stamp duty paid for a filed application).
    `stamp_duty_province`: the province digital stamp duty is declared in (two letters).
    """

    creditor_fiscal_code: str
    notice_days: int = 30
    refund_on: frozenset[str] = frozenset({"rejected"})
    stamp_duty_province: str = ""


@dataclass(frozen=True)
class TransitRules:
    """`[transits]`: how the gates' readings are taken and followed up (ztl.transits).

    `future_seconds` and `late_hours`: how far ahead of the server's clock, and how long after the
    fact, a reading is still accepted (a gate's clock drifts; a gate that lost its network sends
    its backlog later); beyond them it is refused with that reason. `notify_days`: days after the
    transit within which a fine must be notified (art. 201 of the Codice della strada: 90 days
    for a driver resident in Italy). `silent_minutes`: a gate without readings for this long is an
    alarm in the situation room; `clock_alarm_seconds`: so is a gate whose readings arrive this
    far out of step with the server's clock. `retention_days`: days a dismissed violation, or a
    reading at an unknown gate, keeps its plate, and an authorized reading's row stays before it
    is folded into the hourly counts.
    """

    future_seconds: int = 300
    late_hours: int = 72
    notify_days: int = 90
    silent_minutes: int = 15
    clock_alarm_seconds: int = 120
    retention_days: int = DEFAULT_LOOKUP_RETENTION_DAYS


@dataclass(frozen=True)
class Municipality:
    code: str
    name: str
    timezone: str
    stamp_duty_cents: int  # on the application and again on the permit
    emission_floor: Mapping[str, int]  # fuel -> lowest Euro class admitted
    retroactive_hours: int
    zones: tuple[ZoneRules, ...]
    categories: tuple[CategoryRules, ...]
    # Plate lookups are anonymised this many days after the answer (a violation: after it is
    # closed); ztl.lookups.retention applies it.
    lookup_retention_days: int = DEFAULT_LOOKUP_RETENTION_DAYS
    # Ended permits and closed applications are anonymised this many years after their end;
    # ztl.records.retention applies it.
    record_retention_years: int = DEFAULT_RECORD_RETENTION_YEARS
    gates: tuple[GateRules, ...] = ()
    patron_saint: tuple[int, int] | None = None  # (month, day) of the city's own holiday
    office: Office | None = None  # [office]: None until the municipality publishes it
    payments: Payments | None = None  # [payments]: needed by the pagoPA provider
    transits: TransitRules = TransitRules()  # [transits]: the gates' readings (ztl.transits)

    def category(self, code: str) -> CategoryRules:
        for category in self.categories:
            if category.code == code:
                return category
        raise KeyError(f"unknown category {code!r}")

    def zone(self, code: str) -> ZoneRules:
        for zone in self.zones:
            if zone.code == code:
                return zone
        raise KeyError(f"unknown zone {code!r}")

    def zone_active(self, code: str, at: dt.datetime) -> bool:
        """Whether a zone's restrictions apply at an aware instant; a naive one is refused."""
        return self.zone(code).calendar.active_local(local_time(at, ZoneInfo(self.timezone)))
