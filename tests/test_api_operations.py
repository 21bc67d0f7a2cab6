"""Each API operation is declared once (ztl.api.operations), and one guard checks every caller.

- Every rule of app.url_map under /api/ or /.well-known/ztl/ is a declared operation, and the guard
  refuses a view on an API blueprint that nobody declared.
- The access matrix, built from app.url_map: every operation refuses a caller without credentials
  (401) and a caller of the wrong role (403), except those declared public.
- Bad input keeps its answers: the same status, code and words as before the declarations (the
  cases below were recorded from the hand-written parsers they replaced), whatever the order in
  which a request's fields are wrong; random JSON is answered, never a 500.
- Adding an operation is one declaration: the worked example of docs/api.md, declared here, is
  routed, guarded, validated and documented without touching anything else.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
from flask import Flask, jsonify
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import Field, TypeAdapter, ValidationError
from typing_extensions import TypedDict
from werkzeug.routing import Rule
from werkzeug.wrappers import Response

from tests.conftest import csrf_token, login, make_app
from tests.factories import DEMO_OWN_CAR, DEMO_RESIDENT, PASSWORD, make_user
from ztl.accounts.api_tokens import create_token
from ztl.api import operations
from ztl.api.auth import (
    MACHINES,
    PUBLIC,
    IntermediaryBasic,
    PaymentSignature,
    Public,
    Session,
    Tokens,
    api_error,
)
from ztl.api.fields import (
    calendar_date,
    closed,
    documented,
    first_refusal,
    json_object,
    numbered,
    text,
)
from ztl.api.openapi import DOCUMENT, build_document
from ztl.api.operations import OPERATIONS, JsonAnswer, api_blueprint, operation
from ztl.enforcement import authorizations as service
from ztl.extensions import db
from ztl.values import InvalidValue

API_PREFIXES = ("/api/", "/.well-known/ztl/")
IGNORED_METHODS = {"HEAD", "OPTIONS"}
NOW = "2026-06-01T08:30:00+02:00"


def _api_rules(app: Flask) -> list[Rule]:
    return [r for r in app.url_map.iter_rules() if r.rule.startswith(API_PREFIXES)]


def _methods(rule: Rule) -> list[str]:
    return sorted((rule.methods or set()) - IGNORED_METHODS)


def _url(app: Flask, rule: Rule) -> str:
    """A URL for the rule, with a made-up plate for its arguments (the guard runs first)."""
    return app.url_map.bind("localhost").build(rule.endpoint, dict.fromkeys(rule.arguments, "x"))


def _bearer(role: str, name: str | None = None) -> dict[str, str]:
    _token, plaintext = create_token(name or f"matrix-{role}", role)
    db.session.commit()
    return {"Authorization": f"Bearer {plaintext}"}


# --- every route is declared ----------------------------------------------------------------------


def test_every_api_route_is_a_declared_operation(app: Flask) -> None:
    routed = {(r.endpoint, m) for r in _api_rules(app) for m in _methods(r)}
    declared = {(o.endpoint, o.method) for o in OPERATIONS.values()}
    assert routed, "no API routes registered"
    assert routed == declared
    paths = {
        (operations.openapi_path(r.rule), m.lower()) for r in _api_rules(app) for m in _methods(r)
    }
    documented = {(path, method) for path, item in DOCUMENT["paths"].items() for method in item}
    assert paths == documented


def test_a_view_nobody_declared_is_refused(tmp_path: Path) -> None:
    """Routed on an API blueprint without a declaration: the guard refuses it, whoever calls."""
    forgotten = api_blueprint("forgotten", __name__, url_prefix="/api/v1/forgotten")

    @forgotten.get("/")
    def undeclared() -> Response:
        return jsonify({"leak": True})

    fresh = make_app(f"sqlite:///{tmp_path / 'unused.sqlite3'}", tmp_path)
    fresh.register_blueprint(forgotten)
    response = fresh.test_client().get("/api/v1/forgotten/")
    assert response.status_code == 403 and response.get_json()["error"] == "forbidden"


# --- the access matrix ----------------------------------------------------------------------------


@pytest.fixture
def payment_endpoints_open(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """The payment notifications open (the notified provider, and the pagoPA intermediary's
    credentials), so their signature and credentials are asked for."""
    monkeypatch.setitem(app.config, "ZTL_PAYMENT_PROVIDER", "notified")
    monkeypatch.setitem(app.config, "ZTL_PAYMENT_NOTIFICATION_SECRET", "s" * 32)
    monkeypatch.setitem(app.config, "ZTL_PAGOPA_NOTIFICATION_USER", "govpay")
    monkeypatch.setitem(app.config, "ZTL_PAGOPA_NOTIFICATION_PASSWORD", "p" * 32)


def _call(client: FlaskClient, app: Flask, rule: Rule, headers: dict[str, str]) -> list[int]:
    return [
        client.open(_url(app, rule), method=method, headers=headers, json={}).status_code
        for method in _methods(rule)
    ]


def test_without_credentials_every_operation_but_the_public_ones_answers_401(
    app: Flask, client: FlaskClient, payment_endpoints_open: None
) -> None:
    got: dict[str, list[int]] = {}
    want: dict[str, list[int]] = {}
    for rule in _api_rules(app):
        access = OPERATIONS[rule.endpoint].access
        statuses = _call(client, app, rule, {})
        got[rule.rule] = statuses
        if isinstance(access, Public):
            want[rule.rule] = [s for s in statuses if s not in (401, 403)]  # 503: keys not made
        else:
            want[rule.rule] = [401] * len(statuses)
    assert got == want


def test_a_wrong_role_is_refused_with_403_by_every_operation_but_the_public_ones(
    app: Flask, client: FlaskClient, payment_endpoints_open: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every token role may call the token operations, so each is narrowed to police here and a
    gate asks: that the guard reads each operation's own declaration is what is tested. A police
    officer signed in is of no role the session operations accept; the payment system's
    operations take no role at all, and a bearer token does not open them (401)."""
    gate = _bearer("gate")
    make_user("police", "matrix.police@comune.example.org")
    assert login(client, "matrix.police@comune.example.org", PASSWORD).status_code == 302
    session_csrf = {"X-CSRFToken": csrf_token(client, "/pagina-che-non-esiste")}
    got: dict[str, list[int]] = {}
    want: dict[str, list[int]] = {}
    for rule in _api_rules(app):
        declared = OPERATIONS[rule.endpoint]
        access = declared.access
        if isinstance(access, Public):
            continue
        if isinstance(access, Tokens):
            narrowed = dataclasses.replace(access, roles=frozenset({"police"}))
            monkeypatch.setitem(
                OPERATIONS, rule.endpoint, dataclasses.replace(declared, access=narrowed)
            )
            got[rule.rule] = _call(client, app, rule, gate)
            expected = 403
        elif isinstance(access, Session):
            assert "police" not in access.roles
            got[rule.rule] = _call(client, app, rule, session_csrf)
            expected = 403
        else:
            assert isinstance(access, PaymentSignature | IntermediaryBasic)
            got[rule.rule] = _call(client, app, rule, gate)
            expected = 401
        want[rule.rule] = [expected] * len(got[rule.rule])
    assert got == want
    assert {type(o.access) for o in OPERATIONS.values()} == {
        Tokens,
        Session,
        PaymentSignature,
        IntermediaryBasic,
        Public,
    }


