"""The OpenAPI document at /api/v1/openapi.json describes the API the code serves.

The document is generated from the operations' declarations (ztl.api.operations, ztl.api.openapi),
so these tests check it with tools that share nothing with the generator. Four guards, on SQLite
and PostgreSQL:
- it is a valid OpenAPI 3.1 document, every /api/v1 route (with its methods) is in it and every
  documented operation is a route;
- schemathesis fuzzes the app in process against the document, valid and invalid requests alike,
  with a permit issued so that not every answer is "no permit": no 5xx, and every status code,
  content type, header and body is a documented one;
- real answers that random data seldom reaches (a valid seal, an authorized plate, a whitelist row,
  an eligibility verdict, a 429) are checked against the document the same way;
- and once more with jsonschema_rs alone, the answers' schemas taken from the served document.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema_rs
import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.definitions import OPENAPI_31

from tests.conftest import csrf_token, login
from tests.factories import DEMO_OWN_CAR, DEMO_RESIDENT, PASSWORD, issue_resident, make_user
from ztl.accounts.api_tokens import create_token
from ztl.api.openapi import DOCUMENT
from ztl.api.operations import openapi_path
from ztl.extensions import db
from ztl.permits.issuance import IssueResult

URL = "/api/v1/openapi.json"
IGNORED_METHODS = {"HEAD", "OPTIONS"}

# 40 generated requests per operation, besides schemathesis's examples and boundary (coverage)
# cases: about 20 s per database. Each run draws new data; no shrinking, so a failure is reported
# with the request as found (as a curl command) instead of minutes spent minimising it.
FUZZ_CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {
            "mode": "all",  # valid requests and invalid ones: both must get documented answers
            "max-examples": 40,
            "no-shrink": True,
            "database": "none",  # nothing written to .hypothesis/
        },
        "phases": {"stateful": {"enabled": False}},
    }
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

# Loaded from the dict the endpoint serves (the first test shows they are the same), at import time:
# schemathesis makes one test per operation, each run on SQLite and PostgreSQL by the fixtures.
schema = schemathesis.openapi.from_dict(copy.deepcopy(DOCUMENT), config=FUZZ_CONFIG)
# The CSV body of POST /api/v1/transits/check may also be labelled application/csv: text as it is.
schemathesis.serializer.alias("application/csv", "text/plain")


def _operations(paths: dict[str, Any]) -> set[tuple[str, str]]:
    return {(path, method.upper()) for path, item in paths.items() for method in item}


def _routes(app: Flask, prefixes: Iterable[str]) -> set[tuple[str, str]]:
    return {
        (openapi_path(rule.rule), method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(tuple(prefixes))
        for method in (rule.methods or set()) - IGNORED_METHODS
    }


def test_the_document_is_public_json_and_covers_every_route(
    app: Flask, client: FlaskClient
) -> None:
    response = client.get(URL)  # no token: a device reads it before it has one
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.get_json()
    assert document["openapi"] == "3.1.0" and document == DOCUMENT
    # A valid OpenAPI 3.1 document (the OAS meta-schema, as bundled by schemathesis).
    errors = [str(e) for e in jsonschema_rs.validator_for(OPENAPI_31).iter_errors(document)]
    assert errors == []
    documented = _operations(document["paths"])
    api_routes = _routes(app, ["/api/v1/"])
    assert api_routes, "no /api/v1 routes registered"
    assert api_routes - documented == set(), "routes missing from the OpenAPI document"
    # And nothing documented that the app does not serve (a removed or renamed endpoint).
    served = _routes(app, ["/api/v1/", "/.well-known/ztl/"])
    assert documented - served == set(), "documented operations the app does not serve"


def _fresh_context(app: Flask) -> Callable[..., Any]:
    """Each request in its own app context, as in production (see FreshContextClient).

    And from 127.0.0.1, as Flask's test client: the clerk's session is bound to that address.
    """

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        environ.setdefault("REMOTE_ADDR", "127.0.0.1")
        with app.app_context():
            return app(environ, start_response)

    return wsgi


@pytest.fixture
def issued(city: Flask) -> IssueResult:
    return issue_resident()


@pytest.fixture
def police(city: Flask, issued: IssueResult, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A police token's header, with a permit issued and no rate limit."""
    # The fuzzer sends hundreds of requests a minute with one token: no 429s, please.
    monkeypatch.setitem(city.config, "ZTL_API_RATE_PER_MINUTE", 0)
    _token, plaintext = create_token("schemathesis", "police")
    db.session.commit()
    return {"Authorization": f"Bearer {plaintext}"}


