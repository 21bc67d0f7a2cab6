"""What the registers say, as small frozen values the eligibility rules can take as facts.

Why not ORM objects: rules are pure Python (no SQLAlchemy, no session), facts must not change under
them or lazily load, and another adapter (a municipal web service) must be able to build the same
values without any table behind it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ztl.models.enums import (
    BusinessStatus,
    Fuel,
    Parity,
    ResidentStatus,
    VehicleStatus,
    VehicleUsage,
)


@dataclass(frozen=True)
class ResidentFact:
    """A person in the anagrafe; `person_key` is the codice fiscale without omocodia."""

    codice_fiscale: str
    person_key: str
    family_name: str
    given_name: str
    birth_date: dt.date
    street: str
    street_key: str
    house_number: str
    house_no: int
    household_id: str
    registered_since: dt.date
    status: ResidentStatus


@dataclass(frozen=True)
class VehicleFact:
    """A vehicle of the plate register.

    `owner_id` and `holder_id` are subject keys (ztl.values.fiscal.subject_key): a person's codice
    fiscale with omocodic letters turned back to digits, or a partita IVA as it is. Compare them with
    `subject_key(...)` of the other side, never with a raw codice fiscale.
    """

    plate: str
    category: str
    fuel: Fuel
    euro_class: int
    mass_kg: int | None
    owner_id: str
    holder_id: str | None
    usage: VehicleUsage
    status: VehicleStatus


@dataclass(frozen=True)
class StreetSegmentFact:
    """One stretch of a street (number range and parity) and its zone."""

    street: str
    street_key: str
    from_number: int
    to_number: int
    parity: Parity
    zone_code: str


@dataclass(frozen=True)
class AddressZone:
    """The answer to "which zone is this address in?", with the evidence rules show to a clerk.

    `segments` are every street segment the number falls in. Registers are not always clean: when
    segments of different zones overlap, `zone_code` is None and `ambiguous` is True, so a rule can
    ask for review instead of guessing; when none match, the address is outside every zone.
    """

    street_key: str
    house_no: int
    segments: tuple[StreetSegmentFact, ...]

    @property
    def zone_codes(self) -> tuple[str, ...]:
        return tuple(sorted({segment.zone_code for segment in self.segments}))

    @property
    def zone_code(self) -> str | None:
        codes = self.zone_codes
        return codes[0] if len(codes) == 1 else None

    @property
    def ambiguous(self) -> bool:
        return len(self.zone_codes) > 1


@dataclass(frozen=True)
class BadgeFact:
    """A disabled person's parking badge (CUDE); `holder_key` is the holder's person key."""

    badge_number: str
    holder_codice_fiscale: str
    holder_key: str
    valid_until: dt.date
    issuer: str


@dataclass(frozen=True)
class BusinessFact:
    """A firm of the business register and its seat."""

    partita_iva: str
    name: str
    street: str
    street_key: str
    house_number: str
    house_no: int
    status: BusinessStatus
    ateco: str | None = None  # main activity; None when the register did not say
