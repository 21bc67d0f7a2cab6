"""The five registers a municipality imports (shared/spec/registry-files.md).

Keys are the registry keys; street names and plates are stored normalised beside what the file said,
so lookups are exact index hits. These tables are read through ztl.registries, never directly by rules.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ztl.models.base import Base
from ztl.models.enums import (
    BusinessStatus,
    Fuel,
    Parity,
    ResidentStatus,
    VehicleStatus,
    VehicleUsage,
    check_in,
)


class Resident(Base):
    """A person in the anagrafe (residency register)."""

    __tablename__ = "resident"
    __table_args__ = (
        CheckConstraint(check_in("status", ResidentStatus), name="status"),
        Index("ix_resident_address", "street_key", "house_no"),
    )

    codice_fiscale: Mapped[str] = mapped_column(String(16), primary_key=True)
    person_key: Mapped[str] = mapped_column(String(16), index=True)
    family_name: Mapped[str] = mapped_column(String(100))
    given_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[dt.date] = mapped_column(Date)
    street: Mapped[str] = mapped_column(String(150))
    street_key: Mapped[str] = mapped_column(String(150))
    house_number: Mapped[str] = mapped_column(String(20))
    house_no: Mapped[int]
    household_id: Mapped[str] = mapped_column(String(40), index=True)
    registered_since: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12))


class Vehicle(Base):
    """A vehicle in the plate register (motorizzazione)."""

    __tablename__ = "vehicle"
    __table_args__ = (
        CheckConstraint(check_in("fuel", Fuel), name="fuel"),
        CheckConstraint(check_in("usage", VehicleUsage), name="usage"),
        CheckConstraint(check_in("status", VehicleStatus), name="status"),
        CheckConstraint("euro_class BETWEEN 0 AND 7", name="euro_class"),
    )

    plate: Mapped[str] = mapped_column(String(12), primary_key=True)
    category: Mapped[str] = mapped_column(String(6))
    fuel: Mapped[str] = mapped_column(String(10))
    euro_class: Mapped[int]
    mass_kg: Mapped[int | None]
    owner_id: Mapped[str] = mapped_column(String(16), index=True)
    holder_id: Mapped[str | None] = mapped_column(String(16), index=True)
    usage: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(14))


class StreetSegment(Base):
    """A stretch of a street (house-number range and parity) and the zone it belongs to."""

    __tablename__ = "street_segment"
    __table_args__ = (
        UniqueConstraint("street_key", "from_number", "to_number", "parity"),
        CheckConstraint(check_in("parity", Parity), name="parity"),
        CheckConstraint("from_number <= to_number", name="range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    street: Mapped[str] = mapped_column(String(150))
    street_key: Mapped[str] = mapped_column(String(150))
    from_number: Mapped[int]
    to_number: Mapped[int]
    parity: Mapped[str] = mapped_column(String(4))
    zone_code: Mapped[str] = mapped_column(String(10))


class Badge(Base):
    """A disabled person's parking badge (CUDE), valid in every municipality."""

    __tablename__ = "badge"

    badge_number: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder_codice_fiscale: Mapped[str] = mapped_column(String(16))
    holder_key: Mapped[str] = mapped_column(String(16), index=True)
    valid_until: Mapped[dt.date] = mapped_column(Date)
    issuer: Mapped[str] = mapped_column(String(100))


class Business(Base):
    """A firm in the business register, with its seat."""

    __tablename__ = "business"
    __table_args__ = (
        CheckConstraint(check_in("status", BusinessStatus), name="status"),
        Index("ix_business_address", "street_key", "house_no"),
    )

    partita_iva: Mapped[str] = mapped_column(String(11), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    street: Mapped[str] = mapped_column(String(150))
    street_key: Mapped[str] = mapped_column(String(150))
    house_number: Mapped[str] = mapped_column(String(20))
    house_no: Mapped[int]
    status: Mapped[str] = mapped_column(String(8))
    # Main activity (ATECO): 55.x is accommodation, whose firms may buy hotel guests' booklets.
    ateco: Mapped[str | None] = mapped_column(String(8))


class BusinessRepresentative(Base):
    """A legal representative of a firm, as the business register names them.

    Filled from the businesses file's `legal_representatives` column and replaced for a firm each
    time a file with that column names it; `person_key` is the codice fiscale without omocodia, so
    an account matches whatever variant either side wrote.
    """

    __tablename__ = "business_representative"

    partita_iva: Mapped[str] = mapped_column(
        String(11), ForeignKey("business.partita_iva", ondelete="CASCADE"), primary_key=True
    )
    person_key: Mapped[str] = mapped_column(String(16), primary_key=True, index=True)
    codice_fiscale: Mapped[str] = mapped_column(String(16))