def test_the_public_operations_are_the_document_and_the_published_lists() -> None:
    public = sorted(o.path for o in OPERATIONS.values() if isinstance(o.access, Public))
    assert public == [
        "/.well-known/ztl/revocations",
        "/.well-known/ztl/trust-list",
        "/api/v1/openapi.json",
    ]


# --- bad input keeps its answers --------------------------------------------------------------------

GOOD = {"plate": DEMO_OWN_CAR, "gate": "A1", "at": NOW}
# (method, path, body or query, the message after "Richiesta non valida: "), recorded from the
# hand-written parsers the schemas replaced.
REFUSED: list[tuple[str, str, Any, str]] = [
    ("GET", "/api/v1/whitelist", {}, "'zone' must be text of 1 to 10 characters"),
    ("GET", "/api/v1/whitelist", {"zone": "A"}, "'date' must be text of 1 to 10 characters"),
    (
        "GET",
        "/api/v1/whitelist",
        {"zone": "A", "date": "2026-02-30"},
        "data non valida / invalid date (YYYY-MM-DD): '2026-02-30'",
    ),
    ("GET", "/api/v1/whitelist", {"zone": " ", "date": "x"}, "'zone' must be text of 1 to 10 characters"),
    (
        "GET",
        f"/api/v1/authorizations/{DEMO_OWN_CAR}",
        {"at": "2026-06-01T10:00:00"},
        "ora senza fuso orario / time without an offset: '2026-06-01T10:00:00' (add Z or +01:00)",
    ),
    ("POST", "/api/v1/transits/check", [], "the body must be a JSON object with a list 'transits'"),
    ("POST", "/api/v1/transits/check", {"transits": "no"}, "the body must be a JSON object with a list 'transits'"),
    ("POST", "/api/v1/transits/check", {"transits": [GOOD, 2]}, "transit 2: must be an object"),
    (
        "POST",
        "/api/v1/transits/check",
        {"transits": [{"plate": 1, "gate": None, "zone": None, "at": 1}]},
        "transit 1: 'gate' or 'zone' is required",
    ),
    (
        "POST",
        "/api/v1/transits/check",
        {"transits": [GOOD, {**GOOD, "plate": 1, "at": 2}]},
        "transit 2: 'plate' must be text of 1 to 20 characters",
    ),
    (
        "POST",
        "/api/v1/transits/check",
        {"transits": [{"plate": DEMO_OWN_CAR, "gate": "A1"}]},
        "transit 1: 'at' must be text of 1 to 40 characters",
    ),
    (
        "POST",
        "/api/v1/transits/check",
        {"transits": [{**GOOD, "at": "9999-12-31T23:59:59Z"}]},
        "transit 1: ora fuori intervallo / time out of range (years 1900-9998): "
        "'9999-12-31T23:59:59Z'",
    ),
    (
        "POST",
        "/api/v1/transits/check",
        {"transits": [{**GOOD, "gate": "A1", "zone": 7}]},
        "transit 1: 'zone' must be text of 1 to 10 characters",
    ),
    ("POST", "/api/v1/transits/check", {"transits": [{**GOOD, "gate": "NOPE"}]}, "varco sconosciuto / unknown gate: 'NOPE'"),
    ("POST", "/api/v1/transits/check", {"transits": [GOOD] * 10_001}, "al massimo 10000 transiti / at most 10000 transits"),
    ("POST", "/api/v1/transits/check", {"transits": [GOOD] * 10_001 + [1]}, "transit 10002: must be an object"),
    ("POST", "/api/v1/seals/verify", "x", "the body must be a JSON object with a 'seal'"),
    ("POST", "/api/v1/seals/verify", {"seal": 42}, "'seal' is required: the text of the QR code"),
    ("POST", "/api/v1/seals/verify", {"seal": "Z" * 5000}, "'seal' is longer than 4096 characters"),
    ("POST", "/api/v1/seals/verify", {"seal": "ZTL1:X", "at": 1, "plate": 2}, "'at' must be text of at most 40 characters"),
    ("POST", "/api/v1/seals/verify", {"seal": "ZTL1:X", "plate": "???"}, "targa non valida / invalid plate: '???'"),
    ("POST", "/api/v1/seals/verify", {"seal": "ZTL1:X", "zone": "X" * 11}, "'zone' must be text of at most 10 characters"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "sent", "message"), REFUSED)
