"""Sessions that end on the server: sign-out, another browser, a deactivation, a staff shift.

Each test copies the session cookie the way a thief would (the same cookie in a second client),
then checks that the copy stops working when the session ends, not when the cookie expires.
"""

from __future__ import annotations

import datetime as dt
import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from tests.conftest import csrf_token, login, sign_in
from tests.factories import PASSWORD, make_user
from ztl.accounts.user_admin import set_active
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import Actor
from ztl.models import BrowserSession

CLERK = "clerk@comune.example.org"
RESIDENT = "mario@example.org"


def _copy(app: Flask, client: FlaskClient) -> FlaskClient:
    """A second client holding the same cookies: a copied session cookie."""
    thief = app.test_client()
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief.set_cookie("session", cookie.value)
    return thief


def _signed_in(response: object) -> bool:
    status = getattr(response, "status_code", 0)
    return bool(status == 200)


def test_a_copied_cookie_stops_working_at_sign_out(app: Flask, client: FlaskClient) -> None:
    sign_in(client, "clerk", CLERK)
    copy = _copy(app, client)
    assert _signed_in(copy.get("/ufficio/"))

    assert client.post("/esci", data={"csrf_token": csrf_token(client, "/ufficio/")}).status_code
    after = copy.get("/ufficio/")
    assert after.status_code == 302 and "/accedi" in after.headers["Location"]
    ended = db.session.scalars(select(BrowserSession)).one()
    assert ended.ended_at is not None and ended.end_reason == "signed out"


def test_a_person_sees_their_sessions_and_ends_another(app: Flask, client: FlaskClient) -> None:
    make_user("resident", RESIDENT)
    other = app.test_client()
    assert login(other, RESIDENT, PASSWORD).status_code == 302
    assert login(client, RESIDENT, PASSWORD).status_code == 302

    page = client.get("/sessioni").get_data(as_text=True)
    assert page.count("questa sessione") == 1
    ids = [int(i) for i in re.findall(r"/sessioni/(\d+)/termina", page)]
    assert len(ids) == 1  # the other browser's; the current one has no button
    token = csrf_token(client, "/sessioni")
    ended = client.post(f"/sessioni/{ids[0]}/termina", data={"csrf_token": token})
    assert ended.status_code == 303
    assert other.get("/area-personale/").status_code == 302  # signed out there
    assert client.get("/area-personale/").status_code == 200  # still signed in here


def test_nobody_ends_someone_elses_session(app: Flask, client: FlaskClient) -> None:
    make_user("resident", RESIDENT)
    make_user("clerk", CLERK)
    victim = app.test_client()
    assert login(victim, CLERK, PASSWORD).status_code == 302
    victims = db.session.scalars(select(BrowserSession.id)).one()
    assert login(client, RESIDENT, PASSWORD).status_code == 302
    token = csrf_token(client, "/sessioni")
    assert (
        client.post(f"/sessioni/{victims}/termina", data={"csrf_token": token}).status_code == 404
    )
    assert victim.get("/ufficio/").status_code == 200


def test_sign_out_everywhere_else(app: Flask, client: FlaskClient) -> None:
    make_user("resident", RESIDENT)
    others = [app.test_client() for _ in range(2)]
    for other in others:
        assert login(other, RESIDENT, PASSWORD).status_code == 302
    assert login(client, RESIDENT, PASSWORD).status_code == 302
    token = csrf_token(client, "/sessioni")
    assert client.post("/sessioni/termina-le-altre", data={"csrf_token": token}).status_code == 303
    assert [o.get("/area-personale/").status_code for o in others] == [302, 302]
    assert client.get("/area-personale/").status_code == 200


def test_a_deactivation_ends_every_session_of_the_account(app: Flask, client: FlaskClient) -> None:
    clerk = sign_in(client, "clerk", CLERK)
    set_active(clerk.id, False, Actor.cli())
    rows = db.session.scalars(select(BrowserSession)).all()
    assert [r.end_reason for r in rows] == ["account deactivated"]
    set_active(clerk.id, True, Actor.cli())  # reactivated: the old session stays ended
    assert client.get("/ufficio/").status_code == 302


def test_a_staff_session_ends_after_a_shift_a_residents_later(
    app: Flask, client: FlaskClient
) -> None:
    make_user("clerk", CLERK)
    make_user("resident", RESIDENT)
    resident = app.test_client()
    assert login(client, CLERK, PASSWORD).status_code == 302
    assert login(resident, RESIDENT, PASSWORD).status_code == 302
    nine_hours_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=9)
    db.session.execute(update(BrowserSession).values(started_at=nine_hours_ago))
    db.session.commit()
    assert client.get("/ufficio/").status_code == 302  # 8 hours for staff
    assert resident.get("/area-personale/").status_code == 200  # 12 for residents
    ended = db.session.scalars(
        select(BrowserSession).where(BrowserSession.ended_at.is_not(None))
    ).one()
    assert ended.end_reason == "expired"