@pytest.fixture
def clerk(city: Flask, client: FlaskClient) -> dict[str, Any]:
    """A signed-in clerk's session cookie and CSRF token, for POST /api/v1/eligibility."""
    make_user("clerk", "clerk@comune.example.org")
    login(client, "clerk@comune.example.org", PASSWORD)
    token = csrf_token(client, "/ufficio/")
    cookie = client.get_cookie("session")
    assert cookie is not None
    # The session is bound to the browser that signed in (Flask-Login strong protection).
    user_agent = client.environ_base["HTTP_USER_AGENT"]
    return {
        "cookies": {"session": cookie.value},
        "headers": {"X-CSRFToken": token, "User-Agent": user_agent},
    }


def _credentials(path: str, police: dict[str, str], clerk: dict[str, Any]) -> dict[str, Any]:
    """Eligibility is for signed-in people; everything else for machine tokens."""
    return clerk if path == "/api/v1/eligibility" else {"headers": police}


@schema.parametrize()
# One city for all of an operation's examples (the fixtures run once per operation, on purpose).
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_api_answers_as_documented(
    case: schemathesis.Case, city: Flask, police: dict[str, str], clerk: dict[str, Any]
) -> None:
    credentials = _credentials(case.operation.path, police, clerk)
    case.call_and_validate(app=_fresh_context(city), checks=CHECKS, **credentials)


def _call(
    app: Flask, method: str, path: str, credentials: dict[str, Any] | None = None, **data: Any
) -> Any:
    """One hand-made request, validated against the document like the fuzzed ones."""
    if "body" in data:
        data.setdefault("media_type", "application/json")
    case = schema[path][method].Case(**data)
    return case.call_and_validate(app=_fresh_context(app), checks=CHECKS, **(credentials or {}))


