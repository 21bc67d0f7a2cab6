"""Role guards as a matrix: every viewer (anonymous and each role) against every URL of every role.

EXPECTED lists each URL rule under a role prefix with the roles that may open it. It is written out by
hand, independently of ztl/permissions.py, and checked against app.url_map: a new page under
/ufficio/ (say) without a line here makes the suite fail, so nobody adds a page without deciding,
and testing, who may open it.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from tests.conftest import csrf_token, login, make_app, sign_in
from tests.factories import PASSWORD, make_user

ROLES = ("resident", "clerk", "supervisor", "police", "admin")
VIEWERS = ("anonymous", *ROLES)
ROLE_PREFIXES = (
    "/area-personale/",
    "/ufficio/",
    "/supervisione/",
    "/polizia/",
    "/sala-operativa/",
    "/amministrazione/",
)

RESIDENT = frozenset({"resident"})
OFFICE = frozenset({"clerk", "supervisor", "admin"})
SUPERVISION = frozenset({"supervisor", "admin"})
POLICE = frozenset({"police", "admin"})
ADMIN = frozenset({"admin"})

# Every URL rule under a role prefix -> the roles that may open it.
EXPECTED: dict[str, frozenset[str]] = {
    "/area-personale/": RESIDENT,
    "/ufficio/": OFFICE,
    "/supervisione/": SUPERVISION,
    "/polizia/": POLICE,
    "/polizia/sigillo/": POLICE,
    "/polizia/risposte/svuota": POLICE,
    "/polizia/sigillo/sw.js": POLICE,
    "/polizia/targa": POLICE,
    "/polizia/violazioni/": POLICE,
    "/polizia/violazioni/<int:transit_id>": POLICE,
    "/polizia/violazioni/<int:transit_id>/conferma": POLICE,
    "/polizia/violazioni/<int:transit_id>/archiviazione": POLICE,
    "/polizia/violazioni/<int:transit_id>/immagine": POLICE,
    "/polizia/violazioni/esportazione": POLICE,
    "/amministrazione/": ADMIN,
    # The situation room: supervisors and the police watch the gates together.
    "/sala-operativa/": SUPERVISION | POLICE,
    "/sala-operativa/eventi": SUPERVISION | POLICE,
}
# The applicant's pages (their objects are checked for ownership by test_resident_pages).
EXPECTED.update(
    dict.fromkeys(
        (
            "/area-personale/albergo",
            "/area-personale/albergo/blocchetti",
            "/area-personale/albergo/blocchetti/<int:booklet_id>/paga",
            "/area-personale/albergo/blocchetti/<int:booklet_id>/avviso.pdf",
            "/area-personale/albergo/ospiti",
            "/area-personale/albergo/ospiti/file",
            "/area-personale/albergo/ospiti/esito/<key>",
            "/area-personale/documenti/<int:document_id>",
            "/area-personale/i-miei-dati.json",
            "/area-personale/imprese",
            "/area-personale/imprese/deleghe",
            "/area-personale/imprese/deleghe/<int:delegation_id>/revoca",
            "/area-personale/documenti/<int:document_id>/elimina",
            "/area-personale/domande/<int:application_id>",
            "/area-personale/domande/<int:application_id>/documenti",
            "/area-personale/domande/<int:application_id>/invia",
            "/area-personale/domande/<int:application_id>/modifica",
            "/area-personale/domande/<int:application_id>/paga",
            "/area-personale/domande/<int:application_id>/avviso.pdf",
            "/area-personale/domande/<int:application_id>/ritira",
            "/area-personale/domande/nuova",
            "/area-personale/domande/nuova/<path:code>",
            "/area-personale/permessi/<number>",
            "/area-personale/permessi/<number>/pdf",
            "/area-personale/permessi/<number>/rinnova",
            "/area-personale/permessi/<number>/rinuncia",
            "/area-personale/permessi/<number>/targa",
        ),
        RESIDENT,
    )
)
# The supervisors' back office.
EXPECTED.update(
    dict.fromkeys(
        (
            "/supervisione/categorie",
            "/supervisione/consultazioni",
            "/supervisione/importazioni",
            "/supervisione/importazioni/esito/<key>",
            "/supervisione/pagamenti",
            "/supervisione/pagamenti.csv",
            "/supervisione/pagamenti/rimborsi/<int:refund_id>/eseguito",
            "/supervisione/token",
            "/supervisione/token/<name>/revoca",
            "/supervisione/utenti",
            "/supervisione/utenti/<int:user_id>/disattiva",
            "/supervisione/utenti/<int:user_id>/riattiva",
            "/supervisione/utenti/<int:user_id>/secondo-fattore/azzera",
            "/supervisione/utenti/nuovo",
        ),
        SUPERVISION,
    )
)
# The clerks' back office (supervisors and administrators work there too).
EXPECTED.update(
    dict.fromkeys(
        (
            "/ufficio/deleghe",
            "/ufficio/deleghe/<int:delegation_id>",
            "/ufficio/deleghe/<int:delegation_id>/approva",
            "/ufficio/deleghe/<int:delegation_id>/revoca",
            "/ufficio/deleghe/<int:delegation_id>/rifiuta",
            "/ufficio/deleghe/documenti/<int:document_id>",
            "/ufficio/documenti/<int:document_id>",
            "/ufficio/domande/<int:application_id>",
            "/ufficio/domande/<int:application_id>/approva",
            "/ufficio/domande/<int:application_id>/chiedi-documenti",
            "/ufficio/domande/<int:application_id>/respingi",
            "/ufficio/permessi/<number>",
            "/ufficio/permessi/<number>/pdf",
            "/ufficio/permessi/<number>/revoca",
        ),
        OFFICE,
    )
)
# Rules open to everyone (their own tests cover them); the API has its own token guard and tests.
PUBLIC = {"/", "/accedi", "/registrazione", "/lingua", "/esci", "/static/<path:filename>"}
# What every municipal service publishes: a page per permit category, contacts, help, the privacy
# notice and the accessibility statement (tests/test_municipal_pages.py).
PUBLIC |= {
    "/permessi/<path:code>",
    "/contatti",
    "/aiuto",
    "/informativa-privacy",
    "/dichiarazione-accessibilita",
}
# Browsers that do not read the page's icon link ask for this one (tests/test_static_files.py).
PUBLIC |= {"/favicon.ico"}
# The sign-in's second step, open to a visitor whose password was right (anyone else is sent back
# to the password: tests/test_second_factor.py).
PUBLIC |= {"/accedi/codice", "/accedi/attivazione"}
# Sign-in through SPID/CIE and our public keys for the providers (tests/test_identity_providers.py).
PUBLIC |= {"/accedi/con/<name>", "/accedi/con/<name>/ritorno", "/oidc/jwks.json"}
# Rules for every signed-in person, whatever the role (login_required; anonymous visitors go to
# sign-in): the browser sessions page (tests/test_browser_sessions.py), and beside it the staff's
# second factor (residents get 403 there: tests/test_second_factor.py).
SIGNED_IN = {"/sessioni", "/sessioni/<int:session_id>/termina", "/sessioni/termina-le-altre"}
SIGNED_IN |= {
    "/sessioni/secondo-fattore",
    "/sessioni/secondo-fattore/attivazione",
    "/sessioni/secondo-fattore/codici-di-recupero",
}
API_PREFIXES = ("/api/", "/.well-known/")
IGNORED_METHODS = {"HEAD", "OPTIONS"}
# A page that exists for nobody: its 404 page carries the language form, hence a CSRF token, for
# any viewer (the home page would redirect a signed-in user instead).
ANY_PAGE = "/pagina-che-non-esiste"


def _guarded_rules(app: Flask) -> list[Rule]:
    return [r for r in app.url_map.iter_rules() if r.rule.startswith(ROLE_PREFIXES)]


def _without_expectation(app: Flask) -> list[str]:
    return sorted({r.rule for r in _guarded_rules(app)} - EXPECTED.keys())


def test_every_rule_under_a_role_prefix_has_an_expectation(app: Flask) -> None:
    assert _without_expectation(app) == [], "add these URL rules to EXPECTED"
    rules = {r.rule for r in _guarded_rules(app)}
    assert sorted(EXPECTED.keys() - rules) == [], "these EXPECTED rules no longer exist"


def test_a_forgotten_page_is_caught(tmp_path: Path) -> None:
    """A page added under /ufficio/ outside the guarded blueprint: both checks report it."""
    fresh = make_app(f"sqlite:///{tmp_path / 'unused.sqlite3'}", tmp_path)

    @fresh.get("/ufficio/dimenticata")
    def forgotten() -> str:
        return "queue"

    assert _without_expectation(fresh) == ["/ufficio/dimenticata"]
    response = fresh.test_client().get("/ufficio/dimenticata")
    assert _outcome(response, "/ufficio/dimenticata") == "allowed"
    assert _expected_outcome("anonymous", OFFICE) == "sign in"


def test_every_other_rule_is_known_to_be_public(app: Flask) -> None:
    unknown = [
        r.rule
        for r in app.url_map.iter_rules()
        if not r.rule.startswith(ROLE_PREFIXES + API_PREFIXES) and r.rule not in PUBLIC | SIGNED_IN
    ]
    assert unknown == [], f"routes outside the role areas that no test decides about: {unknown}"


def _example_url(app: Flask, rule: Rule) -> str:
    """A URL for the rule, with made-up values for its arguments (the guard runs before the view)."""
    values: dict[str, Any] = {}
    for name, converter in rule._converters.items():
        kind = type(converter).__name__
        values[name] = (
            999_999
            if kind == "IntegerConverter"
            else uuid.UUID(int=0)
            if kind == "UUIDConverter"
            else "x"
        )
    adapter = app.url_map.bind("localhost")
    return adapter.build(rule.endpoint, values, method=sorted(rule.methods or {"GET"})[0])


def _outcome(response: Any, path: str) -> str:
    """What a viewer got, in the matrix's words."""
    if response.status_code == 302:
        target = urlsplit(response.headers["Location"])
        if target.path == "/accedi" and parse_qs(target.query).get("next") == [path]:
            return "sign in"
        return f"302 to {response.headers['Location']}"
    if response.status_code == 403:
        return "forbidden"
    if response.status_code in {401, 400}:
        return str(response.status_code)
    return "allowed"


