"""The police home on a phone: the plate check and the QR reader first, the last answers kept.

The answers are kept on the server with the signed-in browser's session: newest first, at most
five, cleared on request, gone at sign-out, never another officer's; the plate travels by POST
with a CSRF token, never in an address. The page passes the accessibility audit with answers on it.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import audit, csrf_token, problems_of, sign_in
from tests.factories import DEMO_OWN_CAR, issue_resident
from ztl.accounts.browser_sessions import KEPT_ANSWERS
from ztl.demo.generator import car_plate
from ztl.models import User

HOME = "/polizia/"
OFFICER = "agente@comune.example.org"
COLLEAGUE = "collega@comune.example.org"
PLATES = [car_plate(5_000_100 + n) for n in range(KEPT_ANSWERS + 1)]


@pytest.fixture
def officer(city: Flask, client: FlaskClient) -> User:
    return sign_in(client, "police", OFFICER)


def _check(client: FlaskClient, plate: str, zone: str = "A") -> str:
    data = {"csrf_token": csrf_token(client, HOME), "plate": plate, "zone": zone}
    response = client.post(HOME, data=data)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_data(as_text=True)


def _kept(html: str) -> list[tuple[str, str]]:
    """The kept answers as the page lists them: (plate, authorized yes/no), top to bottom."""
    return re.findall(
        r'<li class="border-bottom py-2" data-plate="([^"]+)" data-authorized="(\w+)">', html
    )


def _main(html: str) -> str:
    return html[html.index('<main id="main"') : html.index("</main>")]


def test_the_plate_check_and_the_qr_reader_come_before_any_table(
    officer: User, client: FlaskClient
) -> None:
    response = client.get(HOME)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    main = _main(response.get_data(as_text=True))
    form = main.index('<form method="post" action="/polizia/" id="plate-check" novalidate>')
    plate = main.index('name="plate"')
    button = main.index('id="plate-check-submit"')
    reader = main.index('id="qr-reader" href="/polizia/sigillo/"')
    table = main.index("<table")
    assert form < plate < button < reader < table
    field = re.search(r"<input [^>]*name=\"plate\"[^>]*>", main)
    assert field is not None
    tag = field.group(0)
    for attribute in (
        'autocapitalize="characters"',
        'autocomplete="off"',
        'autocorrect="off"',
        'inputmode="text"',
        'spellcheck="false"',
        'enterkeyhint="search"',
    ):
        assert attribute in tag
    assert "autofocus" not in main
    assert _kept(main) == []


def test_the_answer_is_on_the_home_and_the_last_five_are_kept_newest_first(
    officer: User, client: FlaskClient
) -> None:
    issue_resident()
    html = _check(client, DEMO_OWN_CAR)
    assert 'id="answer" data-authorized="yes"' in html
    assert _kept(html) == [(DEMO_OWN_CAR, "yes")]
    for plate in PLATES:
        html = _check(client, plate)
    assert 'id="answer" data-authorized="no"' in html
    assert _kept(html) == [(plate, "no") for plate in reversed(PLATES[1:])]
    assert _kept(client.get(HOME).get_data(as_text=True)) == _kept(html)


def test_clearing_the_answers(officer: User, client: FlaskClient) -> None:
    _check(client, PLATES[0])
    response = client.post(
        "/polizia/risposte/svuota", data={"csrf_token": csrf_token(client, HOME)}
    )
    assert response.status_code == 303 and response.headers["Location"] == HOME
    assert _kept(client.get(HOME).get_data(as_text=True)) == []


def test_clearing_needs_the_csrf_token(officer: User, client: FlaskClient) -> None:
    _check(client, PLATES[0])
    response = client.post("/polizia/risposte/svuota", data={})
    assert response.status_code == 400
    assert _kept(client.get(HOME).get_data(as_text=True)) == [(PLATES[0], "no")]


def test_the_answers_end_at_sign_out_and_are_the_officers_own(
    officer: User, app: Flask, client: FlaskClient
) -> None:
    _check(client, PLATES[0])
    colleague = app.test_client()
    sign_in(colleague, "police", COLLEAGUE)
    assert _kept(colleague.get(HOME).get_data(as_text=True)) == []
    _check(colleague, PLATES[1])
    assert _kept(client.get(HOME).get_data(as_text=True)) == [(PLATES[0], "no")]
    assert _kept(colleague.get(HOME).get_data(as_text=True)) == [(PLATES[1], "no")]
    signed_out = client.post("/esci", data={"csrf_token": csrf_token(client, HOME)})
    assert signed_out.status_code == 302
    sign_in(client, "police", OFFICER)
    assert _kept(client.get(HOME).get_data(as_text=True)) == []


@pytest.mark.parametrize("language", ["it", "en"])
def test_the_home_with_answers_passes_the_audit(
    officer: User, client: FlaskClient, language: str
) -> None:
    if language != "it":
        token = csrf_token(client, "/pagina-che-non-esiste")
        client.post("/lingua", data={"lang": language, "next": "/", "csrf_token": token})
    pages = {
        "empty": client.get(HOME).get_data(as_text=True),
        "answers": _check(client, PLATES[0]),
    }
    report = {name: problems_of(audit(html), language) for name, html in pages.items()}
    assert report == {name: [] for name in pages}


def test_a_kept_answer_gives_its_reason_in_the_page_s_language(
    officer: User, client: FlaskClient
) -> None:
    """The enforcement reasons are written "italiano / English"; the list says the page's half."""
    from ztl.i18n import SESSION_KEY

    _check(client, PLATES[0])
    italian = client.get(HOME).get_data(as_text=True)
    kept_italian = italian[italian.index('id="answers"') :]
    assert "nessun permesso per questa targa" in kept_italian
    assert "no permit for this plate" not in kept_italian
    with client.session_transaction() as session:
        session[SESSION_KEY] = "en"
    english = client.get(HOME).get_data(as_text=True)
    kept_english = english[english.index('id="answers"') :]
    assert "no permit for this plate" in kept_english
    assert "nessun permesso per questa targa" not in kept_english
