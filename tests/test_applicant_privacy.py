"""An applicant learns nothing about other people: who owns a plate, whom a car is assigned to.

Before, a signed-in resident who asked the eligibility API about any plate got the owner's codice
fiscale in the evidence (ten plates a request), and the same stayed in their saved draft and came
back in their data export. Clerks still see the full evidence: deciding needs it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import FrozenWindow, csrf_token, login, sign_in
from tests.factories import DEMO_RESIDENT, PASSWORD, make_user
from ztl.applications import applicant as applications
from ztl.demo.generator import car_plate
from ztl.extensions import db
from ztl.models import PlateLookup, Resident, Vehicle


def _strangers_car() -> tuple[str, str]:
    """A car of the demo city owned by someone outside the demo resident's household: (plate,
    the owner's key as the registers hold it)."""
    household = db.session.scalar(
        select(Resident.household_id).where(Resident.codice_fiscale == DEMO_RESIDENT)
    )
    row = db.session.execute(
        select(Vehicle.plate, Vehicle.owner_id)
        .join(Resident, Resident.person_key == Vehicle.owner_id)
        .where(Resident.household_id != household, Vehicle.status == "active")
        .order_by(Vehicle.plate)
        .limit(1)
    ).one()
    return str(row[0]), str(row[1])


def _ask(client: FlaskClient, page: str, plate: str) -> dict[str, Any]:
    response = client.post(
        "/api/v1/eligibility",
        json={"category": "1", "plates": [plate]},
        headers={"X-CSRFToken": csrf_token(client, page)},
    )
    assert response.status_code == 200, response.json
    body: dict[str, Any] | None = response.json
    assert body is not None
    return body


def test_a_resident_asking_about_a_strangers_plate_learns_the_verdict_not_the_owner(
    city: Flask, client: FlaskClient
) -> None:
    plate, owner = _strangers_car()
    sign_in(client, "resident", "curioso@example.org", DEMO_RESIDENT)

    answer = _ask(client, "/area-personale/", plate)

    text = json.dumps(answer)
    assert owner not in text
    tied = next(c for c in answer["checks"] if c["id"] == "vehicle_tied")
    assert tied["status"] == "fail"
    assert "owner" not in tied["evidence"] and tied["evidence"]["plate"] == plate
    assert "non è intestato né in uso al richiedente" in tied["message"]["it"]


def test_a_clerk_sees_the_owner_in_the_evidence(city: Flask, client: FlaskClient) -> None:
    plate, owner = _strangers_car()
    sign_in(client, "clerk")
    response = client.post(
        "/api/v1/eligibility",
        json={"category": "1", "applicant": DEMO_RESIDENT, "plates": [plate]},
        headers={"X-CSRFToken": csrf_token(client, "/ufficio/")},
    )
    assert response.json is not None
    tied = next(c for c in response.json["checks"] if c["id"] == "vehicle_tied")
    assert tied["evidence"]["owner"] == owner


def test_the_data_export_does_not_name_the_owner_of_a_plate_in_a_draft(
    city: Flask, client: FlaskClient
) -> None:
    plate, owner = _strangers_car()
    user = make_user("resident", "curioso@example.org", codice_fiscale=DEMO_RESIDENT)
    applications.create_draft(
        user, applications.ApplicationInput(category="1", applicant_id="", plates=(plate,))
    )
    assert login(client, "curioso@example.org", PASSWORD).status_code == 302
    export = client.get("/area-personale/i-miei-dati.json")
    assert export.status_code == 200
    text = export.get_data(as_text=True)
    assert plate in text  # their own draft is there
    assert owner not in text


def test_eligibility_questions_are_limited_per_account_and_recorded(
    city: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Resolving the city's plates one after the other is stopped, and every question is kept
    with who asked, like a police lookup."""
    from ztl.api import eligibility as api

    monkeypatch.setitem(city.config, "ZTL_ELIGIBILITY_RATE_PER_MINUTE", 25)
    monkeypatch.setattr(api, "_PLATES_ASKED", FrozenWindow())
    user = sign_in(client, "resident", "curioso@example.org", DEMO_RESIDENT)
    token = csrf_token(client, "/area-personale/")
    plates = [car_plate(5_000_000 + i) for i in range(10)]

    answers = [
        client.post(
            "/api/v1/eligibility",
            json={"category": "1", "plates": plates},
            headers={"X-CSRFToken": token},
        )
        for _ in range(3)
    ]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].headers["Retry-After"] == "60"
    assert answers[2].json is not None and answers[2].json["error"] == "rate_limited"
    recorded = db.session.scalars(
        select(PlateLookup).where(PlateLookup.channel == "eligibility")
    ).all()
    assert len(recorded) == 20  # two answered questions of ten plates; the refused one is not
    assert {r.user_id for r in recorded} == {user.id}
    assert {r.actor_label for r in recorded} == {"curioso@example.org"}
    assert {r.plate for r in recorded} == set(plates)