def _expected_outcome(viewer: str, allowed: frozenset[str]) -> str:
    if viewer == "anonymous":
        return "sign in"
    return "allowed" if viewer in allowed else "forbidden"


@pytest.mark.parametrize("viewer", VIEWERS)
def test_role_matrix(app: Flask, client: FlaskClient, viewer: str) -> None:
    if viewer != "anonymous":
        sign_in(client, viewer)
    token = csrf_token(client, ANY_PAGE)
    got: dict[tuple[str, str], str] = {}
    want: dict[tuple[str, str], str] = {}
    for rule in _guarded_rules(app):
        allowed = EXPECTED.get(rule.rule)
        if allowed is None:
            continue  # reported by test_every_rule_under_a_role_prefix_has_an_expectation
        path = _example_url(app, rule)
        for method in sorted((rule.methods or set()) - IGNORED_METHODS):
            data = {"csrf_token": token} if method != "GET" else None
            response = client.open(path, method=method, data=data)
            outcome = _outcome(response, path)
            if outcome == "400" and method != "GET":
                # Past the guard with a valid token, an empty form is bad input: still "allowed".
                outcome = "allowed"
            got[(method, rule.rule)] = outcome
            want[(method, rule.rule)] = _expected_outcome(viewer, allowed)
            if want[(method, rule.rule)] == "allowed" and method == "GET" and not rule.arguments:
                assert response.status_code == 200, (viewer, rule.rule)
    assert got == want


