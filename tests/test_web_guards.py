"""Role guards as a matrix: every role (anonymous included) against every page of every role.

The expectations are built from app.url_map, so a new page under a role's prefix without an
expectation here makes the test fail instead of going unguarded.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import login
from tests.factories import PASSWORD, make_user

ROLES = ("resident", "clerk", "supervisor", "police", "admin")
# Which roles may open each guarded area (ztl/permissions.py says the same in code).
AREAS = {
    "/area-personale/": {"resident"},
    "/ufficio/": {"clerk", "supervisor", "admin"},
    "/supervisione/": {"supervisor", "admin"},
    "/polizia/": {"police", "admin"},
    "/amministrazione/": {"admin"},
}
PUBLIC = {"/", "/accedi", "/registrazione", "/lingua", "/esci", "/static/<path:filename>"}
API_PREFIX = "/api/v1/"


def test_every_route_has_a_rule(app: Flask) -> None:
    unknown = []
    for rule in app.url_map.iter_rules():
        path = rule.rule
        if path in PUBLIC or path.startswith(API_PREFIX):
            continue
        if not any(path.startswith(prefix) for prefix in AREAS):
            unknown.append(path)
    assert unknown == [], f"routes without an access rule in this test: {unknown}"


def _area_pages(app: Flask) -> list[tuple[str, set[str]]]:
    pages = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()) or rule.arguments:
            continue
        for prefix, roles in AREAS.items():
            if rule.rule.startswith(prefix):
                pages.append((rule.rule, roles))
    assert pages, "no guarded pages found"
    return pages


def test_anonymous_users_are_sent_to_sign_in(app: Flask, client: FlaskClient) -> None:
    for path, _roles in _area_pages(app):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/accedi?next="), path


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_only_its_areas(app: Flask, client: FlaskClient, role: str) -> None:
    make_user(role, f"{role}@comune.example.org")
    assert login(client, f"{role}@comune.example.org", PASSWORD).status_code == 302
    for path, allowed in _area_pages(app):
        expected = 200 if role in allowed else 403
        assert client.get(path).status_code == expected, (role, path)


def test_deactivated_user_loses_access_at_once(app: Flask, client: FlaskClient) -> None:
    from ztl.extensions import db

    user = make_user("clerk", "clerk@comune.example.org")
    login(client, "clerk@comune.example.org", PASSWORD)
    assert client.get("/ufficio/").status_code == 200
    user.active = False
    db.session.commit()
    assert client.get("/ufficio/").status_code in {302, 403}
