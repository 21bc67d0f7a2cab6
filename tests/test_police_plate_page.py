"""The police plate lookup page through HTTP, on SQLite and PostgreSQL.

What the officer sees (a clear yes or no, the reason, the permits, until when, pending), that each
answer is recorded under the officer's name on the police page's channel, that bad input is a 400
with a message on the page and nothing recorded, who may open the page, and the accessibility
audit in Italian and English.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from wtforms.fields.choices import SelectChoice

from tests.conftest import audit, csrf_token, login, problems_of, sign_in
from tests.factories import DEMO_OWN_CAR, PASSWORD, issue_resident, make_user
from ztl.demo.generator import car_plate
from ztl.extensions import db
from ztl.models import PlateLookup, User

PAGE = "/polizia/targa"
OFFICER = "agente@comune.example.org"
STRANGER = car_plate(5_000_123)


@pytest.fixture
def officer(city: Flask, client: FlaskClient) -> User:
    user = sign_in(client, "police", OFFICER)
    return user


def _ask(client: FlaskClient, **fields: str) -> tuple[int, str]:
    data = {"csrf_token": csrf_token(client, PAGE), "zone": "", "at": "", **fields}
    response = client.post(PAGE, data=data)
    assert response.headers["Cache-Control"] == "no-store"
    return response.status_code, response.get_data(as_text=True)


def _text(html: str) -> str:
    """The page's words without tags, spaces collapsed (what a reader of the page sees)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _lookups() -> list[PlateLookup]:
    return list(db.session.scalars(select(PlateLookup).order_by(PlateLookup.id)))


def test_the_form_lists_the_zones_and_the_home_page_links_it(
    officer: User, client: FlaskClient
) -> None:
    home = client.get("/polizia/").get_data(as_text=True)
    assert f'href="{PAGE}"' in home
    response = client.get(PAGE)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'method="post"' in html and 'name="csrf_token"' in html
    assert '<option value="A">A · ' in html and '<option value="B">B · ' in html
    assert 'type="datetime-local"' in html
    assert _lookups() == []  # showing the form asks nothing


def test_an_authorized_plate_with_its_permit_recorded_under_the_officer(
    officer: User, client: FlaskClient
) -> None:
    issued = issue_resident()
    spaced = f"{DEMO_OWN_CAR[:2].lower()} {DEMO_OWN_CAR[2:5]}-{DEMO_OWN_CAR[5:].lower()}"
    status, html = _ask(client, plate=spaced, zone="A")
    assert status == 200, html
    assert 'data-authorized="yes"' in html
    text = _text(html)
    assert "Autorizzato" in text and "NON autorizzato" not in text
    assert f"permesso {issued.number} valido" in text and f"permit {issued.number} valid" in text
    assert issued.number in text and "1 · Residenti" in text and "Sempre" in text
    valid_to = issued.valid_to.astimezone(dt.UTC).isoformat()
    assert f'datetime="{valid_to}"' in html  # valid until, shown in local time
    # The form is ready for the next plate, in the same zone.
    assert re.search(r'<input [^>]*name="plate"[^>]*value=""', html)
    assert '<option selected value="A">' in html
    (lookup,) = _lookups()
    assert lookup.plate == DEMO_OWN_CAR and lookup.zone == "A" and lookup.authorized is True
    assert lookup.channel == "police_page"
    assert lookup.user_id == officer.id and lookup.actor_label == f"user:{OFFICER}"
    assert lookup.token_id is None


def test_a_plate_without_permit_is_not_authorized_and_pending_now(
    officer: User, client: FlaskClient
) -> None:
    status, html = _ask(client, plate=STRANGER, zone="A")
    assert status == 200, html
    assert 'data-authorized="no"' in html and "NON autorizzato" in html
    text = _text(html)
    assert (
        "nessun permesso per questa targa" in text and "Nessun permesso per questa targa." in text
    )
    # Zone A takes retroactive registrations: a "no" now is pending for 48 hours.
    assert 'id="pending"' in html and "In attesa fino al" in text
    (lookup,) = _lookups()
    assert lookup.plate == STRANGER and lookup.authorized is False
    assert lookup.pending_until is not None and lookup.user_id == officer.id


def test_a_time_typed_in_local_time_past_the_registration_window(
    officer: User, client: FlaskClient
) -> None:
    issue_resident()
    # Zone B is active 07:30-18:30 Rome time: at 03:00 no permit is needed.
    status, html = _ask(client, plate=DEMO_OWN_CAR, zone="B", at="2026-07-01T03:00")
    assert status == 200, html
    assert "zona B non attiva" in _text(html) and 'data-authorized="yes"' in html
    # Three days ago at noon, a stranger in zone A: no permit, and too late to be registered.
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(days=3)).strftime("%Y-%m-%dT12:00")
    status, html = _ask(client, plate=STRANGER, zone="A", at=past)
    assert status == 200 and 'data-authorized="no"' in html and 'id="pending"' not in html
    night, stranger = _lookups()
    assert night.at == dt.datetime(2026, 7, 1, 1, 0, tzinfo=dt.UTC)  # 03:00 CEST
    assert stranger.authorized is False and stranger.pending_until is None


