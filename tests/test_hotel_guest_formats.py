"""Hotel guests in the formats the rest of the site and a receptionist's spreadsheet use: foreign
plates ("DE:B MW 1234"), files with semicolons, an Italian header, a byte order mark and Italian
local times, every line reported with its number."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import csrf_token, sign_in
from tests.factories import DEMO_RESIDENT, hotel_in_zone_a
from ztl.applications import hotel_guests
from ztl.applications.hotel_guests import BatchLine
from ztl.city.rules_config import EXTENSION_KEY, current_rules
from ztl.demo.generator import car_plate
from ztl.extensions import db
from ztl.models import Application, HotelBooklet, Permit, User

ROME = ZoneInfo("Europe/Rome")
PAGE = "/area-personale/albergo"


def _hotel_with_booklet(client: FlaskClient) -> tuple[User, str, int]:
    """A hotel of the demo city whose representative is signed in, with a paid booklet."""
    user = sign_in(client, "resident", "reception@esempio.it", codice_fiscale=DEMO_RESIDENT)
    hotel = hotel_in_zone_a()
    booklet = hotel_guests.buy_booklet(user, hotel)
    hotel_guests.pay_booklet(booklet.id, user)
    return user, hotel, booklet.id


def _used(booklet_id: int) -> int:
    db.session.expire_all()
    booklet = db.session.get(HotelBooklet, booklet_id)
    assert booklet is not None
    return booklet.used


def test_the_guest_file_is_read_as_a_spreadsheet_saves_it() -> None:
    text = (
        "\ufefftarga;arrivo;notti\r\n"
        "AB 123 CD;02/12/2026 09:00;2\r\n"
        "\r\n"
        "DE:B MW 1234;2/12/2026 9:00;\r\n"
        "GS123AB;2/12/2026;7\r\n"
    )
    assert hotel_guests.parse_guest_csv(text) == [
        (2, "AB 123 CD", "02/12/2026 09:00", "2"),
        (4, "DE:B MW 1234", "2/12/2026 9:00", "1"),
        (5, "GS123AB", "2/12/2026", "7"),
    ]
    commas = "targa,arrivo,giorni\nGS123AB,2026-12-02T09:00+01:00,3\n"
    assert hotel_guests.parse_guest_csv(commas) == [(2, "GS123AB", "2026-12-02T09:00+01:00", "3")]
    english = "plate,arrival,nights\nGS123AB,2026-12-02T09:00Z,1\n"
    assert hotel_guests.parse_guest_csv(english) == [(2, "GS123AB", "2026-12-02T09:00Z", "1")]
    no_header = "GS123AB;02/12/2026 09:00;1\n"
    assert hotel_guests.parse_guest_csv(no_header) == [(1, "GS123AB", "02/12/2026 09:00", "1")]


def test_italian_local_arrivals_are_the_municipality_s_time(city: Flask) -> None:
    assert hotel_guests.parse_arrival("02/12/2026 09:00") == dt.datetime(
        2026, 12, 2, 8, tzinfo=dt.UTC
    )
    assert hotel_guests.parse_arrival("2/12/2026 9:00") == dt.datetime(
        2026, 12, 2, 8, tzinfo=dt.UTC
    )
    assert hotel_guests.parse_arrival("2/12/2026") == dt.datetime(2026, 12, 1, 23, tzinfo=dt.UTC)
    assert hotel_guests.parse_arrival("02/07/2026 09:00") == dt.datetime(
        2026, 7, 2, 7, tzinfo=dt.UTC
    )
    # 25 October 2026: 02:30 happens twice in Rome; the first, still summer time (+02:00).
    ambiguous = hotel_guests.parse_arrival("25/10/2026 02:30")
    assert ambiguous == dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)
    # 29 March 2026: 02:30 never happens in Rome; it moves forward to 03:30 summer time.
    skipped = hotel_guests.parse_arrival("29/03/2026 02:30")
    assert skipped == dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC)
    assert hotel_guests.parse_arrival("2026-12-02T09:00+01:00") == dt.datetime(
        2026, 12, 2, 8, tzinfo=dt.UTC
    )
    for text, code in (
        ("31/02/2026 09:00", "arrival_invalid"),
        ("02/12/2026 25:00", "arrival_invalid"),
        ("domani", "arrival_invalid"),
        ("2026-12-02T09:00", "time_without_offset"),
    ):
        with pytest.raises(hotel_guests.ServiceError) as refused:
            hotel_guests.parse_arrival(text)
        assert refused.value.code == code, text


def _post_foreign_guest(client: FlaskClient, hotel: str) -> None:
    arrival = (dt.datetime.now(ROME) - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    answer = client.post(
        f"{PAGE}/ospiti",
        data={
            "csrf_token": csrf_token(client, PAGE),
            "idempotency_key": "ospite-straniero-00000001",
            "guest-hotel": hotel,
            "guest-plate": "de:B MW 1234",
            "guest-arrival": arrival,
            "guest-nights": "2",
        },
    )
    assert answer.status_code == 303


def test_the_guest_form_registers_a_foreign_plate_on_the_hotels_declaration(city: Flask) -> None:
    """The plate is read as the rest of the site writes it (country, colon, plate); Prato's
    guest category takes a plate no register holds on the accommodation's declaration, so the
    guest's permit is issued at once, and the clerk reads that the plate was declared."""
    client = city.test_client()
    _user, hotel, booklet_id = _hotel_with_booklet(client)
    _post_foreign_guest(client, hotel)
    permit = db.session.scalars(select(Permit).where(Permit.holder_id == hotel)).one()
    assert [(p.plate, p.country) for p in permit.plates] == [("BMW1234", "DE")]
    assert f"Ospite registrato: permesso {permit.number}." in client.get(PAGE).get_data(
        as_text=True
    )
    application = db.session.get(Application, permit.application_id)
    assert application is not None
    found = [c for c in application.verdict or [] if c["id"] == "vehicle_found"]
    assert [(c["status"], c["evidence"]["declared"]) for c in found] == [("pass", True)]
    assert _used(booklet_id) == 1