def test_deactivated_user_loses_access_at_once(app: Flask, client: FlaskClient) -> None:
    from ztl.extensions import db

    user = make_user("clerk", "clerk@comune.example.org")
    login(client, "clerk@comune.example.org", PASSWORD)
    assert client.get("/ufficio/").status_code == 200
    user.active = False
    db.session.commit()
    out = client.get("/ufficio/")  # the open session is ended: sent to sign in
    assert out.status_code == 302 and out.headers["Location"].startswith("/accedi")


# --- The API and the published lists: who may call each rule -------------------------------------
# "public": anyone; "token": a bearer token of role police or gate (the only token roles);
# "session": a signed-in resident or clerk (the eligibility check the portal's pages call);
# "signed": the payment system's notifications, authenticated by an HMAC signature or the pagoPA
# intermediary's credentials only (closed, 404, with the development payment provider; their own
# tests are in test_integrity and test_pagopa).
API_EXPECTED: dict[str, str] = {
    "/api/v1/openapi.json": "public",
    "/.well-known/ztl/trust-list": "public",
    "/.well-known/ztl/revocations": "public",
    "/api/v1/whoami": "token",
    "/api/v1/authorizations/<plate>": "token",
    "/api/v1/transits/check": "token",
    "/api/v1/transits": "gate token",
    "/api/v1/whitelist": "token",
    "/api/v1/seals/verify": "token",
    "/api/v1/eligibility": "session",
    "/api/v1/payments/notifications": "signed",
    "/api/v1/pagopa/pagamenti/<creditor>/<iuv>": "signed",
}
TOKEN_ROLES = ("police", "gate")


