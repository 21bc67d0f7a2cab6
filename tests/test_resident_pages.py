"""The applicant's pages over HTTP: apply, attach, submit, pay, download, change plate, hotel.

What the browser journeys (tests/browser) do with a real Chromium, here with the test client, so
that every status code, redirect and refusal is checked on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import csrf_token, login
from tests.factories import DEMO_OWN_CAR, DEMO_RESIDENT, PASSWORD, make_user
from tests.test_web_pages import audit, problems_of
from ztl.demo.generator import car_plate
from ztl.extensions import db
from ztl.models import Application, Permit

PDF = b"%PDF-1.4\n%%EOF\n"


pytestmark = pytest.mark.usefixtures("quiet_mail")


def _signed_in(client: FlaskClient, email: str = "mario@example.org", cf: str = DEMO_RESIDENT):  # type: ignore[no-untyped-def]
    user = make_user("resident", email, codice_fiscale=cf)
    assert login(client, email, PASSWORD).status_code == 302
    return user


def _apply(client: FlaskClient, code: str = "1", plate: str = DEMO_OWN_CAR) -> int:
    path = f"/area-personale/domande/nuova/{code}"
    token = csrf_token(client, path)
    response = client.post(path, data={"csrf_token": token, "plate_1": plate})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return int(re.search(r"/domande/(\d+)$", response.headers["Location"]).group(1))  # type: ignore[union-attr]


def _upload(client: FlaskClient, page: str, name: str, content: bytes = PDF) -> Any:
    """Attach a document to the application at `page`, as the page's form does."""
    return client.post(
        f"{page}/documenti",
        data={
            "csrf_token": csrf_token(client, page),
            "kind": "identity_document",
            "file": (io.BytesIO(content), name),
        },
        content_type="multipart/form-data",
    )


def _post(client: FlaskClient, path: str, page: str, **data: object) -> object:
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data})


def test_resident_applies_pays_and_downloads_the_signed_pdf(
    city: Flask, client: FlaskClient
) -> None:
    _signed_in(client)
    assert "Che permesso ti serve?" in client.get("/area-personale/domande/nuova").get_data(True)
    app_id = _apply(client)
    page_path = f"/area-personale/domande/{app_id}"
    page = client.get(page_path).get_data(as_text=True)
    assert "requisiti soddisfatti" in page and "47,00" in page
    assert problems_of(audit(page), "it") == []

    assert _upload(client, page_path, "carta identità.pdf").status_code == 303
    assert "carta identità.pdf" in client.get(page_path).get_data(as_text=True)

    assert _post(client, f"{page_path}/invia", page_path).status_code == 303  # type: ignore[attr-defined]
    assert "Avviso di pagamento pagoPA" in client.get(page_path).get_data(as_text=True)
    assert _post(client, f"{page_path}/paga", page_path).status_code == 303  # type: ignore[attr-defined]
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
    _signed_in(client)
    app_id = _apply(client)
    page_path = f"/area-personale/domande/{app_id}"
    _post(client, f"{page_path}/invia", page_path)
    _post(client, f"{page_path}/paga", page_path)
    permit = db.session.scalars(select(Permit).where(Permit.application_id == app_id)).one()
    permit_path = f"/area-personale/permessi/{permit.number}"
    # A car of the same household (the demo city's second car of resident 0's family).
    response = _post(
        client, f"{permit_path}/targa", permit_path, old_plate=DEMO_OWN_CAR, new_plate="ZZ 999 ZZ"
    )
    assert response.status_code == 303  # type: ignore[attr-defined]
    db.session.expire_all()
    assert db.session.get(Permit, permit.id).status == "active"  # type: ignore[union-attr]  # refused
    assert "I controlli non sono superati" in client.get(permit_path).get_data(as_text=True)


def test_every_category_in_the_list_has_a_working_form(city: Flask, client: FlaskClient) -> None:
    """Codes such as "G/A" hold a slash: each link on the category page must open its form."""
    _signed_in(client)
    listing = client.get("/area-personale/domande/nuova").get_data(as_text=True)
    links = re.findall(r'href="(/area-personale/domande/nuova/[^"]+)"', listing)
    assert "/area-personale/domande/nuova/G/A" in links
    for link in links:
        response = client.get(link)
        assert response.status_code == 200, link
        assert "Salva la bozza" in response.get_data(as_text=True), link


def test_bad_input_gets_a_message_and_a_400(city: Flask, client: FlaskClient) -> None:
    _signed_in(client)
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
    _signed_in(client)
    app_id = _apply(client)
    client.post("/esci", data={"csrf_token": csrf_token(client, "/area-personale/")})
    other = app.test_client()
    _signed_in(other, "other@example.org", "RSSMRA85T10A562S")
    page = f"/area-personale/domande/{app_id}"
    assert other.get(page).status_code == 404
    token = csrf_token(other, "/area-personale/")
    for action in ("invia", "paga", "ritira"):
        assert other.post(f"{page}/{action}", data={"csrf_token": token}).status_code == 404
    assert db.session.get(Application, app_id).status == "draft"  # type: ignore[union-attr]


def test_english_on_request(city: Flask, client: FlaskClient) -> None:
    _signed_in(client)
    token = csrf_token(client, "/area-personale/")
    client.post("/lingua", data={"csrf_token": token, "lang": "en", "next": "/area-personale/"})
    page = client.get("/area-personale/domande/nuova").get_data(as_text=True)
    assert "Which permit do you need?" in page
    assert problems_of(audit(page), "en") == []


def test_hotel_page_buys_a_booklet_and_registers_a_guest(city: Flask, client: FlaskClient) -> None:
    from tests.test_portal_services import _hotel_in_zone_a

    _signed_in(client)
    hotel = _hotel_in_zone_a()
    page = "/area-personale/albergo"
    assert _post(client, f"{page}/blocchetti", page, **{"booklet-hotel": hotel}).status_code == 303  # type: ignore[attr-defined]
    booklet_id = re.search(r"/blocchetti/(\d+)/paga", client.get(page).get_data(True)).group(1)  # type: ignore[union-attr]
    assert _post(client, f"{page}/blocchetti/{booklet_id}/paga", page).status_code == 303  # type: ignore[attr-defined]
    arrival = (dt.datetime.now() - dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    response = _post(
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
    assert response.status_code == 303  # type: ignore[attr-defined]
    html = client.get(page).get_data(as_text=True)
    assert car_plate(5_000_001) in html and "1 / 40" in html
    assert problems_of(audit(html), "it") == []
