"""Visitors: a daily or two-hour permit for a vehicle outside the register (issue 17, part 4).

A foreign plate, or an Italian plate the city's register does not hold, is decided as the
category's `unregistered_vehicles` says: on the applicant's declaration (issued at once after
payment, the checks judging the declared data and saying so), by a clerk within the stated hours
(queued, the time shown before paying and while waiting), or, without the key, refused as before.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import audit, csrf_token, pdf_text, problems_of, sign_in
from tests.factories import DEMO_RESIDENT, make_user
from ztl.applications import applicant as applications
from ztl.city.rules_config import EXTENSION_KEY
from ztl.eligibility.recheck import recheck_active_permits
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import ServiceError
from ztl.models import Application, Permit, User
from ztl.registries.sql import SqlRegistryAdapter
from ztl.rules import checks
from ztl.rules.facts import VehicleFacts
from ztl.rules.loader import DEFAULT_RULES, RulesFileError, parse_rules
from ztl.rules.municipality import UnregisteredVehicles
from ztl.values.display import datetime_text

PRATO = DEFAULT_RULES.read_text(encoding="utf-8")
DECLARATION = 'unregistered_vehicles = { decided_by = "declaration" }'
UNREGISTERED_ITALIAN = "ZZ999ZZ"  # a well-formed Italian plate the demo register does not hold
FOREIGN = "DE:B MW 1234"


def _with_daily_a(line: str) -> str:
    """Prato's file with the daily ZTL A permit's `unregistered_vehicles` line replaced."""
    assert PRATO.count(DECLARATION) == 4  # 8A (hotel guests), G/A, G/B, T
    start = PRATO.index('code = "G/A"')
    at = PRATO.index(DECLARATION, start)
    return PRATO[:at] + line + PRATO[at + len(DECLARATION) :]


def _line_of_key(text: str) -> int:
    """The line of the daily ZTL A permit's `unregistered_vehicles` key."""
    lines = text.splitlines()
    start = lines.index('code = "G/A"')
    return next(
        n
        for n, line in enumerate(lines[start:], start + 1)
        if line.startswith("unregistered_vehicles")
    )


# --- the rules file -------------------------------------------------------------------------------


def test_prato_decides_visitors_on_their_declaration() -> None:
    prato = parse_rules(PRATO, "prato.toml")
    declared = UnregisteredVehicles("declaration")
    assert {
        c.code: c.unregistered_vehicles for c in prato.categories if c.unregistered_vehicles
    } == {
        "8A": declared,
        "G/A": declared,
        "G/B": declared,
        "T": declared,
    }
    assert prato.category("1").unregistered_vehicles is None  # absent: the register decides
    clerk = parse_rules(
        _with_daily_a('unregistered_vehicles = { decided_by = "clerk", within_hours = 4 }'), "x"
    )
    assert clerk.category("G/A").unregistered_vehicles == UnregisteredVehicles("clerk", 4)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (
            'unregistered_vehicles = { decided_by = "office" }',
            "decided_by must be one of declaration, clerk, got 'office'",
        ),
        (
            'unregistered_vehicles = { decided_by = "clerk" }',
            "within_hours must be a whole number of hours from 1 to 72, got None",
        ),
        (
            'unregistered_vehicles = { decided_by = "clerk", within_hours = 0 }',
            "within_hours must be a whole number of hours from 1 to 72, got 0",
        ),
        (
            'unregistered_vehicles = { decided_by = "clerk", within_hours = "4" }',
            "within_hours must be a whole number of hours from 1 to 72, got '4'",
        ),
        (
            'unregistered_vehicles = { decided_by = "declaration", within_hours = 4 }',
            'within_hours is for decided_by = "clerk" only',
        ),
        (
            'unregistered_vehicles = { decided_by = "declaration", hours = 4 }',
            "unknown key 'hours'; keys: decided_by, within_hours",
        ),
        ('unregistered_vehicles = "declaration"', "must be a table, got 'declaration'"),
    ],
)
def test_a_wrong_key_is_refused_naming_line_and_field(line: str, problem: str) -> None:
    broken = _with_daily_a(line)
    with pytest.raises(RulesFileError) as info:
        parse_rules(broken, "prato.toml")
    assert str(info.value) == (
        f"prato.toml, line {_line_of_key(broken)}, categories[9].unregistered_vehicles: {problem}"
    )


