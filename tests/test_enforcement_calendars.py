"""Enforcement answers from the zone's calendar, in a city whose zones are not "these hours daily".

The example city's zone B (ztl/rules/municipalities/esempio.toml) is restricted Monday to Friday
08:00-20:00 and Saturday 08:00-14:00, not on public holidays, and from 1 June to the last Sunday of
September also Friday and Saturday nights 22:00-02:00. Its gate B1 leads into B. A plate with no
permit is the probe: it is authorized exactly when the zone is not restricted.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import make_app
from ztl.accounts.api_tokens import create_token
from ztl.city import sync_city
from ztl.city.rules_config import current_rules
from ztl.extensions import db
from ztl.lookups.recorder import flush_lookups
from ztl.models import PlateLookup
from ztl.rules.loader import DEFAULT_RULES

ESEMPIO = DEFAULT_RULES.parent / "esempio.toml"
STRANGER = "ZZ999ZZ"


@pytest.fixture
def esempio(app: Flask, tmp_path: Path) -> Iterator[Flask]:
    """The example city on the test database (emptied after the test by the `app` fixture)."""
    city = make_app(
        app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "instance", ZTL_RULES_FILE=str(ESEMPIO)
    )
    with city.app_context():
        sync_city(current_rules())
        yield city
        db.session.remove()


@pytest.fixture
def gate(esempio: Flask) -> dict[str, str]:
    _token, plaintext = create_token("varco-b1", "gate")
    return {"Authorization": f"Bearer {plaintext}"}


# (instant with its offset, zone B restricted then?) -- worked out by hand from the file.
INSTANTS = [
    ("2027-06-02T10:00:00+02:00", False),  # Festa della Repubblica (a Wednesday): holidays off
    ("2027-06-03T10:00:00+02:00", True),  # Thursday morning
    ("2027-06-03T20:00:00+02:00", False),  # Thursday 20:00: the end is excluded
    ("2027-06-05T13:59:00+02:00", True),  # Saturday morning window
    ("2027-06-05T14:00:00+02:00", False),
    ("2027-06-05T23:30:00+02:00", True),  # summer Saturday night
    ("2027-06-06T01:59:00+02:00", True),  # ... which belongs to Saturday: Sunday 01:59 still in
    ("2027-06-06T02:00:00+02:00", False),
    ("2027-09-26T01:00:00+02:00", True),  # Saturday 25 September's night: in the season
    ("2027-10-02T23:00:00+02:00", False),  # after the last Sunday of September: no nights
    ("2027-12-08T10:00:00+01:00", False),  # Immacolata
    ("2027-11-11T10:00:00+01:00", False),  # the example city's patron saint
    ("2027-11-12T10:00:00+01:00", True),
]


@pytest.mark.parametrize(("at", "restricted"), INSTANTS)
def test_the_api_answers_from_the_calendar(
    esempio: Flask, gate: dict[str, str], at: str, restricted: bool
) -> None:
    client: FlaskClient = esempio.test_client()
    answer = client.get(
        f"/api/v1/authorizations/{STRANGER}", headers=gate, query_string={"zone": "B", "at": at}
    ).get_json()
    assert answer["authorized"] is (not restricted), answer
    body = {"transits": [{"plate": STRANGER, "gate": "B1", "at": at}]}
    transit = client.post("/api/v1/transits/check", json=body, headers=gate).get_json()
    assert transit["results"][0]["authorized"] is (not restricted)


def test_a_transit_remembers_its_gate_and_the_whitelist_says_the_hours(
    esempio: Flask, gate: dict[str, str]
) -> None:
    client: FlaskClient = esempio.test_client()
    body = {"transits": [{"plate": STRANGER, "gate": "b1", "at": "2027-06-03T10:00:00+02:00"}]}
    assert client.post("/api/v1/transits/check", json=body, headers=gate).status_code == 200
    flush_lookups()
    recorded = db.session.scalars(select(PlateLookup)).one()
    assert (recorded.gate, recorded.zone, recorded.channel) == ("B1", "B", "transit")
    hours = {}
    for day in ("2027-06-03", "2027-06-05", "2027-06-06", "2027-06-02"):
        response = client.get(
            "/api/v1/whitelist", headers=gate, query_string={"zone": "B", "date": day}
        )
        assert response.status_code == 200
        header = next(csv.reader(io.StringIO(response.get_data(as_text=True))))
        assert header[0] == "plate"
        hours[day] = response.headers["ZTL-Zone-Active-Hours"]
    assert (
        hours
        == {
            "2027-06-03": "08:00-20:00",  # Thursday
            "2027-06-05": "00:00-02:00 08:00-14:00 22:00-24:00",  # Friday's night ends, Saturday's starts
            "2027-06-06": "00:00-02:00",  # Sunday: the end of Saturday's night only
            "2027-06-02": "",  # a holiday: not restricted at all
        }
    )
    everywhere = client.get(
        "/api/v1/whitelist", headers=gate, query_string={"zone": "A", "date": "2027-06-02"}
    )
    assert everywhere.headers["ZTL-Zone-Active-Hours"] == "00:00-24:00"


def test_the_public_page_words_the_calendar_in_both_languages(esempio: Flask) -> None:
    client = esempio.test_client()
    italian = client.get("/", headers={"Accept-Language": "it"}).get_data(as_text=True)
    assert "lun–ven 08:00–20:00, sab 08:00–14:00, esclusi i festivi" in italian
    assert "1 giugno – ultima domenica di settembre: ven–sab 22:00–02:00" in italian
    english = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Mon–Fri 08:00–20:00, Sat 08:00–14:00, except on public holidays" in english
    assert "1 June – the last Sunday of September: Fri–Sat 22:00–02:00" in english


def test_the_permit_pdf_states_the_zone_calendar_above_the_signature_notice(
    esempio: Flask, tmp_path: Path
) -> None:
    import pypdfium2 as pdfium

    from ztl.applications.counter import CounterRequest, issue_at_counter
    from ztl.demo.generator import FILE_ORDER, CitySize, car_plate, codice_fiscale, generate
    from ztl.eligibility.service import PlateInput
    from ztl.infrastructure.unit_of_work import Actor
    from ztl.registries.importer import import_registry
    from ztl.seals.keys import key_store

    esempio.config["ZTL_KEYS_DIR"] = str(tmp_path / "keys")
    key_store().init()
    files = generate(tmp_path / "registers", CitySize(residents=60, vehicles=60, badges=2))
    for kind in FILE_ORDER:
        import_registry(kind, files[kind], actor=Actor.cli())
    request = CounterRequest(
        category="1",
        applicant_id=codice_fiscale(0),
        plates=(PlateInput(car_plate(5_000_000)),),
        zones=("A", "B"),
    )
    issued = issue_at_counter(request, Actor.cli())
    document = pdfium.PdfDocument(issued.pdf)
    try:
        page = document[0].get_textpage()
        text = " ".join(page.get_text_range().split())

        def top_of(needle: str) -> float:
            found = page.search(needle).get_next()
            assert found is not None, needle
            return float(page.get_charbox(found[0] + found[1] - 1)[1])  # bottom of its last char

        # Zone A is restricted at every hour (the permit's own hours say it all); B is not.
        assert "Zona A:" not in text
        assert (
            "Zona B: accesso riservato lun–ven 08:00–20:00, sab 08:00–14:00, esclusi i festivi; "
            "1 giugno – ultima domenica di settembre: ven–sab 22:00–02:00 (fino al mattino "
            "dopo); fuori da questi orari il permesso non serve."
        ) in text
        assert "Zone B: access restricted Mon–Fri 08:00–20:00" in text
        notice = page.search("Documento firmato digitalmente").get_next()
        assert notice is not None
        notice_top = float(page.get_charbox(notice[0])[3])
        assert top_of("no longer valid.") > notice_top  # the conditions end above the footer
    finally:
        document.close()
