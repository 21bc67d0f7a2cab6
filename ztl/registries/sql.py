"""The default registry adapter: reads the tables the CSV imports fill (ztl.models.registers).

Why lookups go by the stored normalised keys (person_key, plate, street_key, holder_key): the importer
normalises once, so every lookup here is an exact hit on an index, whatever variant was typed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session, scoped_session

from ztl.models import Badge, Business, BusinessRepresentative, Resident, StreetSegment, Vehicle
from ztl.models.enums import (
    BusinessStatus,
    Fuel,
    Parity,
    ResidentStatus,
    VehicleStatus,
    VehicleUsage,
)
from ztl.registries.facts import (
    AddressZone,
    BadgeFact,
    BusinessFact,
    ResidentFact,
    StreetSegmentFact,
    VehicleFact,
)
from ztl.values.fiscal import (
    parse_codice_fiscale,
    parse_partita_iva,
    parse_subject_id,
    person_key,
    subject_key,
)
from ztl.values.plates import normalise_plate
from ztl.values.streets import house_number as parse_house_number
from ztl.values.streets import street_key


def _columns(model: Any) -> list[Any]:
    """Plain columns, not ORM entities: lookups are read-only, and rows are far cheaper than
    instances (no identity map, no instance state); the converters read attributes either way."""
    return list(model.__table__.c)


# Statements are built once: building a select() costs more than running it on an index. They run
# on the session's connection (its transaction), skipping the ORM layer they do not need.
_RESIDENT = (
    select(*_columns(Resident))
    .where(Resident.person_key == bindparam("key"))
    .order_by(Resident.codice_fiscale)
    .limit(1)
)
_HOUSEHOLD = (
    select(*_columns(Resident))
    .where(Resident.household_id == bindparam("household"))
    .order_by(Resident.codice_fiscale)
)
_VEHICLE = select(*_columns(Vehicle)).where(Vehicle.plate == bindparam("plate"))
_VEHICLES_OF = (
    select(*_columns(Vehicle))
    .where(or_(Vehicle.owner_id == bindparam("key"), Vehicle.holder_id == bindparam("key")))
    .order_by(Vehicle.plate)
)
_SEGMENTS = (
    select(*_columns(StreetSegment))
    .where(
        StreetSegment.street_key == bindparam("street"),
        StreetSegment.from_number <= bindparam("number"),
        StreetSegment.to_number >= bindparam("number"),
        or_(StreetSegment.parity == Parity.ALL.value, StreetSegment.parity == bindparam("parity")),
    )
    .order_by(StreetSegment.from_number, StreetSegment.to_number, StreetSegment.parity)
)
_BADGES = (
    select(*_columns(Badge))
    .where(Badge.holder_key == bindparam("key"))
    .order_by(Badge.valid_until.desc(), Badge.badge_number)
)
_BUSINESS = select(*_columns(Business)).where(Business.partita_iva == bindparam("piva"))
_REPRESENTATIVES = (
    select(BusinessRepresentative.person_key)
    .where(BusinessRepresentative.partita_iva == bindparam("piva"))
    .order_by(BusinessRepresentative.person_key)
)
_REPRESENTED = (
    select(BusinessRepresentative.partita_iva)
    .where(BusinessRepresentative.person_key == bindparam("key"))
    .order_by(BusinessRepresentative.partita_iva)
)


class SqlRegistryAdapter:
    """RegistryAdapter over the register tables, through the caller's session (its transaction)."""

    def __init__(self, session: Session | scoped_session[Any] | None = None) -> None:
        if session is None:
            from ztl.extensions import db

            session = db.session
        self._session = session

    def _run(self, statement: Any, **params: Any) -> Any:
        return self._session.connection().execute(statement, params)

    def resident(self, codice_fiscale: str) -> ResidentFact | None:
        key = person_key(parse_codice_fiscale(codice_fiscale))
        row = self._run(_RESIDENT, key=key).first()
        return _resident(row) if row is not None else None

    def household(self, household_id: str) -> tuple[ResidentFact, ...]:
        return tuple(
            _resident(row) for row in self._run(_HOUSEHOLD, household=household_id.strip())
        )

    def vehicle(self, plate: str) -> VehicleFact | None:
        row = self._run(_VEHICLE, plate=normalise_plate(plate)).first()
        return _vehicle(row) if row is not None else None

    def vehicles_of(self, subject_id: str) -> tuple[VehicleFact, ...]:
        key = subject_key(parse_subject_id(subject_id))
        return tuple(_vehicle(row) for row in self._run(_VEHICLES_OF, key=key))

    def zone_of_address(self, street: str, house_number: str) -> AddressZone:
        key = street_key(street)
        number = parse_house_number(house_number)
        parity = Parity.ODD if number % 2 else Parity.EVEN
        rows = self._run(_SEGMENTS, street=key, number=number, parity=parity.value)
        return AddressZone(
            street_key=key, house_no=number, segments=tuple(_segment(row) for row in rows)
        )

    def badges_of(self, codice_fiscale: str) -> tuple[BadgeFact, ...]:
        key = person_key(parse_codice_fiscale(codice_fiscale))
        return tuple(_badge(row) for row in self._run(_BADGES, key=key))

    def business(self, partita_iva: str) -> BusinessFact | None:
        row = self._run(_BUSINESS, piva=parse_partita_iva(partita_iva)).first()
        return _business(row) if row is not None else None

    def representatives(self, partita_iva: str) -> tuple[str, ...]:
        rows = self._run(_REPRESENTATIVES, piva=parse_partita_iva(partita_iva))
        return tuple(row.person_key for row in rows)

    def firms_represented_by(self, codice_fiscale: str) -> tuple[str, ...]:
        key = person_key(parse_codice_fiscale(codice_fiscale))
        return tuple(row.partita_iva for row in self._run(_REPRESENTED, key=key))


def _resident(row: Any) -> ResidentFact:
    return ResidentFact(
        codice_fiscale=row.codice_fiscale,
        person_key=row.person_key,
        family_name=row.family_name,
        given_name=row.given_name,
        birth_date=row.birth_date,
        street=row.street,
        street_key=row.street_key,
        house_number=row.house_number,
        house_no=row.house_no,
        household_id=row.household_id,
        registered_since=row.registered_since,
        status=ResidentStatus(row.status),
    )


def _vehicle(row: Any) -> VehicleFact:
    return VehicleFact(
        plate=row.plate,
        category=row.category,
        fuel=Fuel(row.fuel),
        euro_class=row.euro_class,
        mass_kg=row.mass_kg,
        owner_id=row.owner_id,
        holder_id=row.holder_id,
        usage=VehicleUsage(row.usage),
        status=VehicleStatus(row.status),
    )


def _segment(row: Any) -> StreetSegmentFact:
    return StreetSegmentFact(
        street=row.street,
        street_key=row.street_key,
        from_number=row.from_number,
        to_number=row.to_number,
        parity=Parity(row.parity),
        zone_code=row.zone_code,
    )


def _badge(row: Any) -> BadgeFact:
    return BadgeFact(
        badge_number=row.badge_number,
        holder_codice_fiscale=row.holder_codice_fiscale,
        holder_key=row.holder_key,
        valid_until=row.valid_until,
        issuer=row.issuer,
    )


def _business(row: Any) -> BusinessFact:
    return BusinessFact(
        partita_iva=row.partita_iva,
        name=row.name,
        street=row.street,
        street_key=row.street_key,
        house_number=row.house_number,
        house_no=row.house_no,
        status=BusinessStatus(row.status),
        ateco=row.ateco,
    )