def test_a_declaration_needs_one_plate_and_no_tie_to_an_owner() -> None:
    head, daily_a = PRATO.split('code = "G/A"', 1)
    two_plates = head + 'code = "G/A"' + daily_a.replace("max_plates = 1", "max_plates = 2", 1)
    tied = (
        head
        + 'code = "G/A"'
        + daily_a.replace(
            "vehicle_found = {}", 'vehicle_found = {}\nvehicle_tied = { to = "applicant" }', 1
        )
    )
    where = "categories[9].unregistered_vehicles"
    with pytest.raises(RulesFileError) as info:
        parse_rules(two_plates, "prato.toml")
    assert str(info.value) == (
        f"prato.toml, line {_line_of_key(two_plates)}, {where}: "
        "a declaration is one vehicle's data: it needs max_plates = 1"
    )
    with pytest.raises(RulesFileError) as info:
        parse_rules(tied, "prato.toml")
    assert str(info.value) == (
        f"prato.toml, line {_line_of_key(tied)}, {where}: a declared vehicle is tied to nobody "
        'in a register: a category with vehicle_tied needs decided_by = "clerk"'
    )


# --- the checks, on plain facts -------------------------------------------------------------------


def test_declared_data_are_judged_like_the_registers_and_said_to_be_declared() -> None:
    minibus = VehicleFacts("BMW1234", "DE", category="M2", fuel="diesel", euro_class=6)
    declared = dataclasses.replace(minibus, status="active", declared=True)
    assert checks.vehicle_category(minibus, ["M1", "L"]) is None  # nothing to judge
    undeclared = checks.vehicle_found(minibus, UnregisteredVehicles("declaration"))
    assert (undeclared.status.value, undeclared.message.it) == (
        "needs_review",
        "Targa estera (DE) BMW1234: senza dati dichiarati dal richiedente, lo verifica l'ufficio "
        "permessi.",
    )
    refused = checks.vehicle_category(declared, ["M1", "L"])
    assert refused is not None and refused.to_dict() == {
        "id": "vehicle_category",
        "status": "fail",
        "message": {
            "it": "Veicolo dichiarato dal richiedente: la categoria M2 non è ammessa per questo "
            "permesso.",
            "en": "Vehicle declared by the applicant: category M2 is not allowed for this permit.",
        },
        "evidence": {
            "plate": "BMW1234",
            "category": "M2",
            "allowed": ["L", "M1"],
            "declared": True,
        },
    }
    moped = dataclasses.replace(declared, category="L1e")
    admitted = checks.vehicle_category(moped, ["M1", "L"])
    assert admitted is not None and admitted.message.en == (
        "Vehicle declared by the applicant: category L1e is allowed."
    )
    by_clerk = checks.vehicle_found(minibus, UnregisteredVehicles("clerk", 4))
    assert by_clerk.message.en == (
        "Foreign plate (DE) BMW1234: the permit office decides within 4 hours of the payment."
    )
    assert by_clerk.evidence == {"plate": "BMW1234", "country": "DE", "within_hours": 4}


# --- the services ---------------------------------------------------------------------------------


def _visitor() -> User:
    return make_user("resident", "visitor@example.org", codice_fiscale=DEMO_RESIDENT)


def _daily(plate: str, declared: Mapping[str, str] | None = None) -> applications.ApplicationInput:
    given = declared or {}
    return applications.ApplicationInput(
        category="G/A",
        applicant_id="",
        plates=(plate,),
        declared_category=given.get("declared_category", ""),
        declared_fuel=given.get("declared_fuel", ""),
        declared_euro_class=given.get("declared_euro_class", ""),
    )


CAR = {"declared_category": "M1", "declared_fuel": "petrol", "declared_euro_class": "6"}


def _checks(application_id: int) -> dict[str, tuple[str, str]]:
    application = db.session.get(Application, application_id)
    assert application is not None and application.verdict is not None
    return {c["id"]: (c["status"], c["message"]["it"]) for c in application.verdict}