def test_any_zone_answers_with_the_zone_that_authorizes(officer: User, client: FlaskClient) -> None:
    issued = issue_resident()
    status, html = _ask(client, plate=DEMO_OWN_CAR, zone="")
    assert status == 200 and 'data-authorized="yes"' in html and issued.number in html
    (lookup,) = _lookups()
    assert lookup.zone == "A" and lookup.authorized is True  # the resident permit's zone


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"plate": "A*1", "zone": "A"}, "Targa non valida"),
        ({"plate": "   ", "zone": "A"}, "Scrivi la targa da verificare"),
        ({"plate": DEMO_OWN_CAR, "zone": "Z"}, "Scegli una delle zone"),
        ({"plate": DEMO_OWN_CAR, "zone": "A", "at": "ieri"}, "Data e ora non valide"),
        ({"plate": DEMO_OWN_CAR, "zone": "A", "at": "0001-01-01T00:00"}, "Data e ora non valide"),
    ],
)
def test_bad_input_is_a_400_with_a_message_and_nothing_recorded(
    officer: User, client: FlaskClient, fields: dict[str, str], message: str
) -> None:
    status, html = _ask(client, **fields)
    assert status == 400
    assert message in html and 'aria-invalid="true"' in html
    assert "Il modulo non è stato inviato" in html
    assert _lookups() == []


def test_a_zone_the_service_does_not_know_is_a_400_not_a_500(
    officer: User, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A zone in the form's list that the index refuses (removed meanwhile): the service's words."""
    from ztl.web.police import plate_views

    original = plate_views._form

    def with_ghost_zone() -> plate_views.PlateForm:
        form = original()
        form.zone.choices = [*(form.zone.choices or []), SelectChoice("Q", "Q · ghost")]
        return form

    monkeypatch.setattr(plate_views, "_form", with_ghost_zone)
    status, html = _ask(client, plate=DEMO_OWN_CAR, zone="Q")
    assert status == 400 and "unknown zone" in html and "Non è stato possibile verificare" in html
    assert _lookups() == []


def test_without_a_csrf_token_nothing_is_asked(officer: User, client: FlaskClient) -> None:
    response = client.post(PAGE, data={"plate": STRANGER, "zone": "A"})
    assert response.status_code == 400
    assert _lookups() == []


@pytest.mark.parametrize("role", ["resident", "clerk", "supervisor"])
def test_other_roles_are_refused(city: Flask, client: FlaskClient, role: str) -> None:
    email = f"{role}@comune.example.org"
    make_user(role, email)
    login(client, email, PASSWORD)
    assert client.get(PAGE).status_code == 403
    token = csrf_token(client, "/pagina-che-non-esiste")
    response = client.post(PAGE, data={"csrf_token": token, "plate": STRANGER, "zone": "A"})
    assert response.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(PlateLookup)) == 0


def test_anonymous_visitors_are_sent_to_sign_in(city: Flask, client: FlaskClient) -> None:
    response = client.get(PAGE)
    assert response.status_code == 302 and "/accedi" in response.headers["Location"]


def test_an_administrator_may_ask(city: Flask, client: FlaskClient) -> None:
    make_user("admin", "admin@comune.example.org")
    login(client, "admin@comune.example.org", PASSWORD)
    status, _html = _ask(client, plate=STRANGER, zone="A")
    assert status == 200
    (lookup,) = _lookups()
    assert lookup.actor_label == "user:admin@comune.example.org"


@pytest.mark.parametrize("language", ["it", "en"])
def test_the_pages_pass_the_audit(officer: User, client: FlaskClient, language: str) -> None:
    issue_resident()
    if language != "it":
        token = csrf_token(client, "/pagina-che-non-esiste")
        client.post("/lingua", data={"lang": language, "next": "/", "csrf_token": token})
    pages = {
        "form": client.get(PAGE).get_data(as_text=True),
        "authorized": _ask(client, plate=DEMO_OWN_CAR, zone="A")[1],
        "refused": _ask(client, plate=STRANGER, zone="A")[1],
        "errors": _ask(client, plate="A*1", zone="Z", at="x")[1],
    }
    report = {name: problems_of(audit(html), language) for name, html in pages.items()}
    assert report == {name: [] for name in pages}
