"""A file over the request limit (MAX_UPLOAD_BYTES) brings the person back to the page they sent it
from, with the reason and the limit, instead of an error page that leaves their application."""

from __future__ import annotations

import io

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from tests.conftest import apply_online, csrf_token, sign_in
from tests.factories import DEMO_RESIDENT
from ztl.extensions import db
from ztl.models import Document

LIMIT = 1024 * 1024  # the request limit these tests set: 1 MB


def _too_large_upload(client: FlaskClient, page: str, **headers: str) -> TestResponse:
    return client.post(
        f"{page}/documenti",
        data={
            "csrf_token": csrf_token(client, page),
            "kind": "identity_document",
            "file": (io.BytesIO(b"%PDF-1.4\n" + b"0" * LIMIT), "scansione.pdf"),
        },
        content_type="multipart/form-data",
        headers=headers,
    )


def test_a_file_over_the_limit_goes_back_to_the_application_with_the_reason(
    city: Flask, client: FlaskClient
) -> None:
    city.config["MAX_CONTENT_LENGTH"] = LIMIT
    sign_in(client, "resident", codice_fiscale=DEMO_RESIDENT)
    page = f"/area-personale/domande/{apply_online(client, '15')}"
    response = _too_large_upload(client, page, Referer=f"http://localhost{page}")
    assert response.status_code == 303
    assert response.headers["Location"] == page
    html = client.get(page).get_data(as_text=True)
    assert (
        "Il file è troppo grande: la dimensione massima è 1 MB. Riducilo, per esempio "
        "scansionando il documento a una risoluzione più bassa, e riprova."
    ) in html
    assert db.session.scalar(select(func.count()).select_from(Document)) == 0


def test_without_a_page_of_this_site_to_go_back_to_it_is_the_413_page(
    city: Flask, client: FlaskClient
) -> None:
    city.config["MAX_CONTENT_LENGTH"] = LIMIT
    sign_in(client, "resident", codice_fiscale=DEMO_RESIDENT)
    page = f"/area-personale/domande/{apply_online(client, '15')}"
    for headers in ({}, {"Referer": f"https://elsewhere.example{page}"}):
        response = _too_large_upload(client, page, **headers)
        assert response.status_code == 413
        text = response.get_data(as_text=True)
        assert "Il file inviato supera la dimensione massima consentita (1 MB)." in text
    api = client.post("/api/v1/eligibility", data=b"x" * (LIMIT + 1))
    assert api.status_code == 413
    assert api.get_json()["error"] == "request_entity_too_large"
