"""POST /api/v1/seals/verify: tokens, the spec's answer shape, bad input as 400, zone calendars."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.factories import DEMO_OWN_CAR, DEMO_RESIDENT, issue_resident
from ztl.accounts.api_tokens import create_token
from ztl.applications.counter import CounterRequest, issue_at_counter
from ztl.city.rules_config import current_rules
from ztl.eligibility.service import PlateInput
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import Actor
from ztl.models import Permit
from ztl.permits.changes import revoke_permit
from ztl.seals.verification import verify_with_rules, zone_calendars
from ztl.signing.keys import KeyStore
from ztl.signing.seal import SealCheck, TrustedKey

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
    assert answer["zone_inactive"] is False  # zone A of Prato is restricted at every hour
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
    # The last characters carry the compressed payload's checksum: the seal no longer decodes.
    assert not answer["valid"] and answer["step"] == "parse"


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


def test_the_zone_calendar_of_the_rules_in_force_is_asked(
    city: Flask, client: FlaskClient, keys: KeyStore
) -> None:
    """Prato's zone B is restricted 07:30-18:30 every day; its daily permit is valid 07:30-18:30.

    At 19:00 the permit's hours are over, but so are the zone's: no permit is needed, valid.
    """
    request = CounterRequest("G/B", DEMO_RESIDENT, (PlateInput(DEMO_OWN_CAR),))
    issued = issue_at_counter(request, Actor.cli())
    rome = ZoneInfo(current_rules().timezone)
    day = issued.valid_from.astimezone(rome).date()
    evening = dt.datetime.combine(day, dt.time(19, 0), rome).isoformat()
    morning = dt.datetime.combine(day, dt.time(10, 0), rome).isoformat()
    headers = _bearer("gate")
    free = client.post(URL, json={"seal": issued.seal, "zone": "b", "at": evening}, headers=headers)
    answer = free.get_json()
    assert answer["valid"] and answer["zone_inactive"] is True and answer["step"] is None, answer
    assert answer["reason"] == "valid; zone B is not restricted at that time"
    assert answer["permit"]["windows"] == ["07:30-18:30"]
    busy = client.post(URL, json={"seal": issued.seal, "zone": "B", "at": morning}, headers=headers)
    assert busy.get_json()["valid"] and busy.get_json()["zone_inactive"] is False
    assert busy.get_json()["reason"] == "valid"
    # No zone asked: the permit's hours decide, as before.
    anywhere = client.post(URL, json={"seal": issued.seal, "at": evening}, headers=headers)
    assert anywhere.get_json()["step"] == "window" and anywhere.get_json()["zone_inactive"] is False
    # What `ztl verify` calls with its cached lists: the same calendars, the same answer.
    assert zone_calendars() == {z.code: z.calendar for z in current_rules().zones}
    pair = keys.current_seal()
    trusted = {
        pair.kid: TrustedKey(pair.kid, pair.key.public_key(), pair.valid_from, pair.valid_to)
    }
    offline = verify_with_rules(
        issued.seal, trusted, {}, SealCheck(dt.datetime.fromisoformat(evening), "B")
    )
    assert offline.valid and offline.zone_inactive and offline.reason == answer["reason"]
