"""Sign-in, lock-out, sign-out, registration, CSRF refusal and safe redirects, through HTTP."""

from __future__ import annotations

import html
import re
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import csrf_token, login
from tests.factories import CF_MARIO, PASSWORD, make_user
from ztl.extensions import db
from ztl.models import User


@pytest.mark.parametrize(
    ("role", "home"),
    [
        ("resident", "/area-personale/"),
        ("clerk", "/ufficio/"),
        ("supervisor", "/supervisione/"),
        ("police", "/polizia/"),
        ("admin", "/amministrazione/"),
    ],
)
def test_login_lands_on_the_role_home(client: FlaskClient, role: str, home: str) -> None:
    make_user(role, f"{role}@comune.example.org")
    response = login(client, f"{role}@comune.example.org", PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == home
    page = client.get(home)
    assert page.status_code == 200
    assert f"Test {role}" in page.get_data(as_text=True)  # the user's name in the header
    assert client.get("/").headers["Location"] == home  # the home page sends them there too


def test_wrong_password_is_401_with_a_message(client: FlaskClient) -> None:
    make_user("clerk", "clerk@comune.example.org")
    response = login(client, "clerk@comune.example.org", "wrong-password-1")
    assert response.status_code == 401
    assert "E-mail o password non corretti." in response.get_data(as_text=True)
    assert client.get("/ufficio/").status_code == 302


def test_lockout_message_even_with_the_right_password(app: Flask, client: FlaskClient) -> None:
    user = make_user("police", "police@comune.example.org")
    for _ in range(app.config["ZTL_LOGIN_MAX_FAILURES"]):
        login(client, "police@comune.example.org", "wrong-password-1")
    response = login(client, "police@comune.example.org", PASSWORD)
    assert response.status_code == 401
    page = response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.locked_until is not None
    # The time the lock ends, as a person in Prato reads it on a clock.
    local_end = user.locked_until.astimezone(ZoneInfo("Europe/Rome")).strftime("%H:%M")
    assert f"l'account è bloccato fino alle {local_end}" in html.unescape(page)
    assert client.get("/polizia/").status_code == 302


def test_guarded_page_sends_to_sign_in_with_a_message_in_the_visitors_language(
    client: FlaskClient,
) -> None:
    assert client.get("/ufficio/").headers["Location"] == "/accedi?next=%2Fufficio%2F"
    assert "Accedi per aprire la pagina richiesta." in client.get("/accedi").get_data(as_text=True)
    english = {"Accept-Language": "en"}
    client.get("/ufficio/", headers=english)
    page = client.get("/accedi", headers=english).get_data(as_text=True)
    assert "Sign in to open the page you asked for." in page
    # The sign-in form carries the page to return to.
    form = client.get("/accedi?next=/ufficio/").get_data(as_text=True)
    assert 'name="next" type="hidden" value="/ufficio/"' in form


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/accedi", {"email": "a@comune.example.org", "password": "x"}),
        ("/esci", {}),
        ("/registrazione", {"email": "a@comune.example.org"}),
        ("/lingua", {"lang": "en"}),
    ],
)
def test_post_without_csrf_token_is_refused(
    client: FlaskClient, path: str, data: dict[str, str]
) -> None:
    response = client.post(path, data=data)
    assert response.status_code == 400
    assert "Richiesta non valida" in response.get_data(as_text=True)


def test_logout_needs_a_post_with_token(client: FlaskClient) -> None:
    make_user("clerk", "clerk@comune.example.org")
    login(client, "clerk@comune.example.org", PASSWORD)
    assert client.get("/esci").status_code == 405
    assert client.get("/ufficio/").status_code == 200
    token = csrf_token(client, "/ufficio/")
    assert client.post("/esci", data={"csrf_token": token}).status_code == 302
    assert client.get("/ufficio/").status_code == 302


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/ufficio/?stato=x", "/ufficio/?stato=x"),
        ("//evil.example/", "/ufficio/"),
        ("https://evil.example/", "/ufficio/"),
        ("/\\evil.example", "/ufficio/"),
        ("javascript:alert(1)", "/ufficio/"),
    ],
)
def test_next_redirect_only_to_local_paths(
    client: FlaskClient, next_url: str, expected: str
) -> None:
    make_user("clerk", "clerk@comune.example.org")
    response = login(client, "clerk@comune.example.org", PASSWORD, next_url=next_url)
    assert response.headers["Location"] == expected


def test_session_is_renewed_on_login(client: FlaskClient) -> None:
    make_user("clerk", "clerk@comune.example.org")
    with client.session_transaction() as session:
        session["planted"] = "by-an-attacker"
    login(client, "clerk@comune.example.org", PASSWORD)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("_user_id")


