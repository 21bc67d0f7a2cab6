"""Hostile input: random registry files, codici fiscali and hotel batches, and markup in free text.

Each parser may refuse input only in its documented way (a bad row in the report, InvalidValue,
RegistryFileError); anything else escaping is a bug a crafted file would turn into a 500 or a half
import. Free text a person typed (notes, reasons, names) comes back on other people's pages, so
script tags and template syntax must come back as text, never as markup or as evaluated code.
"""

from __future__ import annotations

import csv
import io

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.conftest import login
from tests.factories import DEMO_OWN_CAR, DEMO_RESIDENT, PASSWORD, make_user
from ztl.applications import applicant as applications
from ztl.applications import decisions
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import Actor
from ztl.models import Vehicle
from ztl.registries.importer import RegistryFileError, import_registry
from ztl.values import InvalidValue
from ztl.values.fiscal import parse_codice_fiscale

VEHICLE_HEADER = ["plate", "owner_id", "holder_id", "category", "fuel", "euro_class", "mass_kg", "usage", "status"]  # fmt: skip
HOSTILE = "<script>alert(1)</script>{{ 7*7 }}{% if 1 %}x{% endif %}<img src=x onerror=alert(2)>"
CELL = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30) | st.sampled_from(  # type: ignore[arg-type]
    ["AB123CD", "M1", "petrol", "6", "owned", "active", "", '"', "\x00", "1e400"]
)
FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


@FUZZ
@given(rows=st.lists(st.lists(CELL, min_size=0, max_size=11), max_size=12))
def test_random_vehicle_rows_are_imported_or_reported(app: Flask, rows: list[list[str]]) -> None:
    before = db.session.scalar(select(func.count()).select_from(Vehicle)) or 0
    result = import_registry(
        "vehicles", io.StringIO(_csv([VEHICLE_HEADER, *rows])), actor=Actor.cli()
    )
    assert result.rows_read == result.rows_imported + result.rows_rejected
    after = db.session.scalar(select(func.count()).select_from(Vehicle)) or 0
    assert before <= after <= before + result.rows_imported


@FUZZ
@given(text=st.text(max_size=300))
def test_any_text_as_a_registry_file_is_refused_cleanly_or_read(app: Flask, text: str) -> None:
    for kind in ("residents", "streets", "badges", "businesses"):
        try:
            result = import_registry(kind, io.StringIO(text), actor=Actor.cli())
        except RegistryFileError as exc:
            assert str(exc)  # a message the CLI and the upload page show
        else:
            assert result.rows_read == result.rows_imported + result.rows_rejected


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=40))
def test_codice_fiscale_parser_refuses_only_with_invalid_value(text: str) -> None:
    try:
        parsed = parse_codice_fiscale(text)
    except InvalidValue:
        return
    assert len(parsed) == 16 and parsed.isalnum() and parsed == parsed.upper()


def _rendered_safely(html: str) -> None:
    assert "<script>alert(1)</script>" not in html
    assert "<img src=x onerror" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "{{ 7*7 }}" in html  # shown as typed: not evaluated as a template


def test_markup_in_free_text_comes_back_as_text(city: Flask) -> None:
    """Notes, a clerk's message and reason, and a person's name, on the pages that show them."""
    resident = make_user(
        "resident", "ospite.curioso@posta.example.org", codice_fiscale=DEMO_RESIDENT
    )
    resident.full_name = HOSTILE
    db.session.commit()
    data = applications.ApplicationInput(
        category="15", applicant_id="", plates=(DEMO_OWN_CAR,), details={"notes": HOSTILE}
    )
    application_id = applications.create_draft(resident, data)
    applications.submit_application(
        application_id, resident, review_reason="Il documento lo porto allo sportello."
    )
    applications.pay_own_application(application_id, resident)
    clerk = make_user("clerk", "impiegato@comune.example.org")
    decisions.request_documents(application_id, Actor.of_user(clerk), HOSTILE)

    office: FlaskClient = city.test_client()
    assert login(office, "impiegato@comune.example.org", PASSWORD).status_code == 302
    clerk_page = office.get(f"/ufficio/domande/{application_id}").get_data(as_text=True)
    _rendered_safely(clerk_page)

    decisions.reject(application_id, Actor.of_user(clerk), HOSTILE)
    portal: FlaskClient = city.test_client()
    assert login(portal, "ospite.curioso@posta.example.org", PASSWORD).status_code == 302
    own_page = portal.get(f"/area-personale/domande/{application_id}").get_data(as_text=True)
    _rendered_safely(own_page)
    _rendered_safely(
        portal.get("/area-personale/").get_data(as_text=True)
    )  # the name, in the header