@pytest.mark.parametrize(
    ("plate", "stored", "country", "found_it"),
    [
        (
            UNREGISTERED_ITALIAN,
            "ZZ999ZZ",
            "IT",
            "Veicolo dichiarato dal richiedente: la targa ZZ999ZZ non è nel registro dei veicoli; "
            "valgono i dati dichiarati, sotto la sua responsabilità.",
        ),
        (
            FOREIGN,
            "BMW1234",
            "DE",
            "Veicolo dichiarato dal richiedente: targa estera (DE) BMW1234; valgono i dati "
            "dichiarati, sotto la sua responsabilità.",
        ),
    ],
)
def test_a_visitor_gets_a_daily_permit_at_once_after_payment(
    city: Flask, quiet_mail: None, plate: str, stored: str, country: str, found_it: str
) -> None:
    assert SqlRegistryAdapter().vehicle(UNREGISTERED_ITALIAN) is None
    user = _visitor()
    with pytest.raises(applications.ApplicationInputError) as asked:
        applications.create_draft(user, _daily(plate))  # the step that asks for the data
    assert (asked.value.code, asked.value.field) == (
        "vehicle_declaration_needed",
        "declared_category",
    )

    app_id = applications.create_draft(user, _daily(plate, CAR))
    application = db.session.get(Application, app_id)
    assert application is not None
    assert application.details["declared_vehicle"] == {
        "plate": stored,
        "category": "M1",
        "fuel": "petrol",
        "euro_class": 6,
    }
    assert _checks(app_id) == {
        "vehicle_found": ("pass", found_it),
        "vehicle_active": (
            "pass",
            f"Veicolo dichiarato dal richiedente: il veicolo {stored} è in circolazione.",
        ),
        "emission_floor": (
            "pass",
            "Veicolo dichiarato dal richiedente: Euro 6 (benzina) rispetta i limiti di emissione.",
        ),
        "daily_monthly_limit": ("pass", f"Permessi giornalieri per {stored} nel mese: 0 su 3."),
    }
    submitted = applications.submit_application(app_id, user)
    assert (submitted.status, submitted.payment_due_cents) == ("submitted", 1000)
    paid = applications.pay_own_application(app_id, user)
    assert paid.status == "issued" and paid.permit_number is not None
    permit = db.session.scalars(select(Permit).where(Permit.number == paid.permit_number)).one()
    assert [(p.plate, p.country) for p in permit.plates] == [(stored, country)]
    # The PDF tells an officer the vehicle's data were declared, not read from the register.
    assert permit.pdf is not None
    assert (
        "Veicolo non presente nel registro: dati dichiarati dal richiedente, sotto la sua "
        "responsabilità."
    ) in " ".join(pdf_text(permit.pdf).split())
    # The daily re-check reads the declaration the permit was issued on: nothing to flag.
    assert recheck_active_permits().flagged == []


def test_a_declared_old_diesel_is_refused_by_the_emission_floor(city: Flask) -> None:
    user = _visitor()
    diesel = {"declared_category": "M1", "declared_fuel": "diesel", "declared_euro_class": "1"}
    app_id = applications.create_draft(user, _daily(FOREIGN, diesel))
    application = db.session.get(Application, app_id)
    assert application is not None and application.outcome == "not_eligible"
    floor = next(c for c in application.verdict or () if c["id"] == "emission_floor")
    assert floor == {
        "id": "emission_floor",
        "status": "fail",
        "message": {
            "it": "Veicolo dichiarato dal richiedente: Euro 1 (gasolio) è sotto il minimo Euro 2.",
            "en": "Vehicle declared by the applicant: Euro 1 (diesel) is below the minimum Euro 2.",
        },
        "evidence": {
            "plate": "BMW1234",
            "fuel": "diesel",
            "euro_class": 1,
            "minimum": 2,
            "declared": True,
        },
    }
    with pytest.raises(ServiceError) as refused:
        applications.submit_application(app_id, user)
    assert refused.value.code == "not_eligible_automatic"


def test_a_registered_plate_is_judged_on_the_register_not_a_declaration(city: Flask) -> None:
    from ztl.models import Vehicle

    registered = db.session.scalars(
        select(Vehicle.plate).where(Vehicle.status == "active", Vehicle.euro_class >= 3)
    ).first()
    assert registered is not None
    app_id = applications.create_draft(_visitor(), _daily(registered, CAR))
    application = db.session.get(Application, app_id)
    assert application is not None and "declared_vehicle" not in application.details
    assert _checks(app_id)["vehicle_found"] == (
        "pass",
        f"Il veicolo {registered} è nel registro dei veicoli.",
    )


