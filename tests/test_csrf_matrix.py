"""CSRF on every form: every POST route outside the token API refuses a request without the token.

Built from app.url_map, so a new form route is covered the day it is added. The forged request
comes from a signed-in user of each role (the victim of a cross-site request is signed in), and
must be refused with 400 before anything is done; the API, which authenticates with bearer tokens
and not cookies, is the only exemption. One request with a valid token shows the refusal is the
token's doing and not the route's.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.conftest import csrf_token, login, sign_in
from tests.factories import PASSWORD, make_user
from ztl.extensions import db
from ztl.models import Event

TOKEN_API = ("/api/",)  # bearer tokens, no cookies: CSRF cannot ride on them
ROLES = ("resident", "clerk", "supervisor", "police", "admin")


def _post_rules(app: Flask) -> list[str]:
    rules = []
    for rule in app.url_map.iter_rules():
        if "POST" in (rule.methods or ()) and not rule.rule.startswith(TOKEN_API):
            rules.append(re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", "1", rule.rule))
    return sorted(set(rules))


def test_there_are_forms_to_protect(app: Flask) -> None:
    rules = _post_rules(app)
    assert "/accedi" in rules and "/registrazione" in rules
    assert any(r.startswith("/area-personale/") for r in rules)
    assert any(r.startswith("/ufficio/") for r in rules)
    assert any(r.startswith("/supervisione/") for r in rules)


@pytest.mark.parametrize("role", [None, *ROLES])
def test_every_form_refuses_a_post_without_its_token(
    app: Flask, client: FlaskClient, role: str | None
) -> None:
    if role is not None:
        sign_in(client, role)
    before = db.session.scalar(select(func.count()).select_from(Event))
    for path in _post_rules(app):
        response = client.post(path, data={"q": "x", "reason": "forged"})
        assert response.status_code == 400, f"{role}: POST {path} -> {response.status_code}"
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Event)) == before


def test_the_same_form_with_its_token_goes_through(client: FlaskClient) -> None:
    make_user("resident", "mario@example.org")
    login(client, "mario@example.org", PASSWORD)
    token = csrf_token(client, "/area-personale/")
    response = client.post("/esci", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    # Signed out (a refused token redirects too, but leaves the session open).
    assert client.get("/area-personale/").status_code == 302
