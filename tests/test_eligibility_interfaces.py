"""The CLI `ztl eligibility check` and POST /api/v1/eligibility serve the same verdicts."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, make_user
from ztl.demo.generator import car_plate, codice_fiscale

RESIDENT = codice_fiscale(0)
OWN_CAR = car_plate(5_000_000)
OTHER_CAR = car_plate(5_000_001)


def test_cli_eligible_exits_0_with_every_check(city: Flask, runner: Any) -> None:
    result = runner.invoke(
        args=[
            "eligibility",
            "check",
            "--category",
            "1",
            "--applicant",
            RESIDENT,
            "--plate",
            OWN_CAR,
        ]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ELIGIBLE")
    assert "residence_in_zone" in result.output and "Via Ricasoli" in result.output


def test_cli_not_eligible_exits_1_and_json(city: Flask, runner: Any) -> None:
    result = runner.invoke(
        args=[
            "eligibility",
            "check",
            "--category",
            "1",
            "--applicant",
            RESIDENT,
            "--plate",
            OTHER_CAR,
            "--json",
            "--at",
            "2026-12-01",
        ]
    )
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["outcome"] == "not_eligible"
    tied = next(c for c in data["checks"] if c["id"] == "vehicle_tied")
    assert tied["status"] == "fail" and tied["evidence"]["plate"] == OTHER_CAR
    assert set(tied["message"]) == {"it", "en"}


@pytest.mark.parametrize(
    "extra",
    [
        ["--category", "99", "--applicant", RESIDENT, "--plate", OWN_CAR],
        ["--category", "1", "--applicant", RESIDENT, "--plate", "AB*12"],
        [
            "--category",
            "1",
            "--applicant",
            RESIDENT,
            "--plate",
            OWN_CAR,
            "--at",
            "2026-12-01T10:00",
        ],
        ["--category", "1", "--applicant", RESIDENT, "--plate", OWN_CAR, "--at", "yesterday"],
    ],
)
def test_cli_bad_input_exits_2(city: Flask, runner: Any, extra: list[str]) -> None:
    result = runner.invoke(args=["eligibility", "check", *extra])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


def _ask(client: FlaskClient, body: Any, token: str | None) -> Any:
    headers = {"X-CSRFToken": token} if token else {}
    return client.post("/api/v1/eligibility", json=body, headers=headers)


def test_api_resident_asks_for_themself(city: Flask, client: FlaskClient) -> None:
    make_user("resident", "me@posta.example.org", codice_fiscale=RESIDENT)
    login(client, "me@posta.example.org", PASSWORD)
    token = csrf_token(client, "/area-personale/")
    response = _ask(client, {"category": "1", "plates": [OWN_CAR]}, token)
    assert response.status_code == 200, response.json
    assert response.json["outcome"] == "eligible" and response.json["total_cents"] == 4700
    other = _ask(
        client, {"category": "1", "applicant": codice_fiscale(5), "plates": [OWN_CAR]}, token
    )
    assert other.status_code == 403
    assert _ask(client, {"category": "1", "plates": [OWN_CAR]}, None).status_code == 400


def test_api_clerk_asks_for_anyone_and_gets_clear_errors(city: Flask, client: FlaskClient) -> None:
    make_user("clerk", "clerk@comune.example.org")
    login(client, "clerk@comune.example.org", PASSWORD)
    token = csrf_token(client, "/ufficio/")
    ok = _ask(
        client,
        {
            "category": "T",
            "applicant": RESIDENT,
            "plates": [{"plate": "MAB1234", "country": "DE"}],
            "at": "2026-11-25T10:00:00+01:00",
        },
        token,
    )
    assert ok.status_code == 200 and ok.json["outcome"] == "needs_review"
    cases = [
        ([1, 2], 400),
        ({"category": "1", "applicant": RESIDENT}, 400),
        (
            {"category": "1", "applicant": RESIDENT, "plates": [OWN_CAR], "at": "2026-11-25T10:00"},
            400,
        ),
        ({"category": "1", "applicant": RESIDENT, "plates": ["AB*1"]}, 422),
        ({"category": "Z", "applicant": RESIDENT, "plates": [OWN_CAR]}, 422),
        ({"category": "1", "applicant": RESIDENT, "plates": [OWN_CAR] * 11}, 400),
    ]
    for body, status in cases:
        response = _ask(client, body, token)
        assert response.status_code == status, (body, response.json)
        assert set(response.json) == {"error", "message"}


@pytest.mark.parametrize(
    ("role", "status"), [("anonymous", 401), ("police", 403), ("supervisor", 200), ("admin", 200)]
)
def test_api_roles(city: Flask, client: FlaskClient, role: str, status: int) -> None:
    token = None
    if role != "anonymous":
        make_user(role, f"{role}@comune.example.org")
        login(client, f"{role}@comune.example.org", PASSWORD)
        token = csrf_token(client, "/pagina-che-non-esiste")
    body = {"category": "1", "applicant": RESIDENT, "plates": [OWN_CAR]}
    assert _ask(client, body, token).status_code == status
