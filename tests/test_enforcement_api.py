"""The enforcement API against the demo city, on SQLite and PostgreSQL.

Permits are issued, revoked, replaced and registered through the services; the answers come from
the HTTP API, so what is tested is what a gate or a police device would get. One test runs a
second app on the same database (as a second process would) to show it sees another's change.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.conftest import make_app
from tests.factories import (
    DEMO_OWN_CAR,
    add_household_car,
    issue_resident,
    make_user,
    register_hotel_guest,
)
from ztl.accounts.api_tokens import create_token
from ztl.applications import applicant as applications
from ztl.demo.generator import car_plate
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import Actor
from ztl.lookups.recorder import flush_lookups
from ztl.models import Badge, PlateLookup
from ztl.permits.changes import change_plate, revoke_permit

CLERK = Actor("test-clerk")
STRANGER = car_plate(5_000_123)
ROME = ZoneInfo("Europe/Rome")


def _z(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


@pytest.fixture
def gate(city: Flask) -> dict[str, str]:
    _token, plaintext = create_token("varco-a1", "gate")
    return {"Authorization": f"Bearer {plaintext}"}


def _ask(client: FlaskClient, headers: dict[str, str], plate: str, **query: str) -> dict:
    response = client.get(f"/api/v1/authorizations/{plate}", headers=headers, query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_an_issued_permit_authorizes_its_plate_and_the_lookup_is_recorded(
    city: Flask, client: FlaskClient, gate: dict[str, str]
) -> None:
    issued = issue_resident()
    answer = _ask(client, gate, DEMO_OWN_CAR.lower(), zone="A")
    assert answer["authorized"] is True and answer["zone"] == "A"
    assert [p["number"] for p in answer["permits"]] == [issued.number]
    assert answer["permits"][0]["zones"] == ["A"] and issued.number in answer["reason"]
    refused = _ask(client, gate, STRANGER, zone="A")
    assert refused["authorized"] is False and refused["permits"] == []
    lookups = db.session.scalars(select(PlateLookup).order_by(PlateLookup.id)).all()
    assert [(lk.plate, lk.authorized, lk.actor_label) for lk in lookups] == [
        (DEMO_OWN_CAR, True, "token:varco-a1"),
        (STRANGER, False, "token:varco-a1"),
    ]


def test_bad_questions_get_a_400_and_nothing_is_recorded(
    city: Flask, client: FlaskClient, gate: dict[str, str]
) -> None:
    cases = [
        (f"/api/v1/authorizations/{DEMO_OWN_CAR}", {"at": "2026-06-01T10:00:00"}),  # no offset
        (f"/api/v1/authorizations/{DEMO_OWN_CAR}", {"at": "ieri"}),
        (f"/api/v1/authorizations/{DEMO_OWN_CAR}", {"zone": "Z"}),
        ("/api/v1/authorizations/A*1", {}),
        ("/api/v1/whitelist", {"zone": "A"}),
        ("/api/v1/whitelist", {"zone": "A", "date": "2026-02-30"}),
    ]
    for path, query in cases:
        response = client.get(path, headers=gate, query_string=query)
        assert response.status_code == 400, (path, query, response.get_data(as_text=True))
        assert response.get_json()["error"] == "bad_request"
    assert client.get(f"/api/v1/authorizations/{DEMO_OWN_CAR}").status_code == 401
    assert db.session.scalar(select(func.count()).select_from(PlateLookup)) == 0


def test_revoked_permit_covers_transits_before_the_revocation_only(
    city: Flask, client: FlaskClient, gate: dict[str, str]
) -> None:
    issued = issue_resident()
    before = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    revoke_permit(issued.number, CLERK, "vehicle sold")
    now_answer = _ask(client, gate, DEMO_OWN_CAR, zone="A")
    assert now_answer["authorized"] is False
    earlier = _ask(client, gate, DEMO_OWN_CAR, zone="A", at=_z(before))
    assert earlier["authorized"] is True


def test_a_plate_change_moves_the_authorization(
    city: Flask, client: FlaskClient, gate: dict[str, str]
) -> None:
    issued = issue_resident()
    change_plate(issued.number, DEMO_OWN_CAR, add_household_car("GA123BC"), CLERK)
    assert _ask(client, gate, "GA123BC", zone="A")["authorized"] is True
    assert _ask(client, gate, DEMO_OWN_CAR, zone="A")["authorized"] is False


def test_transits_pending_until_a_hotel_registers_the_guest(
    city: Flask, client: FlaskClient, gate: dict[str, str]
) -> None:
    transit_at = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=3)
    body = {"transits": [{"plate": STRANGER, "gate": "A1", "at": _z(transit_at)}]}
    first = client.post("/api/v1/transits/check", json=body, headers=gate)
    assert first.status_code == 200, first.get_data(as_text=True)
    (result,) = first.get_json()["results"]
    assert result["authorized"] is False and result["zone"] == "A"
    assert result["pending_until"] == _z(transit_at + dt.timedelta(hours=48))

    register_hotel_guest(STRANGER, transit_at - dt.timedelta(minutes=10))

    csv_body = f"plate,gate,at\n{STRANGER},A1,{_z(transit_at)}\n"
    second = client.post(
        "/api/v1/transits/check", data=csv_body, headers={**gate, "Content-Type": "text/csv"}
    )
    assert second.status_code == 200, second.get_data(as_text=True)
    (after,) = second.get_json()["results"]
    assert after["authorized"] is True and after["pending_until"] is None


def test_a_cude_registration_after_the_transit_authorizes_it(
    city: Flask, client: FlaskClient, gate: dict[str, str]
) -> None:
    """A disabled badge holder registers the car they travelled in, after the camera saw it."""
    today = dt.datetime.now(ROME).date()
    holder_cf = db.session.scalars(
        select(Badge.holder_codice_fiscale).where(Badge.valid_until > today)
    ).first()
    assert holder_cf is not None, "the demo city has no valid badge"
    # The last noon in Prato: zone B is active then, and it is less than 48 hours ago.
    now = dt.datetime.now(ROME)
    transit_at = now.replace(hour=12, minute=0, second=0, microsecond=0)
    if transit_at > now:
        transit_at -= dt.timedelta(days=1)
    body = {"transits": [{"plate": STRANGER, "zone": "B", "at": _z(transit_at)}]}

    def check() -> dict:
        response = client.post("/api/v1/transits/check", json=body, headers=gate)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()["results"][0]

    before = check()
    assert before["authorized"] is False and before["pending_until"] is not None

    holder = make_user("resident", "contrassegno@posta.example.org", codice_fiscale=holder_cf)
    data = applications.ApplicationInput(
        category="H", applicant_id="", plates=(STRANGER,), zones=("A", "B"), transit_at=transit_at
    )
    application_id = applications.create_draft(holder, data)
    outcome = applications.submit_application(application_id, holder)
    assert outcome.permit_number is not None, outcome
    after = check()
    assert after["authorized"] is True and after["pending_until"] is None


def test_transit_bodies_that_cannot_be_read_are_refused(
    city: Flask, client: FlaskClient, gate: dict[str, str]
) -> None:
    bodies = [
        {"transits": [{"plate": STRANGER, "gate": "A1", "at": "2026-06-01T10:00:00"}]},
        {"transits": [{"plate": STRANGER, "gate": "NOPE", "at": "2026-06-01T10:00:00Z"}]},
        {"transits": [{"plate": STRANGER, "at": "2026-06-01T10:00:00Z"}]},
        {"transits": "no"},
        [],
    ]
    for body in bodies:
        response = client.post("/api/v1/transits/check", json=body, headers=gate)
        assert response.status_code == 400, (body, response.get_data(as_text=True))
    bad_csv = client.post(
        "/api/v1/transits/check",
        data="AB123CD,A1\n",
        headers={**gate, "Content-Type": "text/csv"},
    )
    assert bad_csv.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(PlateLookup)) == 0


def test_whitelist_lists_the_plates_of_the_day(
    city: Flask, client: FlaskClient, gate: dict[str, str]
) -> None:
    issue_resident()
    # The whitelist's day is Prato's: between 23:00 and midnight UTC it is already tomorrow there.
    today = dt.datetime.now(ROME).date().isoformat()
    response = client.get(
        "/api/v1/whitelist", headers=gate, query_string={"zone": "A", "date": today}
    )
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["plate"], r["zone"]) for r in rows] == [(DEMO_OWN_CAR, "A")]
    empty = client.get("/api/v1/whitelist", headers=gate, query_string={"zone": "B", "date": today})
    assert list(csv.DictReader(io.StringIO(empty.get_data(as_text=True)))) == []


def test_a_change_made_by_one_process_is_seen_by_another(
    city: Flask, client: FlaskClient, gate: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    """A second app on the same database has its own index (as another process has)."""
    other = make_app(database_url, tmp_path / "other", ZTL_ENFORCEMENT_REFRESH_SECONDS=0)
    other.config["ZTL_KEYS_DIR"] = city.config["ZTL_KEYS_DIR"]
    other_client = other.test_client()
    assert _ask(other_client, gate, DEMO_OWN_CAR, zone="A")["authorized"] is False  # built now
    issued = issue_resident()  # committed by this app
    assert _ask(other_client, gate, DEMO_OWN_CAR, zone="A")["authorized"] is True
    revoke_permit(issued.number, CLERK, "sold")
    assert _ask(other_client, gate, DEMO_OWN_CAR, zone="A")["authorized"] is False
    # With a refresh interval, the other process sees the change once the interval has passed.
    other.config["ZTL_ENFORCEMENT_REFRESH_SECONDS"] = 0.2
    assert _ask(other_client, gate, DEMO_OWN_CAR, zone="A")["authorized"] is False
    issue_resident()
    time.sleep(0.25)
    assert _ask(other_client, gate, DEMO_OWN_CAR, zone="A")["authorized"] is True
    with other.app_context():
        db.engine.dispose()


def test_lookups_written_in_batches_all_reach_the_log(
    city: Flask, client: FlaskClient, gate: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(city.config, "ZTL_LOOKUP_FLUSH_SECONDS", 30)  # only an explicit flush
    for _ in range(3):
        _ask(client, gate, STRANGER, zone="A")
    assert db.session.scalar(select(func.count()).select_from(PlateLookup)) == 0
    assert flush_lookups() == 3
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(PlateLookup)) == 3


def test_tokens_are_rate_limited(
    city: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import FrozenWindow
    from ztl.api import rate_limit

    monkeypatch.setitem(city.config, "ZTL_API_RATE_PER_MINUTE", 2)
    monkeypatch.setattr(rate_limit, "_WINDOW", FrozenWindow())
    _token, plaintext = create_token("varco-lento", "gate")
    headers = {"Authorization": f"Bearer {plaintext}"}
    for _ in range(2):
        _ask(client, headers, STRANGER, zone="A")
    limited = client.get(f"/api/v1/authorizations/{STRANGER}", headers=headers)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "60"
    assert limited.get_json()["error"] == "rate_limited"


def test_a_city_without_zones_answers_503_not_500(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "ZTL_ENFORCEMENT_REFRESH_SECONDS", 0)
    _token, plaintext = create_token("varco-nuovo", "gate")
    response = client.get(
        f"/api/v1/authorizations/{STRANGER}", headers={"Authorization": f"Bearer {plaintext}"}
    )
    assert response.status_code == 503 and response.get_json()["error"] == "no_zones"


def test_new_zone_hours_reach_the_index(
    city: Flask, client: FlaskClient, gate: dict[str, str]
) -> None:
    """Zone hours live in the index too: a rules file applied with new hours (as a restart of
    another process would apply it) is a change every process must see."""
    from ztl.city import sync_city
    from ztl.rules.loader import DEFAULT_RULES, parse_rules

    day = dt.datetime.now(ROME).date() - dt.timedelta(days=1)
    early = dt.datetime.combine(day, dt.time(6, 30), ROME)
    assert _ask(client, gate, STRANGER, zone="B", at=_z(early))["authorized"] is True  # B asleep
    text = DEFAULT_RULES.read_text(encoding="utf-8")
    earlier = text.replace('active = ["07:30-18:30"]', 'active = ["06:00-18:30"]')
    assert sync_city(parse_rules(earlier, "prato.toml")).changes == (
        "zone B: 07:30-18:30 -> 06:00-18:30",
    )
    assert _ask(client, gate, STRANGER, zone="B", at=_z(early))["authorized"] is False