def test_bad_input_is_answered_in_the_same_words(
    city: Flask, client: FlaskClient, method: str, path: str, sent: Any, message: str
) -> None:
    headers = _bearer("gate")
    if method == "GET":
        response = client.get(path, headers=headers, query_string=sent)
    else:
        response = client.post(path, headers=headers, json=sent)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json() == {
        "error": "bad_request",
        "message": f"Richiesta non valida: {message}",
    }


ELIGIBILITY_REFUSED: list[tuple[Any, str]] = [
    ([], "the body must be a JSON object"),
    ({"category": "1", "plates": [DEMO_OWN_CAR]}, "'applicant' is required"),  # a clerk has no CF
    ({"applicant": DEMO_RESIDENT, "plates": [DEMO_OWN_CAR]}, "'category' is required"),
    ({"applicant": DEMO_RESIDENT, "category": 1, "plates": 2}, "'category' must be text of at most 100 characters"),
    ({"applicant": DEMO_RESIDENT, "category": "1", "plates": [DEMO_OWN_CAR] * 11}, "'plates' must be a list of 1 to 10 plates"),
    ({"applicant": DEMO_RESIDENT, "category": "1", "plates": [{"plate": DEMO_OWN_CAR, "country": 5}]}, "'plates[].country' must be two letters"),
    ({"applicant": DEMO_RESIDENT, "category": "1", "plates": [{"plate": 5}]}, 'each plate is a string or {"plate", "country"}'),
    ({"applicant": DEMO_RESIDENT, "category": "1", "plates": [DEMO_OWN_CAR], "zones": [1]}, "'zones' must be a list of text"),
    ({"applicant": DEMO_RESIDENT, "category": 5, "plates": [DEMO_OWN_CAR], "at": "x"}, "ora non valida / invalid time (ISO 8601): 'x'"),
    ({"applicant": DEMO_RESIDENT, "category": "1", "plates": [DEMO_OWN_CAR], "valid_from": "2026-13-01"}, "data non valida / invalid date (YYYY-MM-DD): '2026-13-01'"),
]  # fmt: skip


