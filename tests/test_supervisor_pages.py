"""The supervisors' back office through HTTP: dashboard, users, API tokens, imports, rules in force.

Who may open each page, CSRF refusals, every state change with its event, the one-time display of a
token's secret, upload refusals that change nothing, dashboard figures against the rows put in the
database, and the accessibility audit of every page in Italian and English.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import io
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from tests.conftest import audit, csrf_token, login, problems_of, sign_in
from tests.factories import CF_MARIO, PASSWORD, make_user
from ztl.accounts.api_tokens import authenticate_token
from ztl.demo.loader import load_city_configuration
from ztl.extensions import db
from ztl.models import (
    ApiToken,
    Application,
    Category,
    Event,
    Permit,
    RegistryImport,
    User,
    Vehicle,
    Zone,
    utcnow,
)
from ztl.records.statistics import dashboard

ROOT = "/supervisione"
PAGES = [
    f"{ROOT}/",
    f"{ROOT}/utenti",
    f"{ROOT}/utenti/nuovo",
    f"{ROOT}/token",
    f"{ROOT}/importazioni",
    f"{ROOT}/categorie",
]
# Every state-changing URL; ids and names are made up (the guard answers before the view).
POSTS = [
    f"{ROOT}/utenti/nuovo",
    f"{ROOT}/utenti/999999/disattiva",
    f"{ROOT}/utenti/999999/riattiva",
    f"{ROOT}/token",
    f"{ROOT}/token/x/revoca",
    f"{ROOT}/importazioni",
]
VEHICLES = Path(__file__).parent / "data" / "registry" / "vehicles.csv"
ANY_PAGE = "/pagina-che-non-esiste"  # its 404 page carries a CSRF token for any viewer


def page_text(response: TestResponse) -> str:
    return html.unescape(response.get_data(as_text=True))


def stored(user_id: int) -> User:
    """The user as the database holds it now (not as this session last saw it)."""
    db.session.expire_all()
    user = db.session.get(User, user_id)
    assert user is not None
    return user


def events(action: str) -> list[Event]:
    return list(db.session.scalars(select(Event).where(Event.action == action)))


# --- who may open what ------------------------------------------------------------------------


@pytest.mark.parametrize("viewer", ["anonymous", "resident", "clerk", "police"])
def test_only_supervisors_and_admins_get_in(client: FlaskClient, viewer: str) -> None:
    if viewer != "anonymous":
        sign_in(client, viewer)
    token = csrf_token(client, ANY_PAGE)
    for path in PAGES:
        response = client.get(path)
        if viewer == "anonymous":
            assert response.status_code == 302, path
            target = urlsplit(response.headers["Location"])
            assert target.path == "/accedi" and parse_qs(target.query)["next"] == [path]
        else:
            assert response.status_code == 403, (viewer, path)
    for path in POSTS:
        response = client.post(path, data={"csrf_token": token})
        expected = 302 if viewer == "anonymous" else 403
        assert response.status_code == expected, (viewer, path)
        if viewer == "anonymous":
            assert urlsplit(response.headers["Location"]).path == "/accedi"
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_supervisors_and_admins_open_every_page(client: FlaskClient, role: str) -> None:
    sign_in(client, role)
    for path in PAGES:
        assert client.get(path).status_code == 200, (role, path)


def test_post_without_csrf_token_is_refused(client: FlaskClient) -> None:
    supervisor = sign_in(client, "supervisor")
    clerk = make_user("clerk", "clerk@comune.example.org")
    posts = [*POSTS, f"{ROOT}/utenti/{clerk.id}/disattiva"]
    for path in posts:
        data = {"name": "gate-a1", "role": "gate", "email": "x@comune.example.org"}
        response = client.post(path, data=data)
        assert response.status_code == 400, path
        assert "Richiesta non valida" in page_text(response)
    assert stored(clerk.id).active
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0
    assert db.session.scalar(select(func.count()).select_from(User)) == 2
    assert supervisor.id is not None


# --- users ------------------------------------------------------------------------------------


def _new_user(client: FlaskClient, **fields: str) -> TestResponse:
    data = {
        "full_name": "Giulia Neri",
        "email": "g.neri@comune.example.org",
        "role": "clerk",
        "password": "primo-accesso-2026",
        "confirm": "primo-accesso-2026",
        "csrf_token": csrf_token(client, f"{ROOT}/utenti/nuovo"),
        **fields,
    }
    return client.post(f"{ROOT}/utenti/nuovo", data=data)


def test_create_a_staff_user_who_can_then_sign_in(app: Flask, client: FlaskClient) -> None:
    supervisor = sign_in(client, "supervisor")
    response = _new_user(client)
    assert response.status_code == 302
    listing = page_text(client.get(response.headers["Location"]))
    assert "Account creato per g.neri@comune.example.org." in listing
    assert "Giulia Neri" in listing
    created = db.session.scalar(select(User).where(User.email == "g.neri@comune.example.org"))
    assert created is not None and created.role == "clerk" and created.active
    assert created.password_hash and "primo-accesso-2026" not in created.password_hash
    (event,) = [e for e in events("created") if e.subject_id == str(created.id)]
    assert event.actor_user_id == supervisor.id and event.data == {"role": "clerk"}
    other = app.test_client()
    assert login(other, "g.neri@comune.example.org", "primo-accesso-2026").status_code == 302
    assert other.get("/ufficio/").status_code == 200


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"password": "corta-1", "confirm": "corta-1"}, 422, "almeno 12 caratteri"),
        ({"password": "solamentelettere", "confirm": "solamentelettere"}, 422, "lettere e cifre"),
        ({"confirm": "un-altra-password-9"}, 400, "Le password non coincidono."),
        ({"email": "supervisor@comune.example.org"}, 422, "Esiste già un account"),
        ({"email": "non-una-email"}, 400, "Scrivi un indirizzo e-mail completo"),
        ({"role": "admin"}, 400, "Ruolo"),
        ({"role": "resident"}, 400, "Ruolo"),
    ],
)
def test_a_refused_user_is_not_created_and_the_form_says_why(
    client: FlaskClient, fields: dict[str, str], status: int, message: str
) -> None:
    sign_in(client, "supervisor")
    response = _new_user(client, **fields)
    assert response.status_code == status
    text = page_text(response)
    assert message in text and "Il modulo non è stato inviato" in text
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_user_list_filters_by_role_and_by_name_or_email(client: FlaskClient) -> None:
    sign_in(client, "supervisor")
    make_user("clerk", "m.rossi@comune.example.org").full_name = "Mario Rossi"
    db.session.commit()
    make_user("police", "agente.7@comune.example.org")
    make_user("resident", "cittadino@posta.example.org", codice_fiscale=CF_MARIO)

    def emails(query: str) -> set[str]:
        text = page_text(client.get(f"{ROOT}/utenti{query}"))
        return set(re.findall(r'<th scope="row">([^<]+@[^<]+)</th>', text))

    assert emails("") == {
        "supervisor@comune.example.org",
        "m.rossi@comune.example.org",
        "agente.7@comune.example.org",
        "cittadino@posta.example.org",
    }
    assert emails("?role=police") == {"agente.7@comune.example.org"}
    assert emails("?q=ROSSI") == {"m.rossi@comune.example.org"}  # by name, any case
    assert emails("?q=agente") == {"agente.7@comune.example.org"}  # by e-mail
    assert emails("?role=clerk&q=agente") == set()
    assert emails("?q=%25") == set()  # a % is a character, not a wildcard
    assert emails("?role=nonexistent") == emails("")  # a bad filter is ignored, not a 500


def _status_change(client: FlaskClient, user_id: int, action: str) -> TestResponse:
    token = csrf_token(client, f"{ROOT}/utenti")
    # A deactivation acts only with its explicit confirmation (ztl/web/confirmation.py).
    return client.post(
        f"{ROOT}/utenti/{user_id}/{action}", data={"csrf_token": token, "confirmed": "yes"}
    )


def test_deactivated_user_cannot_sign_in_until_reactivated(app: Flask, client: FlaskClient) -> None:
    supervisor = sign_in(client, "supervisor")
    clerk = make_user("clerk", "clerk@comune.example.org")
    clerk_browser = app.test_client()
    login(clerk_browser, "clerk@comune.example.org", PASSWORD)
    assert clerk_browser.get("/ufficio/").status_code == 200

    response = _status_change(client, clerk.id, "disattiva")
    assert response.status_code == 303
    assert "è disattivato" in page_text(client.get(f"{ROOT}/utenti"))
    assert stored(clerk.id).active is False
    (event,) = events("deactivated")
    assert event.subject_id == str(clerk.id) and event.actor_user_id == supervisor.id
    out = clerk_browser.get("/ufficio/")  # open session: out at once, sent to sign in
    assert out.status_code == 302 and out.headers["Location"].startswith("/accedi")
    refused = login(app.test_client(), "clerk@comune.example.org", PASSWORD)
    assert refused.status_code == 401 and "account è disattivato" in page_text(refused)

    assert _status_change(client, clerk.id, "riattiva").status_code == 303
    assert len(events("reactivated")) == 1
    assert login(app.test_client(), "clerk@comune.example.org", PASSWORD).status_code == 302
    assert _status_change(client, 999_999, "disattiva").status_code == 404


def test_a_supervisor_cannot_deactivate_themselves_nor_an_admin(client: FlaskClient) -> None:
    supervisor = sign_in(client, "supervisor")
    admin = make_user("admin", "admin@comune.example.org")
    listing = page_text(client.get(f"{ROOT}/utenti"))
    assert f"{ROOT}/utenti/{supervisor.id}/disattiva" not in listing  # no button for oneself
    assert f"{ROOT}/utenti/{admin.id}/disattiva" not in listing
    response = _status_change(client, supervisor.id, "disattiva")
    assert response.status_code == 303
    assert "Non puoi disattivare il tuo stesso account." in page_text(client.get(f"{ROOT}/utenti"))
    _status_change(client, admin.id, "disattiva")
    assert "Solo un amministratore" in page_text(client.get(f"{ROOT}/utenti"))
    db.session.expire_all()
    assert all(u.active for u in db.session.scalars(select(User)))
    assert events("deactivated") == []
    assert client.get(f"{ROOT}/").status_code == 200  # still signed in and allowed


def test_an_admin_can_deactivate_a_supervisor(client: FlaskClient) -> None:
    sign_in(client, "admin")
    supervisor = make_user("supervisor", "supervisor@comune.example.org")
    assert _status_change(client, supervisor.id, "disattiva").status_code == 303
    assert stored(supervisor.id).active is False


# --- API tokens -------------------------------------------------------------------------------


def test_token_secret_is_shown_once_and_only_its_hash_is_stored(client: FlaskClient) -> None:
    supervisor = sign_in(client, "supervisor")
    token = csrf_token(client, f"{ROOT}/token")
    response = client.post(
        f"{ROOT}/token", data={"name": "varco-A1", "role": "gate", "csrf_token": token}
    )
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    text = response.get_data(as_text=True)
    secrets_shown = re.findall(r'value="(ztl_[^"]+)"', text)
    assert len(secrets_shown) == 1
    plaintext = secrets_shown[0]
    assert text.count(plaintext) == 1

    stored = db.session.scalars(select(ApiToken)).one()
    assert stored.name == "varco-A1" and stored.role == "gate"
    assert stored.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert stored.created_by_id == supervisor.id
    row = db.session.execute(select(ApiToken.__table__)).one()
    assert plaintext not in " ".join(str(value) for value in row)
    for event in db.session.scalars(select(Event)):
        assert plaintext not in f"{event.reason} {event.data}"
    with client.session_transaction() as session:
        assert plaintext not in repr(dict(session))
    listing = client.get(f"{ROOT}/token").get_data(as_text=True)
    assert plaintext not in listing and "varco-A1" in listing
    assert authenticate_token(plaintext) is not None

    again = client.post(
        f"{ROOT}/token", data={"name": "varco-A1", "role": "police", "csrf_token": token}
    )
    assert again.status_code == 422 and "Esiste già un token" in page_text(again)
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 1

    revoked = client.post(f"{ROOT}/token/varco-A1/revoca", data={"csrf_token": token})
    assert revoked.status_code == 303
    assert "è revocato" in page_text(client.get(f"{ROOT}/token"))
    db.session.expire_all()
    assert db.session.scalars(select(ApiToken)).one().revoked_at is not None
    assert authenticate_token(plaintext) is None
    assert {
        e.action for e in db.session.scalars(select(Event).where(Event.subject_type == "token"))
    } == {
        "created",
        "revoked",
    }
    missing = client.post(f"{ROOT}/token/nessuno/revoca", data={"csrf_token": token})
    assert missing.status_code == 404


def test_a_bad_token_name_or_role_is_refused(client: FlaskClient) -> None:
    sign_in(client, "supervisor")
    token = csrf_token(client, f"{ROOT}/token")
    for data in ({"name": "con spazi", "role": "gate"}, {"name": "ok", "role": "admin"}):
        response = client.post(f"{ROOT}/token", data={**data, "csrf_token": token})
        assert response.status_code == 400
        assert "ztl_" not in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


# --- registry imports -------------------------------------------------------------------------


def _upload(
    client: FlaskClient, content: bytes, name: str = "veicoli.csv", kind: str = "vehicles"
) -> TestResponse:
    token = csrf_token(client, f"{ROOT}/importazioni")
    data = {"kind": kind, "csrf_token": token, "file": (io.BytesIO(content), name, "text/csv")}
    # Post/redirect/get: the report is the page the answer sends to (a refusal is shown at once).
    return client.post(
        f"{ROOT}/importazioni",
        data=data,
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def _count(label: str, text: str) -> int:
    match = re.search(
        rf'<th scope="row">{re.escape(label)}</th><td class="text-end">(\d+)</td>', text
    )
    assert match, label
    return int(match.group(1))


def test_upload_imports_good_rows_and_reports_bad_ones(client: FlaskClient) -> None:
    supervisor = sign_in(client, "supervisor")
    response = _upload(client, VEHICLES.read_bytes())
    assert response.status_code == 200
    text = page_text(response)
    assert "veicoli.csv importato nel registro «Veicoli»." in text
    assert _count("Righe lette", text) == 6
    assert _count("Righe inserite (nuove)", text) == 2
    assert _count("Righe aggiornate (già presenti)", text) == 0
    assert _count("Righe scartate", text) == 4
    problems = re.search(r'<table class="table" id="import-problems">.*?</table>', text, re.S)
    assert problems is not None
    lines = {int(n) for n in re.findall(r'<th scope="row">(\d+)</th>', problems.group(0))}
    assert lines == {4, 5, 6, 7}
    assert "fuel" in problems.group(0) and "plate" in problems.group(0)
    assert db.session.scalar(select(func.count()).select_from(Vehicle)) == 2
    run = db.session.scalars(select(RegistryImport)).one()
    assert run.source_name == "veicoli.csv" and run.actor_label == supervisor.email
    assert run.finished_at is not None
    # The list of recent imports shows the run; importing again updates instead of inserting.
    again = page_text(_upload(client, VEHICLES.read_bytes()))
    assert _count("Righe inserite (nuove)", again) == 0
    assert _count("Righe aggiornate (già presenti)", again) == 2
    assert again.count("veicoli.csv</td>") == 2
    assert db.session.scalar(select(func.count()).select_from(Vehicle)) == 2


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "vuoto.csv", "Il file è vuoto."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "immagine.csv", "non è un file di testo"),
        ("plate,fuel\nAB123CD,caffè\n".encode("latin-1"), "latin1.csv", "UTF-8"),
        (b"plate,owner_id\nAB123CD,RSSMRA85T10A562S\n", "colonne.csv", "colonne mancanti"),
        (b"\n\n", "righe-vuote.csv", "file vuoto"),
        (b"plate\nAB123CD\n", "veicoli.pdf", "estensione .csv"),
    ],
)
def test_unusable_upload_is_a_clear_400_and_imports_nothing(
    client: FlaskClient, content: bytes, name: str, message: str
) -> None:
    sign_in(client, "supervisor")
    response = _upload(client, content, name)
    assert response.status_code == 400
    text = page_text(response)
    assert message in text and "Traceback" not in text
    assert db.session.scalar(select(func.count()).select_from(Vehicle)) == 0
    assert db.session.scalar(select(func.count()).select_from(RegistryImport)) == 0


def test_upload_without_a_file_or_with_a_binary_type_is_refused(client: FlaskClient) -> None:
    sign_in(client, "supervisor")
    token = csrf_token(client, f"{ROOT}/importazioni")
    empty = client.post(f"{ROOT}/importazioni", data={"kind": "vehicles", "csrf_token": token})
    assert empty.status_code == 400 and "Scegli il file da importare." in page_text(empty)
    data = {
        "kind": "vehicles",
        "csrf_token": token,
        "file": (VEHICLES.open("rb"), "veicoli.csv", "application/pdf"),
    }
    typed = client.post(f"{ROOT}/importazioni", data=data, content_type="multipart/form-data")
    assert typed.status_code == 400 and "non è un file di testo" in page_text(typed)
    assert db.session.scalar(select(func.count()).select_from(RegistryImport)) == 0


def test_an_upload_over_the_size_limit_is_a_413(app: Flask, client: FlaskClient) -> None:
    sign_in(client, "supervisor")
    limit = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 1024
    try:
        response = _upload(client, b"plate\n" + b"AB123CD\n" * 500)
    finally:
        app.config["MAX_CONTENT_LENGTH"] = limit
    assert response.status_code == 413
    assert db.session.scalar(select(func.count()).select_from(RegistryImport)) == 0


# --- rules in force ---------------------------------------------------------------------------


def test_rules_page_shows_categories_and_fees_from_the_rules_file(client: FlaskClient) -> None:
    sign_in(client, "supervisor")
    text = page_text(client.get(f"{ROOT}/categorie"))
    assert "prato.toml" in text and "file delle regole del Comune" in text
    assert "/ztl/rules" not in text  # the file's name only, never the server's directories
    row = re.search(r'<th scope="row">G/A</th>(.*?)</tr>', text, re.S)
    assert row is not None
    assert "Giornaliero ZTL A" in row.group(1) and "1 giorno: € 10,00" in row.group(1)
    assert "Veicoli fuori dal registro: sulla dichiarazione del richiedente." in row.group(1)
    residents = re.search(r'<th scope="row">1</th>(.*?)</tr>', text, re.S)
    assert (
        residents is not None and "1 anno" in residents.group(1) and "2 anni" in residents.group(1)
    )
    assert residents is not None and "Veicoli fuori dal registro" not in residents.group(1)
    assert "€ 16,00" in text  # the stamp duty
    assert "20:00–10:00" in text  # category 63's window crossing midnight


# --- dashboard --------------------------------------------------------------------------------


def _category(code: str) -> Category:
    category = db.session.scalar(select(Category).where(Category.code == code))
    assert category is not None
    return category


def _zone(code: str) -> Zone:
    zone = db.session.scalar(select(Zone).where(Zone.code == code))
    assert zone is not None
    return zone


def _permit(serial: int, code: str, zones: list[str], now: dt.datetime, **extra: object) -> None:
    fields: dict[str, object] = {
        "valid_from": now - dt.timedelta(days=30),
        "valid_to": now + dt.timedelta(days=300),
        **extra,
    }
    permit = Permit(
        number=f"PO-2026-{serial:06d}",
        year=2026,
        serial=serial,
        holder_id=f"HOLDER{serial:010d}",
        category=_category(code),
        **fields,
    )
    permit.zones.extend(_zone(z) for z in zones)
    db.session.add(permit)


def _application(status: str, days_ago: float, now: dt.datetime) -> None:
    db.session.add(
        Application(
            applicant_id=CF_MARIO,
            category=_category("1"),
            status=status,
            submitted_at=now - dt.timedelta(days=days_ago) if status != "draft" else None,
        )
    )


def _fill_city(now: dt.datetime) -> None:
    load_city_configuration()
    _permit(1, "1", ["A"], now)
    _permit(2, "1", ["A"], now)
    _permit(3, "1", ["A"], now, flagged_at=now - dt.timedelta(days=1))
    _permit(4, "H", ["A", "B"], now)
    _permit(5, "1", ["A"], now, status="revoked")  # not in force
    _permit(6, "H", ["B"], now, status="active", valid_to=now - dt.timedelta(days=1))  # ran out
    _permit(7, "1", ["A"], now, status="revoked", flagged_at=now)  # flagged but not in force
    _application("submitted", 2, now)
    _application("submitted", 7.5, now)  # day 7: still in the first week
    _application("under_review", 10, now)
    _application("documents_requested", 30.5, now)
    _application("submitted", 45, now)
    _application("draft", 60, now)  # not waiting
    _application("approved", 60, now)  # decided
    _application("issued", 90, now)
    db.session.commit()


def test_dashboard_figures_are_the_rows_in_the_database(client: FlaskClient) -> None:
    now = utcnow()
    _fill_city(now)
    figures = dashboard(now)
    by_category = {c.code: c.count for c in figures.permits_by_category}
    assert by_category["1"] == 3 and by_category["H"] == 1
    assert sum(by_category.values()) == 4 == figures.active_permits
    assert {z.code: z.count for z in figures.permits_by_zone} == {"A": 4, "B": 1}
    assert figures.waiting_by_status == {
        "submitted": 3,
        "under_review": 1,
        "documents_requested": 1,
    }
    assert figures.waiting_by_age == {"0-7": 2, "8-30": 2, "31+": 1}
    assert figures.flagged == 1

    sign_in(client, "supervisor")
    text = page_text(client.get(f"{ROOT}/"))
    assert re.search(r'id="figure-active">4<', text)
    assert re.search(r'id="figure-waiting">5<', text)
    assert re.search(r'id="figure-flagged">1<', text)
    tables = re.findall(r"<table class=\"table table-sm\">(.*?)</table>", text, re.S)
    rows = [
        dict(re.findall(r'<th scope="row">([^<]+)</th><td class="text-end">(\d+)</td>', t))
        for t in tables
    ]
    category_rows, zone_rows, status_rows, age_rows = rows
    assert category_rows[f"1 · {_category('1').name_it}"] == "3"
    assert category_rows[f"H · {_category('H').name_it}"] == "1"
    assert category_rows["Totale"] == "4"
    assert zone_rows == {f"A · {_zone('A').name}": "4", f"B · {_zone('B').name}": "1"}
    assert status_rows == {
        "Inviata": "3",
        "In istruttoria": "1",
        "Documenti richiesti": "1",
        "Totale": "5",
    }
    assert age_rows == {
        "Da 0 a 7 giorni": "2",
        "Da 8 a 30 giorni": "2",
        "Oltre 30 giorni": "1",
        "Totale": "5",
    }
    # Each chart is one named image, its bars sized by SVG attributes and coloured by the CSS.
    charts = re.findall(r'<svg class="ztl-chart"[^>]*>', text)
    assert len(charts) == 4 and all('role="img"' in c and "aria-label=" in c for c in charts)
    assert 'aria-label="Domande in attesa per stato. Inviata: 3; In istruttoria: 1;' in text
    (stylesheet,) = re.findall(r'href="(/static/css/charts\.[0-9a-f]{12}\.css)"', text)
    assert client.get(stylesheet).status_code == 200  # served under its hashed name


def test_dashboard_of_an_empty_city_shows_zeros(client: FlaskClient) -> None:
    sign_in(client, "supervisor")
    text = page_text(client.get(f"{ROOT}/"))
    assert re.search(r'id="figure-active">0<', text) and re.search(r'id="figure-flagged">0<', text)
    assert "Nessun dato da mostrare." in text  # no categories or zones configured yet


# --- accessibility ----------------------------------------------------------------------------


def _pages_with_data(client: FlaskClient) -> list[tuple[str, str]]:
    """Every supervisor page, with rows in its tables, plus the answers to its forms."""
    found = [(path, client.get(path).get_data(as_text=True)) for path in PAGES]
    token = csrf_token(client, f"{ROOT}/token")
    created = client.post(
        f"{ROOT}/token", data={"name": "pattuglia-3", "role": "police", "csrf_token": token}
    )
    found.append(("token created", created.get_data(as_text=True)))
    found.append(("token list", client.get(f"{ROOT}/token").get_data(as_text=True)))
    bad_token = client.post(f"{ROOT}/token", data={"name": "", "csrf_token": token})
    found.append(("token form with errors", bad_token.get_data(as_text=True)))
    bad_user = client.post(f"{ROOT}/utenti/nuovo", data={"csrf_token": token, "email": "x"})
    found.append(("user form with errors", bad_user.get_data(as_text=True)))
    found.append(("import report", _upload(client, VEHICLES.read_bytes()).get_data(as_text=True)))
    found.append(("import refused", _upload(client, b"").get_data(as_text=True)))
    found.append(("users", client.get(f"{ROOT}/utenti").get_data(as_text=True)))
    return found


@pytest.mark.parametrize("language", ["it", "en"])
def test_every_supervisor_page_passes_the_audit(client: FlaskClient, language: str) -> None:
    _fill_city(utcnow())
    make_user("clerk", "clerk@comune.example.org")
    sign_in(client, "supervisor")
    if language != "it":
        token = csrf_token(client, ANY_PAGE)
        client.post("/lingua", data={"lang": language, "next": "/", "csrf_token": token})
    report = {name: problems_of(audit(text), language) for name, text in _pages_with_data(client)}
    assert len(report) == 13
    assert {name: found for name, found in report.items() if found} == {}
