"""One fee function computes every amount, and every page and document shows what it says.

Before: the public page read a fee copied into the database at the last sync, and a renewal at the
counter charged the bare fee without stamp duty or the fuel exemption. Now ztl.rules.fees.fee_for
is the only source: an edited fee is what the next page shows.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from tests.conftest import make_app, pdf_text
from tests.factories import issue_resident
from ztl.city import sync_city
from ztl.city.rules_config import current_rules
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import Actor
from ztl.models import HotelBooklet, Permit
from ztl.permits.changes import change_plate, renew_permit
from ztl.rules.fees import Fee, Purpose, fee_for, lowest_fee
from ztl.rules.loader import DEFAULT_RULES, load_rules, parse_rules
from ztl.signing.keys import KeyStore

PRATO = load_rules()
ESEMPIO = load_rules(DEFAULT_RULES.parent / "esempio.toml")
CLERK = Actor("clerk@comune.example.org")


@pytest.mark.parametrize(
    ("rules", "code", "validity", "fuels", "purpose", "expected"),
    [
        (PRATO, "1", "P1Y", ["petrol"], Purpose.APPLICATION, Fee(1500, 3200)),
        (PRATO, "1", "P2Y", ["petrol"], Purpose.RENEWAL, Fee(3000, 3200)),
        (PRATO, "1", "P1Y", ["petrol"], Purpose.PLATE_CHANGE, Fee(0, 0)),
        (PRATO, "H", "P5Y", ["diesel"], Purpose.APPLICATION, Fee(0, 0)),  # exempt from stamp duty
        (PRATO, "G/A", "P1D", ["petrol"], Purpose.APPLICATION, Fee(1000, 0)),
        (PRATO, "8A", None, [], Purpose.BOOKLET, Fee(4500, 0)),
        (ESEMPIO, "1", "P1Y", ["electric"], Purpose.RENEWAL, Fee(0, 3200)),  # electric: no fee
        (ESEMPIO, "1", "P1Y", ["electric", "diesel"], Purpose.RENEWAL, Fee(1500, 3200)),
    ],
)
def test_the_fee_function(
    rules: object,
    code: str,
    validity: str | None,
    fuels: list[str],
    purpose: Purpose,
    expected: Fee,
) -> None:
    municipality = rules  # parametrised for readability of the table
    category = municipality.category(code)  # type: ignore[attr-defined]
    assert fee_for(municipality, category, validity, fuels, purpose) == expected  # type: ignore[arg-type]


def test_a_category_without_booklets_or_a_validity_is_refused() -> None:
    with pytest.raises(KeyError):
        fee_for(PRATO, PRATO.category("1"), None, (), Purpose.BOOKLET)
    with pytest.raises(KeyError):
        fee_for(PRATO, PRATO.category("1"), "P3Y", ())
    assert lowest_fee(PRATO, PRATO.category("1")) == Fee(1500, 3200)
    assert lowest_fee(PRATO, PRATO.category("8A")) == Fee(4500, 0)


def test_an_edited_fee_is_what_the_pages_show(app: Flask, tmp_path: Path) -> None:
    text = DEFAULT_RULES.read_text(encoding="utf-8")
    edited = tmp_path / "prato.toml"
    edited.write_text(text.replace("fees_cents = { P1D = 1000 }", "fees_cents = { P1D = 1234 }"))
    sync_city(parse_rules(text, "prato.toml"))  # the database as the old file left it
    other = make_app(
        app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "instance", ZTL_RULES_FILE=str(edited)
    )
    page = other.test_client().get("/").get_data(as_text=True)
    assert "€ 12,34" in page and "€ 10,00" not in page
    english = other.test_client().get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "€ 12,34" in english  # one way of writing an amount, in both languages


def test_a_renewal_at_the_counter_costs_what_an_application_does(
    city: Flask, keys: KeyStore
) -> None:
    issued = issue_resident()
    renewed = renew_permit(issued.number, CLERK, at=issued.valid_to - dt.timedelta(days=30))
    permit = db.session.scalars(select(Permit).where(Permit.number == renewed.number)).one()
    expected = fee_for(current_rules(), current_rules().category("1"), "P1Y", ["petrol"])
    assert permit.fee_cents == expected.fee_cents == 1500
    text = pdf_text(renewed.pdf)
    assert "€ 47,00 (di cui bollo · stamp duty € 32,00)" in text  # stamp duty no longer skipped


def test_a_plate_change_is_free(city: Flask, keys: KeyStore) -> None:
    from tests.factories import DEMO_OWN_CAR
    from ztl.models import Vehicle

    issued = issue_resident()
    household_car = db.session.scalars(
        select(Vehicle.plate).where(Vehicle.plate != DEMO_OWN_CAR, Vehicle.category == "M1")
    ).first()
    assert household_car is not None
    permit = db.session.scalars(select(Permit).where(Permit.number == issued.number)).one()
    owner_id = permit.holder_id
    vehicle = db.session.get(Vehicle, household_car)
    assert vehicle is not None
    vehicle.owner_id, vehicle.holder_id, vehicle.status = owner_id, None, "active"
    vehicle.fuel, vehicle.euro_class = "petrol", 6
    db.session.commit()
    changed = change_plate(issued.number, DEMO_OWN_CAR, household_car, CLERK)
    new = db.session.scalars(select(Permit).where(Permit.number == changed.number)).one()
    assert new.fee_cents == 0
    assert "€ 0,00" in pdf_text(changed.pdf)


def test_a_booklet_costs_what_the_rules_file_says(city: Flask) -> None:
    from tests.factories import hotel_in_zone_a, make_representative, make_user
    from ztl.applications.hotel_guests import buy_booklet

    user = make_user("resident", codice_fiscale="RSSMRA85T10A562S")
    hotel = hotel_in_zone_a()
    make_representative(hotel, user)
    booklet = buy_booklet(user, hotel)
    stored = db.session.get(HotelBooklet, booklet.id)
    assert stored is not None and (stored.size, stored.price_cents) == (40, 4500)