def test_bad_eligibility_questions_are_answered_in_the_same_words(
    city: Flask, client: FlaskClient
) -> None:
    make_user("clerk", "words.clerk@comune.example.org")
    login(client, "words.clerk@comune.example.org", PASSWORD)
    headers = {"X-CSRFToken": csrf_token(client, "/ufficio/")}
    for body, message in ELIGIBILITY_REFUSED:
        response = client.post("/api/v1/eligibility", json=body, headers=headers)
        assert (response.status_code, response.get_json()) == (
            400,
            {"error": "bad_request", "message": f"Richiesta non valida: {message}"},
        ), body


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
TRANSIT_LIKE = st.fixed_dictionaries(
    {},
    optional={
        "plate": JSON_VALUES | st.just(DEMO_OWN_CAR),
        "gate": JSON_VALUES | st.just("A1"),
        "zone": JSON_VALUES | st.just("A"),
        "at": JSON_VALUES | st.sampled_from([NOW, "2026-06-01T10:00:00", "0001-01-01T00:00:00Z"]),
    },
)
BODIES = (
    JSON_VALUES
    | st.fixed_dictionaries({"transits": st.lists(TRANSIT_LIKE | JSON_VALUES, max_size=4)})
    | st.fixed_dictionaries(
        {"seal": JSON_VALUES},
        optional={"at": JSON_VALUES, "plate": JSON_VALUES, "zone": JSON_VALUES},
    )
)


@pytest.fixture
def gate(city: Flask) -> dict[str, str]:
    return _bearer("gate", name="hostile")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=BODIES,
    query=st.dictionaries(st.sampled_from(["at", "zone", "date"]), st.text(max_size=30)),
)
def test_random_json_and_queries_are_answered_never_with_a_500(
    city: Flask, gate: dict[str, str], body: Any, query: dict[str, str]
) -> None:
    client = city.test_client()
    plate = f"/api/v1/authorizations/{DEMO_OWN_CAR}"
    answers = [
        client.post("/api/v1/transits/check", json=body, headers=gate),
        client.post("/api/v1/seals/verify", json=body, headers=gate),
        client.get(plate, query_string=query, headers=gate),
        client.get("/api/v1/whitelist", query_string=query, headers=gate),
    ]
    for answer in answers:
        assert answer.status_code in (200, 400), answer.get_data(as_text=True)
        if answer.status_code == 400:
            assert set(answer.get_json()) == {"error", "message"}


# --- the schemas' machinery -----------------------------------------------------------------------


class Pair(TypedDict):
    first: Annotated[str, text(5)]
    second: Annotated[str, text(5)]


class Pairs(TypedDict):
    pairs: Annotated[
        list[Annotated[Pair, json_object("must be an object", ("first", "second"))]],
        numbered("pair"),
    ]


def _refusal(schema: Any, value: Any) -> str:
    with pytest.raises(ValidationError) as refused:
        TypeAdapter(schema).validate_python(value)
    return first_refusal(refused.value)


def test_the_first_problem_in_declared_order_is_named_with_its_item() -> None:
    adapter: TypeAdapter[Pairs] = TypeAdapter(Pairs)
    assert adapter.validate_python({"pairs": [{"first": " a ", "second": "b", "x": 1}]}) == {
        "pairs": [{"first": "a", "second": "b"}]  # stripped; unknown fields dropped
    }
    wrong = {"pairs": [{"first": "a", "second": "b"}, {"second": 7, "first": "toolong"}]}
    assert _refusal(Pairs, wrong) == "pair 2: 'first' must be text of 1 to 5 characters"
    assert _refusal(Pairs, {"pairs": [{"first": "a"}]}) == (
        "pair 1: 'second' must be text of 1 to 5 characters"  # missing: the field's own words
    )
    assert _refusal(Pairs, {"pairs": ["a"]}) == "pair 1: must be an object"


