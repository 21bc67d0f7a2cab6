"""Staff sign-in with a second factor (TOTP, RFC 6238) and recovery codes, through HTTP.

The codes are computed with pyotp's defaults (6 digits, SHA-1, 30 seconds: what authenticator apps
do) at the server's time, which the `clock` fixture holds still so that a test decides which time
step each code belongs to. The configuration itself is checked against RFC 6238's test vectors.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import FrozenWindow, csrf_token, login, sign_in
from tests.factories import CF_MARIO, PASSWORD, make_user
from ztl.accounts import second_factor
from ztl.accounts.second_factor import CodeOutcome, SecondFactorError, SecondStep
from ztl.config import ConfigurationError, build_settings
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import Actor
from ztl.models import BrowserSession, Event, RecoveryCode, SecondFactor, User
from ztl.web.auth.pending import PENDING_KEY

CLERK = "clerk@comune.example.org"
SUPERVISOR = "supervisor@comune.example.org"
SECRET_ON_PAGE = re.compile(r'id="second-factor-secret"[^>]*>([A-Z2-7 ]+)<')
CODES_ON_PAGE = re.compile(r"<li><code>([A-Z2-7]{4}-[A-Z2-7]{4})</code></li>")


@dataclass
class Clock:
    """The server's time for the second factor (ztl.accounts.second_factor.utcnow)."""

    now: dt.datetime

    def step(self, steps: int = 1) -> None:
        self.now += dt.timedelta(seconds=30 * steps)

    def code(self, secret: str, steps: int = 0) -> str:
        """What an authenticator app shows now (or `steps` steps from now): pyotp's defaults."""
        return str(pyotp.TOTP(secret).at(self.now + dt.timedelta(seconds=30 * steps)))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    real = dt.datetime.now(dt.UTC).replace(microsecond=0)
    # The middle of a time step: one step later is one step later.
    middle = real - dt.timedelta(seconds=real.timestamp() % 30) + dt.timedelta(seconds=15)
    held = Clock(middle)
    monkeypatch.setattr(second_factor, "utcnow", lambda: held.now)
    return held


@pytest.fixture
def required(app: Flask) -> Iterator[None]:
    """What production has (test_production_requires_the_second_factor checks it does)."""
    app.config["ZTL_STAFF_SECOND_FACTOR"] = True
    try:
        yield
    finally:
        app.config["ZTL_STAFF_SECOND_FACTOR"] = False


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def enrolled(role: str, email: str, clock: Clock) -> tuple[User, str, list[str]]:
    """A staff account with an authenticator set up (through the service): user, secret, codes."""
    user = make_user(role, email)
    secret = pyotp.random_base32()
    codes = second_factor.enrol(user.id, secret, clock.code(secret), Actor.cli())
    clock.step()  # the confirming code's step is spent
    return user, secret, codes


def password_step(client: FlaskClient, email: str, expected: str = "/accedi/codice") -> None:
    response = login(client, email, PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == expected


def send_code(client: FlaskClient, code: str) -> Any:
    token = csrf_token(client, "/accedi/codice")
    return client.post("/accedi/codice", data={"csrf_token": token, "code": code})


def sign_in_with_code(client: FlaskClient, email: str, secret: str, clock: Clock) -> None:
    password_step(client, email)
    response = send_code(client, clock.code(secret))
    assert response.status_code == 302, text(response)
    clock.step()


def signed_in(client: FlaskClient, home: str = "/ufficio/") -> bool:
    return bool(client.get(home).status_code == 200)


def stored(user_id: int) -> User:
    db.session.expire_all()
    user = db.session.get(User, user_id)
    assert user is not None
    return user


def events(action: str) -> list[Event]:
    db.session.expire_all()
    return list(db.session.scalars(select(Event).where(Event.action == action)))


# --- the configuration is RFC 6238's ------------------------------------------------------------

# RFC 6238, Appendix B: SHA-1, the ASCII secret "12345678901234567890", 8 digits, 30 s, T0 = 0.
RFC_6238_SHA1 = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]


