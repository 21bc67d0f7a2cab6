"""The GDPR export: everything about the signed-in person, nothing about anyone else."""

from __future__ import annotations

import json

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import login
from tests.factories import CF_MARIO, DEMO_OWN_CAR, DEMO_RESIDENT, PASSWORD, make_user
from ztl.applications import applicant as applications


def test_a_resident_downloads_everything_held_about_them(city: Flask) -> None:
    mine = make_user("resident", "titolare@posta.example.org", codice_fiscale=DEMO_RESIDENT)
    other = make_user("resident", "altro@posta.example.org", codice_fiscale=CF_MARIO)
    data = applications.ApplicationInput(category="1", applicant_id="", plates=(DEMO_OWN_CAR,))
    own_id = applications.create_draft(mine, data)
    applications.submit_application(
        own_id, mine, review_reason="Il documento lo porto allo sportello."
    )
    applications.pay_own_application(own_id, mine)
    other_id = applications.create_draft(
        other,
        applications.ApplicationInput(
            category="G/A",
            applicant_id="",
            plates=("ZZ999ZZ",),  # not in the register: its data are declared
            declared_category="M1",
            declared_fuel="petrol",
            declared_euro_class="6",
        ),
    )

    client: FlaskClient = city.test_client()
    assert login(client, "titolare@posta.example.org", PASSWORD).status_code == 302
    response = client.get("/area-personale/i-miei-dati.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    export = json.loads(response.get_data(as_text=True))
    assert export["format"] == "ztl-personal-data/1"
    assert export["account"]["email"] == "titolare@posta.example.org"
    assert "password" not in json.dumps(export["account"]).lower()
    assert [a["number"] for a in export["applications"]] == [own_id]
    assert export["applications"][0]["history"], "the history comes with the application"
    (permit,) = export["permits"]
    assert permit["plates"] == [{"plate": DEMO_OWN_CAR, "country": "IT"}]
    assert other_id not in [a["number"] for a in export["applications"]]
    assert "altro@posta.example.org" not in response.get_data(as_text=True)
    assert "law enforcement" in export["not_included"]
    assert "/area-personale/i-miei-dati.json" in client.get("/area-personale/").get_data(True)
