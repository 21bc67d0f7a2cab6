"""POST /api/v1/seals/verify: tokens, the spec's answer shape, bad input as 400."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.permit_helpers import issue_resident
from ztl.extensions import db
from ztl.models import Permit
from ztl.services.permit_changes import revoke_permit
from ztl.services.tokens import create_token
from ztl.services.unit_of_work import Actor

URL = "/api/v1/seals/verify"


def _bearer(role: str = "police") -> dict[str, str]:
    _, plaintext = create_token(f"device-{role}", role)
    db.session.commit()
    return {"Authorization": f"Bearer {plaintext}"}


def test_verify_answers_with_the_permit_and_names_the_failed_step(
    city: Flask, client: FlaskClient
) -> None:
    issued = issue_resident()
    plate = db.session.scalars(select(Permit)).one().plates[0].plate
    headers = _bearer()
    body = client.post(
        URL, json={"seal": issued.seal, "zone": "a", "plate": plate}, headers=headers
    )
    assert body.status_code == 200, body.get_data(as_text=True)
    answer = body.get_json()
    assert answer["valid"] and not answer["revoked"] and answer["step"] is None
    assert answer["permit"]["number"] == issued.number and answer["permit"]["plates"] == [plate]
    assert answer["permit"]["windows"] == [] and answer["permit"]["category"] == "1"
    other = client.post(URL, json={"seal": issued.seal, "plate": "ZZ999ZZ"}, headers=headers)
    assert other.get_json()["step"] == "plate" and not other.get_json()["valid"]
    later = (issued.valid_to + dt.timedelta(days=1)).isoformat()
    expired = client.post(URL, json={"seal": issued.seal, "at": later}, headers=headers)
    assert expired.get_json()["step"] == "expired"
    revoke_permit(issued.number, Actor(label="clerk"), "stolen card")
    revoked = client.post(URL, json={"seal": issued.seal}, headers=headers).get_json()
    assert revoked["revoked"] and revoked["step"] == "revoked" and not revoked["valid"]
    forged = issued.seal[:-3] + ("A" if issued.seal[-3] != "A" else "B") + issued.seal[-2:]
    answer = client.post(URL, json={"seal": forged}, headers=headers).get_json()
    assert not answer["valid"] and answer["step"] in {"parse", "signature"}


def test_bad_input_is_400_and_tokens_are_required(city: Flask, client: FlaskClient) -> None:
    issued = issue_resident()
    assert client.post(URL, json={"seal": issued.seal}).status_code == 401
    headers = _bearer("gate")
    cases = [
        {},
        {"seal": ""},
        {"seal": 42},
        {"seal": issued.seal, "at": "2026-11-25T10:00:00"},  # no offset: refused, not guessed
        {"seal": issued.seal, "plate": "???"},
        {"seal": "Z" * 5000},
    ]
    for body in cases:
        response = client.post(URL, json=body, headers=headers)
        assert response.status_code == 400, (body, response.get_data(as_text=True))
        assert response.get_json()["error"] == "bad_request"
    not_json = client.post(URL, data="seal=x", headers=headers)
    assert not_json.status_code == 400
    garbage = client.post(URL, json={"seal": "ZTL1:%%%"}, headers=headers).get_json()
    assert garbage["step"] == "parse" and not garbage["valid"]