def test_codes_follow_rfc_6238_test_vectors() -> None:
    secret = base64.b32encode(b"12345678901234567890").decode()
    for unix_time, expected in RFC_6238_SHA1:
        assert second_factor.totp(secret, digits=8).at(unix_time) == expected, unix_time
        # The 6-digit code people type is the same value truncated (RFC 4226, 5.3): the last six.
        assert second_factor.totp(secret).at(unix_time) == expected[-6:], unix_time
        assert pyotp.TOTP(secret).at(unix_time) == expected[-6:]  # what the apps compute
    assert (second_factor.DIGITS, second_factor.INTERVAL) == (6, 30)
    assert second_factor.DIGEST is hashlib.sha1 and second_factor.DRIFT_STEPS == 1
    assert second_factor.time_step(dt.datetime.fromtimestamp(59, dt.UTC)) == 1


def test_the_qr_code_carries_the_municipality_and_the_account(app: Flask) -> None:
    uri = second_factor.provisioning_uri(pyotp.random_base32(), CLERK)
    parsed = pyotp.parse_uri(uri)
    assert uri.startswith("otpauth://totp/")
    assert parsed.issuer == "Comune di Prato" and parsed.name == CLERK
    assert isinstance(parsed, pyotp.TOTP)
    assert (parsed.digits, parsed.interval, parsed.digest().name) == (6, 30, "sha1")


# --- who is asked -------------------------------------------------------------------------------


def test_production_requires_the_second_factor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZTL_SECRET_KEY", "k3y-" + "0123456789abcdefghijklmnopqrstuvwxyz")
    monkeypatch.delenv("ZTL_STAFF_SECOND_FACTOR", raising=False)
    monkeypatch.setenv("ZTL_ENV", "development")
    assert build_settings(tmp_path, None)["ZTL_STAFF_SECOND_FACTOR"] is False
    monkeypatch.setenv("ZTL_STAFF_SECOND_FACTOR", "true")
    assert build_settings(tmp_path, None)["ZTL_STAFF_SECOND_FACTOR"] is True
    monkeypatch.setenv("ZTL_ENV", "production")
    monkeypatch.delenv("ZTL_STAFF_SECOND_FACTOR")
    assert build_settings(tmp_path, None)["ZTL_STAFF_SECOND_FACTOR"] is True
    monkeypatch.setenv("ZTL_STAFF_SECOND_FACTOR", "false")
    with pytest.raises(ConfigurationError, match="ZTL_STAFF_SECOND_FACTOR=false is refused"):
        build_settings(tmp_path, None)
    with pytest.raises(ConfigurationError, match="ZTL_STAFF_SECOND_FACTOR"):  # a mapping neither
        build_settings(tmp_path, {"ZTL_ENV": "production", "ZTL_STAFF_SECOND_FACTOR": False})
    monkeypatch.setenv("ZTL_STAFF_SECOND_FACTOR", "maybe")
    with pytest.raises(ConfigurationError, match="must be true or false"):
        build_settings(tmp_path, None)


def test_development_signs_staff_in_with_the_password_alone(client: FlaskClient) -> None:
    make_user("clerk", CLERK)
    assert login(client, CLERK, PASSWORD).headers["Location"] == "/ufficio/"