def _z(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def test_real_answers_match_the_document(
    city: Flask, issued: IssueResult, police: dict[str, str], clerk: dict[str, Any]
) -> None:
    token = {"headers": police}
    now = _z(dt.datetime.now(dt.UTC))
    answer = _call(
        city,
        "GET",
        "/api/v1/authorizations/{plate}",
        token,
        path_parameters={"plate": DEMO_OWN_CAR},
        query={"zone": "A", "at": now},
    ).json()
    assert answer["authorized"] and [p["number"] for p in answer["permits"]] == [issued.number]
    transits = {"transits": [{"plate": DEMO_OWN_CAR, "gate": "A1", "at": now}]}
    results = _call(city, "POST", "/api/v1/transits/check", token, body=transits).json()
    assert results["results"][0]["authorized"] is True
    csv_body = f"plate,gate,at\r\n{DEMO_OWN_CAR},A1,{now}\r\nZZ999ZZ,A1,{now}\r"  # any line ends
    results = _call(
        city, "POST", "/api/v1/transits/check", token, body=csv_body, media_type="text/csv"
    ).json()
    assert [r["plate"] for r in results["results"]] == [DEMO_OWN_CAR, "ZZ999ZZ"]
    seal = _call(
        city, "POST", "/api/v1/seals/verify", token, body={"seal": issued.seal, "zone": "A"}
    ).json()
    assert seal["valid"] and seal["permit"]["number"] == issued.number
    # The whitelist's day is Prato's: between 23:00 and midnight UTC it is already tomorrow there.
    today = dt.datetime.now(ZoneInfo("Europe/Rome")).date().isoformat()
    whitelist = _call(
        city, "GET", "/api/v1/whitelist", token, query={"zone": "A", "date": today}
    ).text
    assert f"\n{DEMO_OWN_CAR},A," in whitelist
    question = {"category": "1", "applicant": DEMO_RESIDENT, "plates": [DEMO_OWN_CAR]}
    verdict = _call(city, "POST", "/api/v1/eligibility", clerk, body=question)
    assert verdict.status_code == 200 and verdict.json()["checks"]
    unknown = _call(city, "POST", "/api/v1/eligibility", clerk, body={**question, "category": "Z"})
    assert unknown.status_code == 422


def test_refusals_match_the_document(
    city: Flask, police: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _call(city, "GET", "/api/v1/whoami").status_code == 401
    stranger = {"headers": {"Authorization": "Bearer ztl_not-a-token"}}
    assert _call(city, "GET", "/api/v1/whoami", stranger).status_code == 401
    monkeypatch.setitem(city.config, "ZTL_API_RATE_PER_MINUTE", 1)
    _token, plaintext = create_token("hasty", "gate")
    hasty = {"headers": {"Authorization": f"Bearer {plaintext}"}}
    assert _call(city, "GET", "/api/v1/whoami", hasty).json()["role"] == "gate"
    limited = _call(city, "GET", "/api/v1/whoami", hasty)
    assert limited.status_code == 429 and int(limited.headers["retry-after"][0]) >= 1


@pytest.mark.parametrize(
    "at", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "9999-12-31T23:59:59Z"]
)
def test_instants_at_the_ends_of_the_calendar_are_a_400(
    city: Flask, police: dict[str, str], at: str
) -> None:
    """Found while fuzzing: they overflowed Python's datetime in the services (500s)."""
    token = {"headers": police}
    requests: list[tuple[str, str, dict[str, Any]]] = [
        (
            "GET",
            "/api/v1/authorizations/{plate}",
            {"path_parameters": {"plate": DEMO_OWN_CAR}, "query": {"at": at}},
        ),
        (
            "POST",
            "/api/v1/transits/check",
            {"body": {"transits": [{"plate": DEMO_OWN_CAR, "zone": "A", "at": at}]}},
        ),
        ("POST", "/api/v1/seals/verify", {"body": {"seal": "ZTL1:X", "at": at}}),
        ("GET", "/api/v1/whitelist", {"query": {"zone": "A", "date": at[:10]}}),
    ]
    for method, path, data in requests:
        response = _call(city, method, path, token, **data)
        assert response.status_code == 400, (path, response.text)


def _answer_validator(document: dict[str, Any], path: str, method: str) -> Any:
    """A validator of the 200 answer of an operation, from the served document alone."""
    content = document["paths"][path][method]["responses"]["200"]["content"]
    schema = {**content["application/json"]["schema"], "components": document["components"]}
    return jsonschema_rs.Draft202012Validator(schema)


def test_real_answers_validate_against_the_served_document(
    city: Flask, client: FlaskClient, issued: IssueResult, police: dict[str, str]
) -> None:
    """With jsonschema_rs only: no schemathesis, no pydantic, the document as a client gets it."""
    document = client.get(URL).get_json()
    now = _z(dt.datetime.now(dt.UTC))
    answers = {
        ("/api/v1/whoami", "get"): client.get("/api/v1/whoami", headers=police),
        ("/api/v1/authorizations/{plate}", "get"): client.get(
            f"/api/v1/authorizations/{DEMO_OWN_CAR}", headers=police
        ),
        ("/api/v1/transits/check", "post"): client.post(
            "/api/v1/transits/check",
            headers=police,
            json={"transits": [{"plate": DEMO_OWN_CAR, "zone": "A", "at": now}]},
        ),
        ("/api/v1/seals/verify", "post"): client.post(
            "/api/v1/seals/verify", headers=police, json={"seal": issued.seal}
        ),
        ("/.well-known/ztl/trust-list", "get"): client.get("/.well-known/ztl/trust-list"),
    }
    for (path, method), answer in answers.items():
        assert answer.status_code == 200, (path, answer.get_data(as_text=True))
        validator = _answer_validator(document, path, method)
        assert [str(e) for e in validator.iter_errors(answer.get_json())] == [], path
    # And a closed schema refuses a field the code might add without declaring it.
    extra = {**answers[("/api/v1/whoami", "get")].get_json(), "surprise": 1}
    assert not _answer_validator(document, "/api/v1/whoami", "get").is_valid(extra)