def test_a_pydantic_constraint_used_directly_is_still_answered_in_words() -> None:
    class Limited(TypedDict):
        count: Annotated[int, Field(ge=1)]

    assert _refusal(Limited, {"count": 0}).startswith("'count': Input should be greater")


# --- adding an operation: the worked example of docs/api.md ----------------------------------------


class ZoneHoursQuery(TypedDict):
    zone: Annotated[str, text(10, examples=["A"])]
    date: Annotated[dt.date, calendar_date(10, description="YYYY-MM-DD, the local day.")]


@closed
class ZoneHours(TypedDict):
    zone: str
    date: Annotated[str, documented({"format": "date"})]
    hours: Annotated[
        str,
        documented(
            {
                "description": "HH:MM-HH:MM, space-separated; empty when the zone is not "
                "restricted that day."
            }
        ),
    ]


@pytest.fixture
def declared_example(
    city: Flask, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Flask]:
    """The example's operation, declared and routed on an app of its own (on the test's database,
    with the demo city), and taken out of the declarations afterwards."""
    monkeypatch.setattr(operations, "OPERATIONS", dict(OPERATIONS))
    monkeypatch.setattr("ztl.api.openapi.OPERATIONS", operations.OPERATIONS)
    bp = api_blueprint("api_example", __name__)

    @operation(
        bp,
        "GET",
        "/zone-hours",
        summary="When a zone is restricted on a day",
        access=MACHINES,
        query=ZoneHoursQuery,
        answers={200: JsonAnswer(ZoneHours, "The zone's hours that day.")},
    )
    def zone_hours(query: ZoneHoursQuery) -> tuple[Response, int] | Response:
        zone, date = query["zone"], query["date"]
        try:
            hours = service.zone_hours_on(zone, date)
        except InvalidValue as exc:  # an unknown zone
            return api_error("bad_request", detail=str(exc))
        return jsonify({"zone": zone, "date": date.isoformat(), "hours": hours})

    fresh = make_app(database_url, tmp_path / "example")
    fresh.register_blueprint(bp)
    yield fresh
    with fresh.app_context():
        db.engine.dispose()


def test_an_operation_is_declared_in_one_place(declared_example: Flask) -> None:
    declared = operations.OPERATIONS["api_example.zone_hours"]
    assert (declared.method, declared.path, declared.operation_id) == (
        "GET",
        "/api/v1/zone-hours",
        "zoneHours",
    )
    assert declared.refusals == (400, 401, 403, 429)  # from its access and its query
    document = build_document()
    item = document["paths"]["/api/v1/zone-hours"]["get"]
    assert item["security"] == [{"bearer": []}]
    assert [(p["name"], p["in"], p["required"]) for p in item["parameters"]] == [
        ("zone", "query", True),
        ("date", "query", True),
    ]
    assert item["parameters"][0]["schema"] == {
        "type": "string",
        "minLength": 1,
        "maxLength": 10,
        "examples": ["A"],
    }
    assert item["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ZoneHours"
    }
    assert document["components"]["schemas"]["ZoneHours"]["additionalProperties"] is False
    assert sorted(item["responses"]) == ["200", "400", "401", "403", "429"]

    client = declared_example.test_client()
    query = {"zone": "b", "date": "2026-06-01"}
    assert client.get("/api/v1/zone-hours", query_string=query).status_code == 401
    with declared_example.app_context():
        _token, plaintext = create_token("example-gate", "gate")
    headers = {"Authorization": f"Bearer {plaintext}"}
    answer = client.get("/api/v1/zone-hours", query_string=query, headers=headers)
    assert answer.get_json() == {"zone": "b", "date": "2026-06-01", "hours": "07:30-18:30"}
    refused = client.get("/api/v1/zone-hours", query_string={"date": "x"}, headers=headers)
    assert (refused.status_code, refused.get_json()["message"]) == (
        400,
        "Richiesta non valida: 'zone' must be text of 1 to 10 characters",
    )


def test_the_served_document_is_the_generated_one(client: FlaskClient) -> None:
    assert client.get("/api/v1/openapi.json").get_json() == build_document() == DOCUMENT
    assert PUBLIC.security == []
