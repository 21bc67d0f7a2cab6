"""Small builders for test data, going through the services like real callers do."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ztl.accounts.staff import create_user
from ztl.demo.generator import car_plate, codice_fiscale
from ztl.extensions import db
from ztl.models import BusinessRepresentative, Category, Permit, PermitPlate, User, Vehicle
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
