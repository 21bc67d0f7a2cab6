"""The facts a verdict is decided on: plain frozen dataclasses filled by services from the registers.

Identifiers arrive already normalised and compared by their canonical key (omocodia undone), so the
rules compare strings and never parse. Every fact a check uses is echoed in its evidence.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ApplicantFacts:
    subject_id: str  # codice fiscale or partita IVA, as given
    subject_key: str  # canonical: omocodia undone
    id_valid: bool
    is_firm: bool = False


@dataclass(frozen=True)
class ResidenceFacts:
    """What the anagrafe says about the applicant (absent: not registered in this municipality)."""

    status: str  # resident, emigrated, deceased
    street: str
    house_number: str
    zone_codes: tuple[str, ...]  # zones of the address by the street register
    household_id: str
    household_keys: tuple[str, ...] = ()  # canonical codici fiscali of the household


@dataclass(frozen=True)
class VehicleFacts:
    """A vehicle as the register gives it (`found`), or, for a vehicle outside the register whose
    category admits declarations, as the applicant declared it (`declared`: category, fuel, Euro
    class and "in circulation" are the applicant's word, and every check that reads them says so).
    """

    plate: str
    country: str = "IT"
    found: bool = False
    category: str = ""
    fuel: str = ""
    euro_class: int | None = None
    owner_key: str = ""
    holder_key: str = ""
    usage: str = ""
    status: str = ""
    declared: bool = False

    @property
    def described(self) -> bool:
        """Whether there are data to judge: the register's or the applicant's declaration."""
        return (self.country == "IT" and self.found) or self.declared


@dataclass(frozen=True)
class BadgeFacts:
    badge_number: str
    holder_key: str
    valid_until: dt.date


@dataclass(frozen=True)
class BusinessFacts:
    partita_iva: str
    status: str
    zone_codes: tuple[str, ...]


@dataclass(frozen=True)
class PermitHistory:
    """What the system already issued that limits a new permit."""

    household_active_permits: int = 0
    # plates that already hold an active permit of the requested category
    plates_with_active_permit: tuple[str, ...] = ()
    # daily permits per plate in the calendar month of the requested day
    daily_permits_in_month: tuple[tuple[str, int], ...] = field(default_factory=tuple)

    def daily_count(self, plate: str) -> int:
        return dict(self.daily_permits_in_month).get(plate, 0)


@dataclass(frozen=True)
class ApplicationFacts:
    """Everything one verdict needs; `at` is when the question is asked (aware), never the clock."""

    category: str
    at: dt.datetime
    valid_from: dt.date
    zones: tuple[str, ...]
    applicant: ApplicantFacts
    vehicles: tuple[VehicleFacts, ...] = ()
    residence: ResidenceFacts | None = None
    badges: tuple[BadgeFacts, ...] = ()
    business: BusinessFacts | None = None
    history: PermitHistory = field(default_factory=PermitHistory)
    documents: tuple[str, ...] = ()
    transit_at: dt.datetime | None = None