@pytest.mark.parametrize(
    ("declared", "field", "code"),
    [
        ({**CAR, "declared_category": "T1"}, "declared_category", "declared_category_invalid"),
        ({**CAR, "declared_fuel": "coal"}, "declared_fuel", "declared_fuel_invalid"),
        ({**CAR, "declared_euro_class": "7"}, "declared_euro_class", "declared_euro_invalid"),
        ({**CAR, "declared_euro_class": ""}, "declared_euro_class", "declared_euro_invalid"),
    ],
)
def test_a_declaration_outside_the_lists_is_refused(
    city: Flask, declared: dict[str, str], field: str, code: str
) -> None:
    with pytest.raises(applications.ApplicationInputError) as refused:
        applications.create_draft(_visitor(), _daily(FOREIGN, declared))
    assert (refused.value.field, refused.value.code) == (field, code)


def test_without_the_key_the_old_refusal_stays(
    city: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    without = _with_daily_a("")
    monkeypatch.setitem(city.extensions, EXTENSION_KEY, parse_rules(without, "prato.toml"))
    user = _visitor()
    italian = applications.create_draft(user, _daily(UNREGISTERED_ITALIAN, CAR))
    application = db.session.get(Application, italian)
    assert application is not None and "declared_vehicle" not in application.details
    assert _checks(italian)["vehicle_found"] == (
        "fail",
        "La targa ZZ999ZZ non è nel registro dei veicoli.",
    )
    with pytest.raises(ServiceError) as refused:
        applications.submit_application(italian, user)
    assert refused.value.code == "not_eligible_automatic"
    foreign = applications.create_draft(user, _daily(FOREIGN))
    assert _checks(foreign)["vehicle_found"] == (
        "needs_review",
        "Targa estera (DE) BMW1234: non verificabile nel registro, la controlla l'ufficio.",
    )


# --- a city whose office decides visitors ---------------------------------------------------------


@pytest.fixture
def clerk_decides(city: Flask, monkeypatch: pytest.MonkeyPatch) -> Flask:
    """Prato, but the permit office decides the daily ZTL A permit's visitors within 4 hours."""
    text = _with_daily_a('unregistered_vehicles = { decided_by = "clerk", within_hours = 4 }')
    monkeypatch.setitem(city.extensions, EXTENSION_KEY, parse_rules(text, "prato.toml"))
    return city


@pytest.mark.usefixtures("clerk_decides", "quiet_mail")
def test_with_a_clerk_the_application_is_queued_and_the_page_shows_the_time(
    client: FlaskClient,
) -> None:
    user = sign_in(client, "resident", "visitor@example.org", codice_fiscale=DEMO_RESIDENT)
    app_id = applications.create_draft(user, _daily(FOREIGN))  # no declaration asked
    assert _checks(app_id)["vehicle_found"] == (
        "needs_review",
        "Targa estera (DE) BMW1234: decide l'ufficio permessi entro 4 ore dal pagamento.",
    )
    applications.submit_application(app_id, user)
    before = client.get(f"/area-personale/domande/{app_id}").get_data(as_text=True)
    assert (
        "Il veicolo non è nel registro: l'ufficio permessi decide entro 4 ore dal pagamento."
        in before
    )
    paid = applications.pay_own_application(app_id, user)
    assert (paid.status, paid.permit_number) == ("under_review", None)
    application = db.session.get(Application, app_id)
    assert application is not None and application.paid_at is not None
    by = datetime_text(application.paid_at + dt.timedelta(hours=4), "Europe/Rome")
    page = client.get(f"/area-personale/domande/{app_id}").get_data(as_text=True)
    assert (
        "Il veicolo non è nel registro: l'ufficio permessi decide entro 4 ore dal pagamento, "
        f"cioè entro il {by}." in page
    )


# --- the pages ------------------------------------------------------------------------------------


def test_the_form_asks_for_the_vehicle_data_when_the_plate_is_not_in_the_register(
    city: Flask, client: FlaskClient, quiet_mail: None
) -> None:
    sign_in(client, "resident", "visitor@example.org", codice_fiscale=DEMO_RESIDENT)
    path = "/area-personale/domande/nuova/G/A"
    first = client.get(path).get_data(as_text=True)
    assert "Dati del veicolo (dichiarati)" not in first  # a registered plate never sees it
    asked = client.post(path, data={"csrf_token": csrf_token(client, path), "plate_1": FOREIGN})
    assert asked.status_code == 400
    html = asked.get_data(as_text=True)
    assert "Dati del veicolo (dichiarati)" in html
    assert problems_of(audit(html), "it") == []  # labels, errors tied to their fields
    assert (
        "La targa non è nel registro dei veicoli italiano: dichiara tipo di veicolo, "
        "alimentazione e classe Euro." in html
    )
    saved = client.post(
        path, data={"csrf_token": csrf_token(client, path), "plate_1": FOREIGN, **CAR}
    )
    assert saved.status_code == 303
    found = re.search(r"/domande/(\d+)$", saved.headers["Location"])
    assert found is not None
    page = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert problems_of(audit(page), "it") == []
    assert (
        "Autovettura (fino a 8 posti oltre al conducente), benzina, Euro 6 · dati dichiarati "
        "dal richiedente, sotto la sua responsabilità; non letti dal registro dei veicoli"
    ) in page
    edit = client.get(f"/area-personale/domande/{found.group(1)}/modifica").get_data(as_text=True)
    assert '<option selected value="M1">' in edit  # the declaration comes back to be edited


# --- the JSON API: POST /api/v1/eligibility -------------------------------------------------------


def _ask_api(client: FlaskClient, plate: dict[str, object]) -> tuple[int, Any]:
    """A signed-in visitor asks the API about a daily ZTL A permit for one plate: the status and
    the JSON answer."""
    token = csrf_token(client, "/area-personale/")
    body = {"category": "G/A", "plates": [plate]}
    response = client.post("/api/v1/eligibility", json=body, headers={"X-CSRFToken": token})
    return response.status_code, response.json


API_CAR = {"category": "M1", "fuel": "petrol", "euro_class": 6}


def test_the_api_judges_a_declared_foreign_vehicle(city: Flask, client: FlaskClient) -> None:
    sign_in(client, "resident", "visitor@example.org", codice_fiscale=DEMO_RESIDENT)
    status, answer = _ask_api(client, {"plate": "B MW 1234", "country": "DE", "declared": API_CAR})
    assert status == 200, answer
    assert answer["outcome"] == "eligible"
    assert (answer["category"], answer["plates"], answer["total_cents"]) == (
        "G/A",
        ["BMW1234"],
        1000,
    )
    assert {c["id"]: (c["status"], c["message"]["it"]) for c in answer["checks"]} == {
        "vehicle_found": (
            "pass",
            "Veicolo dichiarato dal richiedente: targa estera (DE) BMW1234; valgono i dati "
            "dichiarati, sotto la sua responsabilità.",
        ),
        "vehicle_active": (
            "pass",
            "Veicolo dichiarato dal richiedente: il veicolo BMW1234 è in circolazione.",
        ),
        "emission_floor": (
            "pass",
            "Veicolo dichiarato dal richiedente: Euro 6 (benzina) rispetta i limiti di emissione.",
        ),
        "daily_monthly_limit": ("pass", "Permessi giornalieri per BMW1234 nel mese: 0 su 3."),
    }


def test_the_api_refuses_a_declared_old_diesel_on_the_emission_floor(
    city: Flask, client: FlaskClient
) -> None:
    sign_in(client, "resident", "visitor@example.org", codice_fiscale=DEMO_RESIDENT)
    diesel = {"category": "M1", "fuel": "diesel", "euro_class": 1}
    status, answer = _ask_api(client, {"plate": "B MW 1234", "country": "DE", "declared": diesel})
    assert status == 200, answer
    assert answer["outcome"] == "not_eligible"
    assert [c for c in answer["checks"] if c["status"] != "pass"] == [
        {
            "id": "emission_floor",
            "status": "fail",
            "message": {
                "it": "Veicolo dichiarato dal richiedente: Euro 1 (gasolio) è sotto il minimo "
                "Euro 2.",
                "en": "Vehicle declared by the applicant: Euro 1 (diesel) is below the minimum "
                "Euro 2.",
            },
            "evidence": {
                "plate": "BMW1234",
                "fuel": "diesel",
                "euro_class": 1,
                "minimum": 2,
                "declared": True,
            },
        }
    ]


@pytest.mark.parametrize(
    ("declared", "code", "message"),
    [
        (
            {**API_CAR, "fuel": "coal"},
            "declared_fuel_invalid",
            "Scegli l'alimentazione dall'elenco.",
        ),
        (
            {**API_CAR, "category": "T1"},
            "declared_category_invalid",
            "Scegli il tipo di veicolo dall'elenco.",
        ),
        (
            {**API_CAR, "euro_class": 7},
            "declared_euro_invalid",
            "Scegli la classe Euro dall'elenco.",
        ),
        (
            {**API_CAR, "euro_class": "Euro 6"},
            "declared_euro_invalid",
            "Scegli la classe Euro dall'elenco.",
        ),
        (
            {"category": "M1", "fuel": "petrol"},
            "declared_euro_invalid",
            "Scegli la classe Euro dall'elenco.",
        ),
    ],
)
def test_the_api_refuses_a_declaration_outside_the_lists(
    city: Flask, client: FlaskClient, declared: dict[str, object], code: str, message: str
) -> None:
    sign_in(client, "resident", "visitor@example.org", codice_fiscale=DEMO_RESIDENT)
    status, answer = _ask_api(client, {"plate": "B MW 1234", "country": "DE", "declared": declared})
    assert (status, answer) == (422, {"error": code, "message": message})


def test_the_api_refuses_a_declaration_that_is_not_an_object(
    city: Flask, client: FlaskClient
) -> None:
    sign_in(client, "resident", "visitor@example.org", codice_fiscale=DEMO_RESIDENT)
    status, answer = _ask_api(client, {"plate": "B MW 1234", "country": "DE", "declared": "M1"})
    assert (status, answer) == (
        400,
        {
            "error": "bad_request",
            "message": "Richiesta non valida: 'plates[].declared' must be an object with "
            "category, fuel and euro_class",
        },
    )


def test_the_api_without_a_declaration_still_needs_review(city: Flask, client: FlaskClient) -> None:
    sign_in(client, "resident", "visitor@example.org", codice_fiscale=DEMO_RESIDENT)
    status, answer = _ask_api(client, {"plate": "B MW 1234", "country": "DE"})
    assert status == 200, answer
    assert answer["outcome"] == "needs_review"
    assert [c for c in answer["checks"] if c["status"] != "pass"] == [
        {
            "id": "vehicle_found",
            "status": "needs_review",
            "message": {
                "it": "Targa estera (DE) BMW1234: senza dati dichiarati dal richiedente, lo "
                "verifica l'ufficio permessi.",
                "en": "Foreign plate (DE) BMW1234: with no data declared by the applicant, the "
                "permit office checks it.",
            },
            "evidence": {"plate": "BMW1234", "country": "DE"},
        }
    ]


def test_one_check_of_a_declaration_for_the_form_and_the_api() -> None:
    from ztl.eligibility.service import (
        DeclaredVehicle,
        EligibilityInputError,
        checked_declaration,
    )

    assert checked_declaration("M1", "petrol", " 6 ") == DeclaredVehicle("M1", "petrol", 6)
    assert checked_declaration("L3e", "electric", 0) == DeclaredVehicle("L3e", "electric", 0)
    refused = []
    for category, fuel, euro in [
        ("T1", "coal", 9),
        (None, "petrol", 6),
        ("M1", 5, 6),
        ("M1", "petrol", True),
        ("M1", "petrol", "²"),
        ("M1", "petrol", 6.0),
        ("M1", "petrol", None),
    ]:
        with pytest.raises(EligibilityInputError) as info:
            checked_declaration(category, fuel, euro)
        refused.append((info.value.code, str(info.value)))
    assert refused == [
        ("declared_category_invalid", "vehicle category 'T1' cannot be declared"),
        ("declared_category_invalid", "vehicle category None cannot be declared"),
        ("declared_fuel_invalid", "fuel 5 cannot be declared"),
        ("declared_euro_invalid", "Euro class True cannot be declared"),
        ("declared_euro_invalid", "Euro class '²' cannot be declared"),
        ("declared_euro_invalid", "Euro class 6.0 cannot be declared"),
        ("declared_euro_invalid", "Euro class None cannot be declared"),
    ]