@pytest.mark.usefixtures("required")
def test_a_resident_is_never_asked(app: Flask, client: FlaskClient, clock: Clock) -> None:
    resident = make_user("resident", "mario@posta.example.org", codice_fiscale=CF_MARIO)
    response = login(client, "mario@posta.example.org", PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/area-personale/"
    assert client.get("/sessioni/secondo-fattore").status_code == 403
    assert "secondo-fattore" not in text(client.get("/sessioni"))
    with pytest.raises(SecondFactorError) as refused:
        second_factor.enrol(resident.id, pyotp.random_base32(), "123456", Actor.cli())
    assert refused.value.code == "not_staff"
    # Even a row written behind the service's back does not make them a second step.
    db.session.add(SecondFactor(user_id=resident.id, secret_encrypted=b"x", last_step=0))
    db.session.commit()
    assert second_factor.second_step(db.session, stored(resident.id)) is None


# --- enrolment ----------------------------------------------------------------------------------


def test_enrolment_end_to_end_through_the_pages(client: FlaskClient, clock: Clock) -> None:
    """Development: a clerk turns it on from /sessioni; from then on sign-in asks for the code."""
    clerk = sign_in(client, "clerk", CLERK)
    assert "/sessioni/secondo-fattore" in text(client.get("/sessioni"))
    page = text(client.get("/sessioni/secondo-fattore"))
    assert "Il secondo fattore non è attivo" in page
    match = SECRET_ON_PAGE.search(page)
    assert match, page
    secret = match[1].replace(" ", "")
    assert len(secret) == 32
    # The QR code is drawn by the server: an SVG data URI, nothing fetched from elsewhere.
    assert re.search(r'<img src="data:image/svg\+xml', page)
    assert not re.search(r'(src|href)="https?://', page)
    again = SECRET_ON_PAGE.search(text(client.get("/sessioni/secondo-fattore")))
    assert again and again[1] == match[1]  # a reload shows the same secret

    token = csrf_token(client, "/sessioni/secondo-fattore")
    wrong = client.post(
        "/sessioni/secondo-fattore/attivazione",
        data={"csrf_token": token, "code": clock.code(secret, steps=5)},
    )
    assert wrong.status_code == 422 and "Il codice non corrisponde" in text(wrong)
    assert db.session.get(SecondFactor, clerk.id) is None

    token = csrf_token(client, "/sessioni/secondo-fattore")
    done = client.post(
        "/sessioni/secondo-fattore/attivazione",
        data={"csrf_token": token, "code": clock.code(secret)},
    )
    assert done.status_code == 200 and done.headers["Cache-Control"] == "no-store"
    codes = CODES_ON_PAGE.findall(text(done))
    assert len(set(codes)) == second_factor.RECOVERY_CODES == 10
    assert [e.subject_id for e in events("second_factor_enrolled")] == [str(clerk.id)]
    page = text(client.get("/sessioni/secondo-fattore"))
    assert "Codici di recupero non ancora usati: 10." in page
    assert not CODES_ON_PAGE.findall(page)  # shown once
    clock.step()

    client.post("/esci", data={"csrf_token": csrf_token(client, "/ufficio/")})
    password_step(client, CLERK)
    assert not signed_in(client)  # the password alone signs nobody in
    assert send_code(client, clock.code(secret)).headers["Location"] == "/ufficio/"
    assert signed_in(client)


@pytest.mark.usefixtures("required")
def test_production_without_enrolment_forces_it_at_sign_in(
    client: FlaskClient, clock: Clock
) -> None:
    clerk = make_user("clerk", CLERK)
    password_step(client, CLERK, expected="/accedi/attivazione")
    assert not signed_in(client)
    assert client.get("/accedi/codice").headers["Location"] == "/accedi/attivazione"
    page = text(client.get("/accedi/attivazione"))
    assert "Attiva il secondo fattore" in page and 'src="data:image/svg+xml' in page
    match = SECRET_ON_PAGE.search(page)
    assert match
    secret = match[1].replace(" ", "")

    token = csrf_token(client, "/accedi/attivazione")
    wrong = client.post("/accedi/attivazione", data={"csrf_token": token, "code": "000000"})
    assert wrong.status_code == 422 and not signed_in(client)

    token = csrf_token(client, "/accedi/attivazione")
    done = client.post(
        "/accedi/attivazione", data={"csrf_token": token, "code": clock.code(secret)}
    )
    assert done.status_code == 200
    assert len(CODES_ON_PAGE.findall(text(done))) == 10
    assert 'href="/ufficio/"' in text(done)  # then on to work
    assert signed_in(client)
    assert stored(clerk.id).last_login_at is not None
    # The code that confirmed the app cannot open a second sign-in.
    other = client.application.test_client()
    password_step(other, CLERK)
    refused = send_code(other, clock.code(secret))
    assert refused.status_code == 401 and "già stato usato" in text(refused)


# --- the code step ------------------------------------------------------------------------------


def test_a_right_code_signs_in_and_keeps_the_next_page(client: FlaskClient, clock: Clock) -> None:
    _clerk, secret, _codes = enrolled("clerk", CLERK, clock)
    response = login(client, CLERK, PASSWORD, next_url="/ufficio/?stato=x")
    assert response.headers["Location"] == "/accedi/codice"
    with client.session_transaction() as session:
        assert set(session) <= {PENDING_KEY, "csrf_token", "_flashes", "lang"}  # nobody signed in
        assert "_user_id" not in session
    assert send_code(client, clock.code(secret)).headers["Location"] == "/ufficio/?stato=x"
    assert signed_in(client)
    with client.session_transaction() as session:
        assert PENDING_KEY not in session


def test_a_wrong_code_is_a_401_and_counts_towards_the_lock(
    app: Flask, client: FlaskClient, clock: Clock
) -> None:
    clerk, secret, _codes = enrolled("clerk", CLERK, clock)
    password_step(client, CLERK)
    wrong = send_code(client, clock.code(secret, steps=7))
    assert wrong.status_code == 401 and "Codice non corretto." in text(wrong)
    assert not signed_in(client)
    assert stored(clerk.id).failed_logins == 1
    # The right password again does not give the guesses back.
    password_step(client, CLERK)
    assert stored(clerk.id).failed_logins == 1
    for _ in range(app.config["ZTL_LOGIN_MAX_FAILURES"] - 2):
        assert send_code(client, "999999").status_code == 401
    locked = send_code(client, "999999")
    assert locked.status_code == 302 and locked.headers["Location"] == "/accedi"
    assert "l'account è bloccato fino alle" in text(client.get("/accedi"))
    assert stored(clerk.id).locked_until is not None
    assert len(events("locked")) == 1
    # Locked: even the right password and code do not open it.
    assert login(client, CLERK, PASSWORD).status_code == 401
    assert not signed_in(client)


def test_a_replayed_code_is_refused(client: FlaskClient, clock: Clock) -> None:
    clerk, secret, _codes = enrolled("clerk", CLERK, clock)
    code = clock.code(secret)
    password_step(client, CLERK)
    assert send_code(client, code).status_code == 302
    client.post("/esci", data={"csrf_token": csrf_token(client, "/ufficio/")})

    password_step(client, CLERK)
    replayed = send_code(client, code)
    assert replayed.status_code == 401 and "già stato usato" in text(replayed)
    assert not signed_in(client)
    assert stored(clerk.id).failed_logins == 0  # a repeat is not a guess
    # An earlier step than the last one used is refused too, the next one is accepted.
    assert send_code(client, clock.code(secret, steps=-1)).status_code == 401
    assert send_code(client, clock.code(secret, steps=1)).status_code == 302


@pytest.mark.parametrize("steps", [-2, 2, 10])
def test_a_code_too_far_from_the_servers_time_is_refused(
    client: FlaskClient, clock: Clock, steps: int
) -> None:
    _clerk, secret, _codes = enrolled("clerk", CLERK, clock)
    clock.step(3)
    password_step(client, CLERK)
    assert send_code(client, clock.code(secret, steps=steps)).status_code == 401
    assert send_code(client, clock.code(secret, steps=-1)).status_code == 302  # one step: drift


def test_a_recovery_code_works_once(client: FlaskClient, clock: Clock) -> None:
    clerk, _secret, codes = enrolled("clerk", CLERK, clock)
    password_step(client, CLERK)
    typed = codes[0].lower().replace("-", " ")  # as a person might type it
    assert send_code(client, typed).status_code == 302
    home = client.get("/ufficio/")
    assert home.status_code == 200 and "Hai usato un codice di recupero: ne restano 9." in text(
        home
    )
    (event,) = events("recovery_code_used")
    assert event.subject_id == str(clerk.id) and event.data == {"left": 9}
    client.post("/esci", data={"csrf_token": csrf_token(client, "/ufficio/")})

    password_step(client, CLERK)
    again = send_code(client, codes[0])
    assert again.status_code == 401 and not signed_in(client)
    assert stored(clerk.id).failed_logins == 1
    assert send_code(client, codes[1]).status_code == 302


def test_the_code_step_expires_five_minutes_after_the_password(
    client: FlaskClient, clock: Clock
) -> None:
    _clerk, secret, _codes = enrolled("clerk", CLERK, clock)
    password_step(client, CLERK)
    token = csrf_token(client, "/accedi/codice")
    with client.session_transaction() as session:
        session[PENDING_KEY] = {**session[PENDING_KEY], "at": session[PENDING_KEY]["at"] - 301}
    late = client.post("/accedi/codice", data={"csrf_token": token, "code": clock.code(secret)})
    assert late.status_code == 302 and late.headers["Location"] == "/accedi"
    assert "Sono passati più di 5 minuti" in text(client.get("/accedi"))
    assert not signed_in(client)
    with client.session_transaction() as session:
        assert PENDING_KEY not in session
    # Without a password step the pages send to sign-in.
    assert client.get("/accedi/codice").headers["Location"] == "/accedi"
    assert client.get("/accedi/attivazione").headers["Location"] == "/accedi"


def test_the_code_step_is_limited_per_address(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ztl.web.auth import throttle

    monkeypatch.setattr(throttle, "_WINDOW", FrozenWindow())  # counts of this test only
    monkeypatch.setitem(app.config, "ZTL_LOGIN_RATE_PER_MINUTE", 3)
    token = csrf_token(client, "/accedi")
    here = {"REMOTE_ADDR": "203.0.113.77"}
    data = {"csrf_token": token, "code": "123456"}
    statuses = [client.post("/accedi/codice", data=data, environ_base=here) for _ in range(3)]
    assert 429 not in [s.status_code for s in statuses]
    limited = client.post("/accedi/codice", data=data, environ_base=here)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "60"


def test_a_deactivation_between_the_steps_stops_the_sign_in(
    client: FlaskClient, clock: Clock
) -> None:
    from ztl.accounts.user_admin import set_active

    clerk, secret, _codes = enrolled("clerk", CLERK, clock)
    password_step(client, CLERK)
    set_active(clerk.id, False, Actor.cli())
    refused = send_code(client, clock.code(secret))
    assert refused.status_code == 302 and not signed_in(client)
    assert "disattivato" in text(client.get("/accedi"))


# --- recovery codes renewed, second factor reset ----------------------------------------------


def test_new_recovery_codes_need_a_current_code_and_void_the_old(
    client: FlaskClient, clock: Clock
) -> None:
    clerk, secret, old_codes = enrolled("clerk", CLERK, clock)
    sign_in_with_code(client, CLERK, secret, clock)
    page = text(client.get("/sessioni/secondo-fattore"))
    assert "Codici di recupero non ancora usati: 10." in page

    def renew(code: str) -> Any:
        token = csrf_token(client, "/sessioni/secondo-fattore")
        return client.post(
            "/sessioni/secondo-fattore/codici-di-recupero", data={"csrf_token": token, "code": code}
        )

    wrong = renew(clock.code(secret, steps=4))
    assert wrong.status_code == 422 and "Codice non corretto." in text(wrong)
    assert stored(clerk.id).failed_logins == 1
    assert renew(old_codes[0]).status_code == 400  # a recovery code does not renew the codes
    done = renew(clock.code(secret))
    assert done.status_code == 200
    new_codes = CODES_ON_PAGE.findall(text(done))
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    assert len(events("recovery_codes_renewed")) == 1
    clock.step()
    client.post("/esci", data={"csrf_token": csrf_token(client, "/ufficio/")})
    password_step(client, CLERK)
    assert send_code(client, old_codes[1]).status_code == 401
    assert send_code(client, new_codes[0]).status_code == 302


@pytest.mark.usefixtures("required")
def test_a_supervisors_reset_ends_the_sessions_and_forces_a_new_enrolment(
    app: Flask, client: FlaskClient, clock: Clock
) -> None:
    supervisor, supervisor_secret, _ = enrolled("supervisor", SUPERVISOR, clock)
    clerk, clerk_secret, _ = enrolled("clerk", CLERK, clock)
    clerks_browser = app.test_client()
    sign_in_with_code(clerks_browser, CLERK, clerk_secret, clock)
    assert signed_in(clerks_browser)
    sign_in_with_code(client, SUPERVISOR, supervisor_secret, clock)

    listing = text(client.get("/supervisione/utenti"))
    assert f"/supervisione/utenti/{clerk.id}/secondo-fattore/azzera" in listing
    assert f"/supervisione/utenti/{supervisor.id}/secondo-fattore/azzera" not in listing
    token = csrf_token(client, "/supervisione/utenti")
    reset = client.post(
        f"/supervisione/utenti/{clerk.id}/secondo-fattore/azzera", data={"csrf_token": token}
    )
    assert reset.status_code == 303
    assert "Secondo fattore azzerato per clerk@comune.example.org" in text(
        client.get("/supervisione/utenti")
    )
    (event,) = events("second_factor_reset")
    assert event.subject_id == str(clerk.id) and event.actor_user_id == supervisor.id
    assert event.data == {"sessions_ended": 1}
    assert not signed_in(clerks_browser)  # out at once
    db.session.expire_all()
    ended = db.session.scalars(
        select(BrowserSession.end_reason).where(BrowserSession.user_id == clerk.id)
    ).all()
    assert ended == ["second factor reset"]
    assert db.session.get(SecondFactor, clerk.id) is None
    assert not db.session.scalars(
        select(RecoveryCode).where(RecoveryCode.user_id == clerk.id)
    ).all()
    # At the next sign-in the old app's code is no use: a new one is set up.
    password_step(clerks_browser, CLERK, expected="/accedi/attivazione")
    assert clerks_browser.get("/accedi/codice").headers["Location"] == "/accedi/attivazione"

    token = csrf_token(client, "/supervisione/utenti")
    again = client.post(
        f"/supervisione/utenti/{clerk.id}/secondo-fattore/azzera", data={"csrf_token": token}
    )
    assert again.status_code == 303
    assert "non ha un secondo fattore attivo" in text(client.get("/supervisione/utenti"))
    token = csrf_token(client, "/supervisione/utenti")
    own = client.post(
        f"/supervisione/utenti/{supervisor.id}/secondo-fattore/azzera", data={"csrf_token": token}
    )
    assert own.status_code == 303 and signed_in(client, "/supervisione/")
    assert len(events("second_factor_reset")) == 1


def test_only_an_administrator_resets_an_administrators(app: Flask, clock: Clock) -> None:
    supervisor = make_user("supervisor", SUPERVISOR)
    admin, _secret, _codes = enrolled("admin", "admin@comune.example.org", clock)
    with pytest.raises(SecondFactorError) as refused:
        second_factor.reset(admin.id, Actor.of_user(supervisor))
    assert refused.value.code == "admin_only"
    other_admin = make_user("admin", "admin2@comune.example.org")
    assert second_factor.reset(admin.id, Actor.of_user(other_admin))[1] == 0


def test_the_command_line_resets_a_second_factor(runner: Any, clock: Clock) -> None:
    clerk, _secret, _codes = enrolled("clerk", CLERK, clock)
    done = runner.invoke(args=["users", "reset-second-factor", CLERK.upper()])
    assert done.exit_code == 0, done.output
    assert f"second factor reset for {CLERK}" in done.output
    (event,) = events("second_factor_reset")
    assert event.actor_label == "cli" and event.subject_id == str(clerk.id)
    nothing = runner.invoke(args=["users", "reset-second-factor", CLERK])
    assert nothing.exit_code == 1 and "nothing to reset" in nothing.output
    unknown = runner.invoke(args=["users", "reset-second-factor", "nobody@comune.example.org"])
    assert unknown.exit_code == 2


# --- what is stored -----------------------------------------------------------------------------


def test_the_secret_is_not_in_clear_in_the_database(app: Flask, clock: Clock) -> None:
    clerk, secret, codes = enrolled("clerk", CLERK, clock)
    with db.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM second_factor")).all()
        hashes = set(conn.execute(sa.text("SELECT code_hash FROM recovery_code")).scalars())
    assert len(rows) == 1
    dump = repr(rows).encode() + b"".join(
        bytes(v) for v in rows[0] if isinstance(v, bytes | memoryview)
    )
    for form in (secret, secret.lower(), base64.b32decode(secret).hex()):
        assert form.encode() not in dump
    assert base64.b32decode(secret) not in dump
    # Recovery codes: only their SHA-256.
    assert hashes == {hashlib.sha256(c.replace("-", "").encode()).hexdigest() for c in codes}
    # The encryption is tied to the account: the row copied onto another account does not decrypt.
    other = make_user("clerk", "other@comune.example.org")
    blob = db.session.get(SecondFactor, clerk.id)
    assert blob is not None
    db.session.add(
        SecondFactor(user_id=other.id, secret_encrypted=blob.secret_encrypted, last_step=0)
    )
    db.session.commit()
    assert second_factor.verify(other.id, clock.code(secret)).outcome is CodeOutcome.UNREADABLE
    assert second_factor.verify(clerk.id, clock.code(secret)).outcome is CodeOutcome.ACCEPTED


def test_a_new_secret_key_makes_the_secret_unreadable_but_recovery_codes_work(
    app: Flask, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    clerk, secret, codes = enrolled("clerk", CLERK, clock)
    monkeypatch.setitem(app.config, "SECRET_KEY", "another-secret-key-entirely-0123456789")
    assert second_factor.verify(clerk.id, clock.code(secret)).outcome is CodeOutcome.UNREADABLE
    assert stored(clerk.id).failed_logins == 0
    assert second_factor.verify(clerk.id, codes[0]).outcome is CodeOutcome.RECOVERY


def test_the_enrolment_token_belongs_to_its_account(app: Flask) -> None:
    secret, token = second_factor.new_enrolment(7)
    assert secret not in token
    assert second_factor.enrolment_secret(token, 7) == secret
    assert second_factor.enrolment_secret(token, 8) is None
    assert second_factor.enrolment_secret("not base64 !", 7) is None
    assert second_factor.enrolment_secret(None, 7) is None


def test_the_password_step_reports_the_step_due(app: Flask, clock: Clock) -> None:
    from ztl.accounts.staff import sign_in_with_password

    enrolled("clerk", CLERK, clock)
    make_user("police", "police@comune.example.org")
    result = sign_in_with_password(CLERK, PASSWORD)
    assert result.ok and result.second_step is SecondStep.VERIFY
    assert sign_in_with_password("police@comune.example.org", PASSWORD).second_step is None
    app.config["ZTL_STAFF_SECOND_FACTOR"] = True
    try:
        police = sign_in_with_password("police@comune.example.org", PASSWORD)
    finally:
        app.config["ZTL_STAFF_SECOND_FACTOR"] = False
    assert police.second_step is SecondStep.ENROL
