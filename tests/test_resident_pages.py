"""The applicant's pages over HTTP: apply, attach, submit, pay, download, change plate, hotel.

What the browser journeys (tests/browser) do with a real Chromium, here with the test client, so
that every status code, redirect and refusal is checked on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import (
    apply_online,
    audit,
    csrf_token,
    post_form,
    problems_of,
    sign_in,
    upload_document,
)
from tests.factories import DEMO_OWN_CAR, DEMO_RESIDENT
from ztl.demo.generator import car_plate
from ztl.extensions import db
from ztl.models import Application, Permit

pytestmark = pytest.mark.usefixtures("quiet_mail")


def test_resident_applies_pays_and_downloads_the_signed_pdf(
    city: Flask, client: FlaskClient
) -> None:
    sign_in(client, "resident", "mario@example.org", DEMO_RESIDENT)
    assert "Che permesso ti serve?" in client.get("/area-personale/domande/nuova").get_data(True)
    app_id = apply_online(client)
    page_path = f"/area-personale/domande/{app_id}"
    page = client.get(page_path).get_data(as_text=True)
    assert "requisiti soddisfatti" in page and "47,00" in page
    assert problems_of(audit(page), "it") == []

    assert upload_document(client, page_path, "carta identità.pdf").status_code == 303
    assert "carta identità.pdf" in client.get(page_path).get_data(as_text=True)

    assert post_form(client, f"{page_path}/invia", page_path).status_code == 303
    assert "Avviso di pagamento pagoPA" in client.get(page_path).get_data(as_text=True)
    assert post_form(client, f"{page_path}/paga", page_path).status_code == 303
    application = db.session.get(Application, app_id)
    assert application is not None and application.status == "issued"
    permit = db.session.scalars(select(Permit).where(Permit.application_id == app_id)).one()

    dashboard = client.get("/area-personale/").get_data(as_text=True)
    assert permit.number in dashboard and problems_of(audit(dashboard), "it") == []
    pdf = client.get(f"/area-personale/permessi/{permit.number}/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data == permit.pdf and pdf.data.startswith(b"%PDF")
    permit_page = client.get(f"/area-personale/permessi/{permit.number}").get_data(as_text=True)
    assert problems_of(audit(permit_page), "it") == []


def test_plate_change_from_the_permit_page(city: Flask, client: FlaskClient) -> None:
    sign_in(client, "resident", "mario@example.org", DEMO_RESIDENT)
    app_id = apply_online(client)
    page_path = f"/area-personale/domande/{app_id}"
    post_form(client, f"{page_path}/invia", page_path)
    post_form(client, f"{page_path}/paga", page_path)
    permit = db.session.scalars(select(Permit).where(Permit.application_id == app_id)).one()
    permit_path = f"/area-personale/permessi/{permit.number}"
    # A plate the vehicle register does not hold: the residents' checks refuse it.
    response = post_form(
        client, f"{permit_path}/targa", permit_path, old_plate=DEMO_OWN_CAR, new_plate="ZZ 999 ZZ"
    )
    # Refused: the page again with the plate as typed and the checks' own reason by the field.
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'value="ZZ 999 ZZ"' in page
    assert (
        '<div id="new_plate-errors" class="invalid-feedback d-block">I controlli non sono '
        "superati: il permesso non può essere rilasciato. La targa ZZ999ZZ non è nel registro "
        "dei veicoli.</div>"
    ) in page
    db.session.expire_all()
    assert db.session.get(Permit, permit.id).status == "active"  # type: ignore[union-attr]


def test_every_category_in_the_list_has_a_working_form(city: Flask, client: FlaskClient) -> None:
    """Codes such as "G/A" hold a slash: each link on the category page must open its form."""
    sign_in(client, "resident", "mario@example.org", DEMO_RESIDENT)
    listing = client.get("/area-personale/domande/nuova").get_data(as_text=True)
    links = re.findall(r'href="(/area-personale/domande/nuova/[^"]+)"', listing)
    assert "/area-personale/domande/nuova/G/A" in links
    for link in links:
        response = client.get(link)
        assert response.status_code == 200, link
        assert "Salva la bozza" in response.get_data(as_text=True), link


def test_bad_input_gets_a_message_and_a_400(city: Flask, client: FlaskClient) -> None:
    sign_in(client, "resident", "mario@example.org", DEMO_RESIDENT)
    path = "/area-personale/domande/nuova/1"
    response = client.post(path, data={"csrf_token": csrf_token(client, path), "plate_1": "A*1"})
    assert response.status_code == 400
    assert "Una targa non è valida" in response.get_data(as_text=True)
    assert client.post(path, data={"plate_1": DEMO_OWN_CAR}).status_code == 400  # no CSRF token
    assert client.get("/area-personale/domande/nuova/NOPE").status_code == 404
    assert db.session.scalars(select(Application)).first() is None


def test_another_residents_things_are_not_found(
    city: Flask, client: FlaskClient, app: Flask
) -> None:
    sign_in(client, "resident", "mario@example.org", DEMO_RESIDENT)
    app_id = apply_online(client)
    client.post("/esci", data={"csrf_token": csrf_token(client, "/area-personale/")})
    other = app.test_client()
    sign_in(other, "resident", "other@example.org", "RSSMRA85T10A562S")
    page = f"/area-personale/domande/{app_id}"
    assert other.get(page).status_code == 404
    token = csrf_token(other, "/area-personale/")
    for action in ("invia", "paga", "ritira"):
        assert other.post(f"{page}/{action}", data={"csrf_token": token}).status_code == 404
    assert db.session.get(Application, app_id).status == "draft"  # type: ignore[union-attr]


def test_english_on_request(city: Flask, client: FlaskClient) -> None:
    sign_in(client, "resident", "mario@example.org", DEMO_RESIDENT)
    token = csrf_token(client, "/area-personale/")
    client.post("/lingua", data={"csrf_token": token, "lang": "en", "next": "/area-personale/"})
    page = client.get("/area-personale/domande/nuova").get_data(as_text=True)
    assert "Which permit do you need?" in page
    assert problems_of(audit(page), "en") == []


def test_hotel_page_buys_a_booklet_and_registers_a_guest(city: Flask, client: FlaskClient) -> None:
    from tests.factories import hotel_in_zone_a

    sign_in(client, "resident", "mario@example.org", DEMO_RESIDENT)
    hotel = hotel_in_zone_a()
    page = "/area-personale/albergo"
    assert (
        post_form(client, f"{page}/blocchetti", page, **{"booklet-hotel": hotel}).status_code == 303
    )
    booklet_id = re.search(r"/blocchetti/(\d+)/paga", client.get(page).get_data(True)).group(1)  # type: ignore[union-attr]
    assert post_form(client, f"{page}/blocchetti/{booklet_id}/paga", page).status_code == 303
    arrival = (dt.datetime.now() - dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    response = post_form(
        client,
        f"{page}/ospiti",
        page,
        **{
            "guest-hotel": hotel,
            "guest-plate": car_plate(5_000_001),
            "guest-arrival": arrival,
            "guest-nights": "2",
        },
    )
    assert response.status_code == 303
    html = client.get(page).get_data(as_text=True)
    assert car_plate(5_000_001) in html and "1 / 40" in html
    assert problems_of(audit(html), "it") == []