def test_session_cookie_is_secure_httponly_and_samesite_in_production(
    app: Flask, client: FlaskClient
) -> None:
    """What a browser receives on sign-in: no script can read it, it never travels over HTTP."""
    make_user("clerk", "clerk@comune.example.org")
    app.config["SESSION_COOKIE_SECURE"] = True  # what ZTL_ENV=production sets (test_config)
    try:
        site = "https://ztl.example.org"
        form = client.get("/accedi", base_url=site).get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
        assert token is not None
        response = client.post(
            "/accedi",
            data={
                "email": "clerk@comune.example.org",
                "password": PASSWORD,
                "csrf_token": token[1],
            },
            base_url=site,
            headers={"Referer": f"{site}/accedi"},  # Flask-WTF checks it over HTTPS
        )
    finally:
        app.config["SESSION_COOKIE_SECURE"] = False
    assert response.status_code == 302
    cookies = [v for k, v in response.headers.items() if k.lower() == "set-cookie"]
    session_cookie = next(c for c in cookies if c.startswith("session="))
    attributes = {part.strip().split("=")[0].lower() for part in session_cookie.split(";")[1:]}
    assert attributes == {
        "path",
        "secure",
        "httponly",
        "samesite",
    }  # and no expiry: a session cookie
    assert "samesite=lax" in session_cookie.lower()


def test_a_session_ends_a_working_day_after_sign_in(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copied session cookie stops working: its signature's age is checked on every request."""
    from itsdangerous.timed import TimestampSigner

    make_user("clerk", "clerk@comune.example.org")
    login(client, "clerk@comune.example.org", PASSWORD)
    assert client.get("/ufficio/").status_code == 200
    signed_at = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: signed_at(self) + 13 * 3600)
    response = client.get("/ufficio/")
    assert response.status_code == 302 and "/accedi" in response.headers["Location"]


def test_a_session_cookie_replayed_from_another_browser_is_refused(client: FlaskClient) -> None:
    """Flask-Login's strong protection: the session is tied to the address and browser."""
    make_user("clerk", "clerk@comune.example.org")
    login(client, "clerk@comune.example.org", PASSWORD)
    assert client.get("/ufficio/").status_code == 200
    elsewhere = client.get(
        "/ufficio/",
        headers={"User-Agent": "Mozilla/5.0 (a thief's browser)"},
        environ_base={"REMOTE_ADDR": "198.51.100.66"},
    )
    assert elsewhere.status_code == 302 and "/accedi" in elsewhere.headers["Location"]
    assert client.get("/ufficio/").status_code == 302  # the session itself was dropped


def test_resident_registers_through_the_form(client: FlaskClient) -> None:
    token = csrf_token(client, "/registrazione")
    form = {
        "csrf_token": token,
        "full_name": "Mario Rossi",
        "codice_fiscale": CF_MARIO.lower(),
        "email": "mario@posta.example.org",
        "password": PASSWORD,
        "confirm": PASSWORD,
    }
    response = client.post("/registrazione", data=form)
    assert response.status_code == 302 and response.headers["Location"] == "/area-personale/"
    user = db.session.scalar(select(User).where(User.email == "mario@posta.example.org"))
    assert user is not None and user.codice_fiscale == CF_MARIO and user.role == "resident"
    page = client.get("/area-personale/").get_data(as_text=True)
    assert CF_MARIO in page


def test_registration_errors_are_shown_and_nothing_is_stored(client: FlaskClient) -> None:
    token = csrf_token(client, "/registrazione")
    form = {
        "csrf_token": token,
        "full_name": "Mario Rossi",
        "codice_fiscale": "RSSMRA85T10A562X",
        "email": "mario@posta.example.org",
        "password": PASSWORD,
        "confirm": PASSWORD,
    }
    response = client.post("/registrazione", data=form)
    assert response.status_code == 422
    assert "Il codice fiscale non è valido" in response.get_data(as_text=True)
    mismatch = client.post(
        "/registrazione", data={**form, "codice_fiscale": CF_MARIO, "confirm": "x"}
    )
    assert mismatch.status_code == 400
    page = mismatch.get_data(as_text=True)
    # The error is next to its field, tied to it for screen readers, and listed in the summary.
    assert 'aria-invalid="true"' in page and 'aria-describedby="confirm-errors"' in page
    assert '<div id="confirm-errors" class="invalid-feedback d-block">' in page
    assert '<a href="#confirm">Ripeti la password: Le password non coincidono.</a>' in page
    assert db.session.scalar(select(User)) is None
