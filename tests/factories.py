"""Small builders for test data, going through the services like real callers do."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from ztl.accounts.staff import create_user
from ztl.applications.counter import CounterRequest, issue_at_counter
from ztl.demo.generator import car_plate, codice_fiscale
from ztl.eligibility.service import PlateInput
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import Actor
from ztl.models import (
    Business,
    BusinessRepresentative,
    Category,
    Permit,
    PermitPlate,
    User,
    Vehicle,
)
from ztl.permits.issuance import IssueResult
from ztl.registries.sql import SqlRegistryAdapter
from ztl.values.fiscal import parse_codice_fiscale, person_key

PASSWORD = "correct-horse-42"
# Valid codici fiscali (check characters computed by python-stdnum).
CF_MARIO = "RSSMRA85T10A562S"
# The demo city's resident (Via Ricasoli 12, zone A) and their own car.
DEMO_RESIDENT = codice_fiscale(0)
DEMO_OWN_CAR = car_plate(5_000_000)


def make_user(
    role: str, email: str | None = None, password: str = PASSWORD, codice_fiscale: str | None = None
) -> User:
    return create_user(
        role,
        email or f"{role}@example.test",
        password,
        f"Test {role}",
        codice_fiscale=codice_fiscale,
    )


def make_permit(
    code: str,
    plate: str,
    holder: str,
    serial: int,
    valid_from: dt.datetime = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC),
) -> None:
    """An active one-day permit stored directly (issuance itself is another issue's service)."""
    category = db.session.scalar(select(Category).where(Category.code == code))
    assert category is not None
    row = Permit(
        number=f"PO-2026-{serial:06d}",
        year=2026,
        serial=serial,
        holder_id=person_key(holder),
        category=category,
        valid_from=valid_from,
        valid_to=valid_from + dt.timedelta(days=1),
    )
    row.plates.append(PermitPlate(plate=plate))
    db.session.add(row)
    db.session.commit()


def add_household_car(plate: str, owner: str = DEMO_RESIDENT) -> str:
    """A petrol Euro 6 car (M1) owned by `owner` (the demo resident): a second car a plate change
    can move a permit to."""
    db.session.add(
        Vehicle(
            plate=plate,
            category="M1",
            fuel="petrol",
            euro_class=6,
            owner_id=person_key(owner),
            usage="owned",
            status="active",
        )
    )
    db.session.commit()
    return plate


def make_representative(partita_iva: str, who: User | str) -> None:
    """Name a person (an account, or a codice fiscale) among a firm's legal representatives, as
    a businesses file's `legal_representatives` column does; the firm must be in the register."""
    cf = who if isinstance(who, str) else who.codice_fiscale
    assert cf, "a representative is named by their codice fiscale"
    cf = parse_codice_fiscale(cf)
    key = person_key(cf)
    if db.session.get(BusinessRepresentative, (partita_iva, key)) is None:
        db.session.add(
            BusinessRepresentative(partita_iva=partita_iva, person_key=key, codice_fiscale=cf)
        )
    db.session.commit()


def issue_resident(plate: str = DEMO_OWN_CAR, **extra: object) -> IssueResult:
    """A resident permit (category 1) for the demo resident's car, issued at the counter; the
    demo city must be loaded and have keys (the `city` fixture)."""
    request = CounterRequest(
        category="1",
        applicant_id=DEMO_RESIDENT,
        plates=(PlateInput(plate),),
        **extra,  # type: ignore[arg-type]
    )
    return issue_at_counter(request, Actor.cli())


def hotel_in_zone_a(accommodation: bool = True) -> str:
    """An active firm of the demo city with its seat in zone A (as the street register places it,
    parity included): a hotel (ATECO 55), or with `accommodation=False` any other kind of firm."""
    kind = Business.ateco.like("55%") if accommodation else Business.ateco.not_like("55%")
    firms = db.session.execute(
        select(Business.partita_iva, Business.street, Business.house_number)
        .where(Business.status == "active", kind)
        .order_by(Business.partita_iva)
    ).all()
    registers = SqlRegistryAdapter()
    for partita_iva, street, number in firms:
        if "A" in registers.zone_of_address(street, number).zone_codes:
            return str(partita_iva)
    pytest.fail(f"the demo city has no such firm in zone A ({accommodation=})")


def register_hotel_guest(plate: str, arrival: dt.datetime, nights: int = 2) -> None:
    """A hotel of zone A registers a guest's car, as its receptionist does after the camera saw
    it (a retroactive registration): a paid booklet, then the guest."""
    from ztl.applications import hotel_guests

    hotel = hotel_in_zone_a()
    receptionist = make_user(
        "resident", "reception@albergo.example.org", codice_fiscale="RSSMRA85T10A562S"
    )
    make_representative(hotel, receptionist)
    booklet = hotel_guests.buy_booklet(receptionist, hotel)
    hotel_guests.pay_booklet(booklet.id, receptionist)
    guest = hotel_guests.GuestRegistration(plate, arrival, nights)
    hotel_guests.register_guest(receptionist, hotel, guest)