@pytest.mark.parametrize(
    ("content", "name", "code"),
    [
        (b"<html><script>alert(1)</script></html>", "lettera.pdf", "type"),  # HTML as a PDF
        (b"GIF89a\x01\x00\x01\x00", "foto.png", "type"),  # a GIF calling itself a PNG
        (b"%PDF-1.4\n" + b"0" * (6 * 1024 * 1024), "enorme.pdf", "too_large"),  # over the limit
    ],
)
def test_mislabelled_and_oversized_uploads_are_refused(
    city: Flask, content: bytes, name: str, code: str
) -> None:
    from ztl.applications import documents
    from ztl.infrastructure.unit_of_work import ServiceError

    resident = make_user("resident", "allegati@posta.example.org", codice_fiscale=DEMO_RESIDENT)
    data = applications.ApplicationInput(category="15", applicant_id="", plates=(DEMO_OWN_CAR,))
    application_id = applications.create_draft(resident, data)
    with pytest.raises(ServiceError) as refused:
        documents.attach_document(application_id, resident, "lease_or_deed", name, content)
    assert refused.value.code == code


TIME_CELL = st.sampled_from(
    [
        "2026-06-01T10:00:00+02:00",
        "2026-06-01T10:00:00",  # no offset
        "0001-01-01T00:00:00+14:00",  # before the epoch's range once converted
        "9999-12-31T23:59:59-14:00",
        "2026-13-01T00:00:00Z",
        "",
        "yesterday",
    ]
) | st.datetimes(timezones=st.none() | st.timezones()).map(lambda d: d.isoformat())
TRANSIT_ROW = st.lists(
    st.sampled_from(["AB123CD", "ab 123 cd", "ZZ999ZZ", "", "A1", "X" * 40]) | CELL, max_size=2
).map(lambda cells: cells[:2]) | st.tuples(
    st.sampled_from(["AB123CD", "FX456GH", "", "<b>", "A" * 20]),
    st.sampled_from(["A1", "a2", "B1", "Z9", ""]),
    TIME_CELL,
).map(list)


@FUZZ
@given(rows=st.lists(TRANSIT_ROW, max_size=15))
def test_random_transit_rows_are_judged_or_reported(city: Flask, rows: list[list[str]]) -> None:
    """`ztl transits check` and the CSV API body: every row is judged or reported, none escapes."""
    from ztl.enforcement.transit_files import TransitSummary, check_rows

    summary = TransitSummary()
    violations = list(check_rows(iter(rows), summary))
    judged = summary.authorized + summary.pending + summary.violations
    assert summary.read == judged + len(summary.unreadable)
    assert len(violations) == summary.violations
    assert all(u.message for u in summary.unreadable)


@FUZZ
@given(text=st.text(max_size=400))
def test_hotel_guest_file_parser_refuses_only_with_a_service_error(text: str) -> None:
    from ztl.applications.hotel_guests import parse_guest_csv
    from ztl.infrastructure.unit_of_work import ServiceError

    try:
        rows = parse_guest_csv(text)
    except ServiceError as exc:
        assert exc.code in {"too_many_rows", "unreadable_file"}
        return
    assert all(isinstance(line, int) and line >= 1 for line, *_rest in rows)


@pytest.mark.parametrize(
    "query",
    ["' OR '1'='1", "'; DROP TABLE application; --", '" OR 1=1 --', "%", "_", "\\", "PO-2026-%"],
)
def test_sql_in_the_clerk_search_is_only_text(city: Flask, query: str) -> None:
    """Every query is bound, never spliced: SQL finds nothing and breaks nothing."""
    from ztl.models import Application

    resident = make_user("resident", "r@posta.example.org", codice_fiscale=DEMO_RESIDENT)
    data = applications.ApplicationInput(category="15", applicant_id="", plates=(DEMO_OWN_CAR,))
    application_id = applications.create_draft(resident, data)
    applications.submit_application(
        application_id, resident, review_reason="Il documento lo porto allo sportello."
    )
    applications.pay_own_application(application_id, resident)
    make_user("clerk", "impiegato@comune.example.org")
    office: FlaskClient = city.test_client()
    assert login(office, "impiegato@comune.example.org", PASSWORD).status_code == 302
    assert f"/ufficio/domande/{application_id}" in office.get("/ufficio/").get_data(as_text=True)

    response = office.get("/ufficio/", query_string={"q": query, "stato": "all"})
    assert response.status_code == 200  # a search that finds nothing, never an error
    assert f"/ufficio/domande/{application_id}" not in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Application)) == 1