def test_without_declarations_a_foreign_guest_is_sent_to_the_office(city: Flask) -> None:
    """A city whose guest category takes no declaration: the hotel is told the office must check
    the plate, and nothing is stored nor spent from the booklet."""
    rules = current_rules(city)
    categories = tuple(
        dataclasses.replace(c, unregistered_vehicles=None) if c.code == "8A" else c
        for c in rules.categories
    )
    city.extensions[EXTENSION_KEY] = dataclasses.replace(rules, categories=categories)
    try:
        client = city.test_client()
        _user, hotel, booklet_id = _hotel_with_booklet(client)
        _post_foreign_guest(client, hotel)
        page = client.get(PAGE).get_data(as_text=True)
    finally:
        city.extensions[EXTENSION_KEY] = rules
    assert (
        "La targa estera non è nei registri e va controllata dall&#39;ufficio permessi: per questo "
        "ospite rivolgiti all&#39;ufficio, la registrazione online non è stata fatta."
    ) in page
    assert (
        db.session.scalars(select(Application).where(Application.applicant_id == hotel)).all() == []
    )
    assert _used(booklet_id) == 0


def test_a_mixed_guest_file_registers_the_good_lines_and_reports_the_rest(city: Flask) -> None:
    client = city.test_client()
    _user, hotel, booklet_id = _hotel_with_booklet(client)
    local = (dt.datetime.now(ROME) - dt.timedelta(hours=2)).strftime("%d/%m/%Y %H:%M")
    guests = (car_plate(5_000_001), car_plate(5_000_002))  # cars of the demo city's register
    content = (
        "\ufefftarga;arrivo;notti\n"
        f"{guests[0]};{local};2\n"
        f"??;{local};1\n"
        "\n"
        f"{guests[1]};31/02/2026 09:00;1\n"
        f"DE:B MW 1234;{local};3\n"
        f"{guests[1]};{local};otto\n"
        f"XYZ;{local};1\n"
        f"{guests[1]};{local}\n"
    )
    answer = client.post(
        f"{PAGE}/ospiti/file",
        data={
            "csrf_token": csrf_token(client, PAGE),
            "idempotency_key": "file-degli-ospiti-0000001",
            "batch-hotel": hotel,
            "batch-file": (io.BytesIO(content.encode("utf-8")), "ospiti.csv"),
        },
        content_type="multipart/form-data",
    )
    assert answer.status_code == 303
    shown = client.get(answer.headers["Location"]).get_data(as_text=True)
    first, foreign, second = db.session.scalars(
        select(Permit.number).where(Permit.holder_id == hotel).order_by(Permit.id)
    ).all()
    rows = re.findall(r'<tr><th scope="row">(\d+)</th><td>(.*?)</td><td>(.*?)</td></tr>', shown)
    assert rows == [
        ("2", guests[0], f"registrato: permesso {first}"),
        (
            "3",
            "??",
            "non registrato: Una targa non è valida: controlla di averla scritta per intero.",
        ),
        (
            "5",
            guests[1],
            "non registrato: L&#39;ora di arrivo non è valida: scrivila come 24/12/2026 15:00 "
            "(ora locale) o 2026-12-24T15:00:00+01:00.",
        ),
        ("6", "DE:B MW 1234", f"registrato: permesso {foreign}"),
        ("7", guests[1], "non registrato: La permanenza va da 1 a 7 giorni."),
        (
            "8",
            "XYZ",
            "non registrato: La targa non ha un formato italiano: per una targa estera indica il "
            "paese.",
        ),
        ("9", guests[1], f"registrato: permesso {second}"),
    ]
    assert _used(booklet_id) == 3


def test_each_line_of_the_report_says_its_number_and_outcome(city: Flask) -> None:
    client = city.test_client()
    user, hotel, _booklet_id = _hotel_with_booklet(client)
    local = (dt.datetime.now(ROME) - dt.timedelta(hours=2)).strftime("%d/%m/%Y %H:%M")
    guest = car_plate(5_000_003)
    text = (
        "targa,arrivo,giorni\n"
        f"{guest},{local},2\n"
        f"??,{local},1\n"
        f"{guest},31/02/2026 09:00,1\n"
        f"DE:B MW 1234,{local},3\n"
        f"{guest},{local},otto\n"
        f"XYZ,{local},1\n"
    )
    report = hotel_guests.register_guest_batch(user, hotel, text)
    number, foreign = report[0].permit_number, report[3].permit_number
    assert number is not None and foreign is not None
    assert report == [
        BatchLine(2, guest, number),
        BatchLine(3, "??", None, "plate_invalid"),
        BatchLine(4, guest, None, "arrival_invalid"),
        BatchLine(5, "DE:B MW 1234", foreign),
        BatchLine(6, guest, None, "nights"),
        BatchLine(7, "XYZ", None, "plate_not_italian"),
    ]
