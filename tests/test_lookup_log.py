"""The record of plate lookups: the service's query and the supervisors' page, SQLite and PostgreSQL.

Newest first, filters by plate (normalised) and channel, pages with the filters kept, the capped
count, an anonymised plate shown as such, bad filters answered with a 400 and a message, who may
open the page, and the accessibility audit in Italian and English.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import audit, csrf_token, login, problems_of, sign_in
from tests.factories import PASSWORD, make_user
from ztl.extensions import db
from ztl.lookups import log as lookup_log
from ztl.lookups.log import LookupQuery, lookup_page
from ztl.models import PlateLookup
from ztl.values import InvalidValue

PAGE = "/supervisione/consultazioni"
SUPERVISOR = "supervisore@comune.example.org"
BASE = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)


def _lookup(
    minutes: int,
    plate: str | None = "AB123CD",
    channel: str = "authorization",
    actor: str = "token:varco-a1",
    authorized: bool = True,
    **extra: object,
) -> PlateLookup:
    row = PlateLookup(
        asked_at=BASE + dt.timedelta(minutes=minutes),
        actor_label=actor,
        channel=channel,
        plate=plate,
        zone="A",
        at=BASE + dt.timedelta(minutes=minutes),
        authorized=authorized,
        reason="permesso PO-2026-000001 valido / permit PO-2026-000001 valid"
        if authorized
        else "nessun permesso per questa targa / no permit for this plate",
        **extra,
    )
    db.session.add(row)
    return row


@pytest.fixture
def supervisor(app: Flask, client: FlaskClient) -> FlaskClient:
    sign_in(client, "supervisor", SUPERVISOR)
    return client


def _plates_in_order(html: str) -> list[str]:
    """The plate column of the table, top to bottom ("-" for an anonymised one)."""
    cells = re.findall(r'<span class="(font-monospace|text-secondary)">([^<]+)</span>', html)
    return [text if kind == "font-monospace" else "-" for kind, text in cells]


def test_the_service_pages_newest_first_and_filters(app: Flask) -> None:
    for minute in range(7):
        _lookup(minute, plate="AB123CD" if minute % 2 else "CD456EF", channel="transit")
    _lookup(10, channel="police_page", actor="user:agente@comune.example.org")
    db.session.commit()
    everything = lookup_page(LookupQuery())
    asked = [row.asked_at for row in everything.rows]
    assert asked == sorted(asked, reverse=True) and everything.total == 8
    assert everything.rows[0].channel == "police_page"
    by_plate = lookup_page(LookupQuery(plate=" ab 123-cd "))
    assert by_plate.plate == "AB123CD" and by_plate.total == 4
    assert {row.plate for row in by_plate.rows} == {"AB123CD"}
    both = lookup_page(LookupQuery(plate="AB123CD", channel="police_page"))
    assert [row.channel for row in both.rows] == ["police_page"]
    with pytest.raises(InvalidValue):
        lookup_page(LookupQuery(channel="fax"))
    with pytest.raises(InvalidValue):
        lookup_page(LookupQuery(plate="A*1"))


def test_the_count_stops_at_the_cap(
    app: Flask, supervisor: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lookup_log, "MAX_COUNTED", 12)
    monkeypatch.setattr(lookup_log, "PER_PAGE", 5)
    for minute in range(20):
        _lookup(minute)
    db.session.commit()
    first = lookup_page(LookupQuery())
    assert (first.total, first.more, first.pages) == (12, True, 3)
    beyond = lookup_page(LookupQuery(page=9))
    assert beyond.page == 3 and len(beyond.rows) == 2  # the last counted page, not page 9
    html = supervisor.get(PAGE).get_data(as_text=True)
    assert "Più di 12 consultazioni" in html and "pagina 1 di 3" in html
    exact = lookup_page(LookupQuery(plate="ZZ999ZZ"))
    assert (exact.total, exact.more, exact.pages, exact.rows) == (0, False, 1, [])


def test_supervisors_see_who_asked_what_and_when(
    city: Flask, client: FlaskClient, supervisor: FlaskClient
) -> None:
    # An officer asks through the police page, in another browser.
    officer = city.test_client()
    make_user("police", "agente@comune.example.org")
    login(officer, "agente@comune.example.org", PASSWORD)
    token = csrf_token(officer, "/polizia/targa")
    asked = officer.post(
        "/polizia/targa", data={"csrf_token": token, "plate": "GA 123 BC", "zone": "A", "at": ""}
    )
    assert asked.status_code == 200
    _lookup(-60, plate=None, anonymised_at=BASE)  # an old one, anonymised
    db.session.commit()

    response = supervisor.get(PAGE)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert _plates_in_order(html) == ["GA123BC", "-"]
    assert "agente@comune.example.org" in html and "Pagina della polizia" in html
    assert "anonimizzata" in html and "varco-a1" in html and "token</span>" in html
    assert "non autorizzato" in html and "in attesa fino al" in html
    assert "nessun permesso per questa targa / no permit for this plate" in html
    assert "Consultazioni trovate: 2." in html
    assert "Giorni di conservazione della targa: 7." in html


def test_filters_and_pages_keep_each_other(app: Flask, supervisor: FlaskClient) -> None:
    for minute in range(60):
        _lookup(minute, plate="AB123CD", channel="transit")
    for minute in range(60, 63):
        _lookup(minute, plate="AB123CD", channel="authorization")
    _lookup(70, plate="CD456EF", channel="transit")
    db.session.commit()

    everything = supervisor.get(PAGE).get_data(as_text=True)
    assert "Consultazioni trovate: 64." in everything and "pagina 1 di 2" in everything
    assert _plates_in_order(everything)[0] == "CD456EF"  # newest first

    plate = supervisor.get(PAGE, query_string={"targa": "ab 123 cd"}).get_data(as_text=True)
    assert "Consultazioni trovate: 63." in plate and "CD456EF" not in plate
    assert 'value="ab 123 cd"' in plate  # the filter as typed stays in its field

    query = {"targa": "AB123CD", "canale": "transit"}
    filtered = supervisor.get(PAGE, query_string=query).get_data(as_text=True)
    assert "Consultazioni trovate: 60." in filtered and "pagina 1 di 2" in filtered
    assert "API: domanda su una targa" not in filtered.split("<tbody>")[1]
    link = re.search(r'href="(/supervisione/consultazioni\?[^"]*pagina=2[^"]*)"', filtered)
    assert link is not None
    target = link.group(1).replace("&amp;", "&")
    assert "targa=AB123CD" in target and "canale=transit" in target
    second = supervisor.get(target).get_data(as_text=True)
    assert "pagina 2 di 2" in second and len(_plates_in_order(second)) == 10

    channel = supervisor.get(PAGE, query_string={"canale": "authorization"})
    assert "Consultazioni trovate: 3." in channel.get_data(as_text=True)
    none = supervisor.get(PAGE, query_string={"targa": "ZZ999ZZ"}).get_data(as_text=True)
    assert "Nessuna consultazione corrisponde ai filtri." in none


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"targa": "A*1"}, "Targa non valida"),
        ({"canale": "fax"}, "Scegli uno dei canali"),
        ({"pagina": "due"}, "Il numero di pagina non è valido"),
        ({"pagina": "0"}, "Il numero di pagina non è valido"),
    ],
)
def test_bad_filters_are_a_400_with_a_message(
    app: Flask, supervisor: FlaskClient, query: dict[str, str], message: str
) -> None:
    response = supervisor.get(PAGE, query_string=query)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html and "Correggi i filtri per vedere le consultazioni." in html


@pytest.mark.parametrize("role", ["police", "clerk", "resident"])
def test_other_roles_are_refused(app: Flask, client: FlaskClient, role: str) -> None:
    email = f"{role}@comune.example.org"
    make_user(role, email)
    login(client, email, PASSWORD)
    assert client.get(PAGE).status_code == 403


def test_administrators_see_the_record_and_the_dashboard_links_it(
    app: Flask, client: FlaskClient
) -> None:
    make_user("admin", "admin@comune.example.org")
    login(client, "admin@comune.example.org", PASSWORD)
    assert client.get(PAGE).status_code == 200
    assert f'href="{PAGE}"' in client.get("/supervisione/").get_data(as_text=True)


@pytest.mark.parametrize("language", ["it", "en"])
def test_the_page_passes_the_audit(app: Flask, supervisor: FlaskClient, language: str) -> None:
    for minute in range(60):
        _lookup(minute, authorized=bool(minute % 2))
    _lookup(61, plate=None, anonymised_at=BASE)
    db.session.commit()
    if language != "it":
        token = csrf_token(supervisor, "/pagina-che-non-esiste")
        supervisor.post("/lingua", data={"lang": language, "next": "/", "csrf_token": token})
    pages = {
        "list": supervisor.get(PAGE).get_data(as_text=True),
        "page 2": supervisor.get(PAGE, query_string={"pagina": "2"}).get_data(as_text=True),
        "bad": supervisor.get(PAGE, query_string={"targa": "A*1"}).get_data(as_text=True),
    }
    report = {name: problems_of(audit(html), language) for name, html in pages.items()}
    assert report == {name: [] for name in pages}