def _api_rules(app: Flask) -> list[Rule]:
    return [r for r in app.url_map.iter_rules() if r.rule.startswith(API_PREFIXES)]


def test_every_api_rule_has_an_expectation(app: Flask) -> None:
    rules = {r.rule for r in _api_rules(app)}
    assert sorted(rules - API_EXPECTED.keys()) == [], "add these API rules to API_EXPECTED"
    assert sorted(API_EXPECTED.keys() - rules) == [], "these API_EXPECTED rules no longer exist"


def _api_call(client: FlaskClient, app: Flask, rule: Rule, headers: dict[str, str]) -> list[int]:
    path = _example_url(app, rule)
    statuses = []
    for method in sorted((rule.methods or set()) - IGNORED_METHODS):
        response = client.open(path, method=method, headers=headers, json={})
        statuses.append(response.status_code)
    return statuses


@pytest.mark.parametrize("caller", ["nobody", "revoked", "clerk session", *TOKEN_ROLES])
def test_api_matrix(app: Flask, client: FlaskClient, caller: str) -> None:
    """Token rules refuse anyone without a live token (401), including a signed-in clerk; public
    rules answer everyone; the session rule refuses callers without a session."""
    from ztl.accounts.api_tokens import create_token, revoke_token

    headers: dict[str, str] = {}
    if caller in TOKEN_ROLES or caller == "revoked":
        _token, plaintext = create_token(
            f"matrix-{caller}", "gate" if caller == "revoked" else caller
        )
        headers = {"Authorization": f"Bearer {plaintext}"}
        if caller == "revoked":
            revoke_token("matrix-revoked")
    if caller == "clerk session":
        sign_in(client, "clerk", "matrix.clerk@comune.example.org")
    refused: dict[str, list[int]] = {}
    for rule in _api_rules(app):
        kind = API_EXPECTED.get(rule.rule)
        statuses = _api_call(client, app, rule, headers)
        if kind == "public":
            ok = all(s not in (401, 403) for s in statuses)  # 503 here: no keys, so no lists yet
        elif kind == "token":
            ok = all((s == 401) == (caller not in TOKEN_ROLES) and s != 403 for s in statuses)
        elif kind == "gate token":  # gates only: a police device is refused
            wanted = {"gate": None, "police": 403}.get(caller, 401)
            ok = all(s == wanted if wanted else s not in (401, 403) for s in statuses)
        elif kind == "signed":  # no token or session opens it
            ok = all(s in (401, 404) for s in statuses)
        else:  # session
            ok = all((s == 401) == (caller != "clerk session") for s in statuses)
        if not ok:
            refused[rule.rule] = statuses
    assert refused == {}, (caller, refused)


def test_signed_in_rules_send_anonymous_visitors_to_sign_in(
    app: Flask, client: FlaskClient
) -> None:
    for rule in app.url_map.iter_rules():
        if rule.rule not in SIGNED_IN:
            continue
        path = _example_url(app, rule)
        for method in sorted((rule.methods or set()) - IGNORED_METHODS):
            response = client.open(path, method=method, data={"csrf_token": "x"})
            if method == "POST":  # a visitor has no valid CSRF token: refused before anything
                assert response.status_code == 400, (method, path)
            else:
                assert response.status_code == 302 and "/accedi" in response.headers["Location"]
