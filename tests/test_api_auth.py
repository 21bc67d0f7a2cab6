"""The API accepts only valid, unrevoked bearer tokens, and answers errors as JSON."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from ztl.accounts.api_tokens import create_token, revoke_token


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_valid_token_identifies_itself(client: FlaskClient) -> None:
    _, plaintext = create_token("police-tablet-7", "police")
    response = client.get("/api/v1/whoami", headers=_auth(plaintext))
    assert response.status_code == 200
    assert response.json == {"name": "police-tablet-7", "role": "police"}
    assert response.headers["Cache-Control"] == "no-store"


def test_missing_malformed_unknown_and_revoked_tokens_get_401(client: FlaskClient) -> None:
    _, plaintext = create_token("gate-a2", "gate")
    cases = [
        {},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer "},
        _auth("ztl_not-a-real-token"),
        _auth(plaintext + "x"),
    ]
    for headers in cases:
        response = client.get("/api/v1/whoami", headers=headers)
        assert response.status_code == 401, headers
        assert response.json is not None and response.json["error"] == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    revoke_token("gate-a2")
    assert client.get("/api/v1/whoami", headers=_auth(plaintext)).status_code == 401


def test_session_login_does_not_open_the_api(app: Flask, client: FlaskClient) -> None:
    from tests.conftest import login
    from tests.factories import PASSWORD, make_user

    make_user("police", "p@example.test")
    login(client, "p@example.test", PASSWORD)
    assert client.get("/api/v1/whoami").status_code == 401


def test_unknown_api_route_is_json_404(client: FlaskClient) -> None:
    _, plaintext = create_token("gate-a3", "gate")
    response = client.get("/api/v1/nothing-here", headers=_auth(plaintext))
    assert response.status_code == 404
    assert response.is_json and response.json is not None and "error" in response.json


def test_a_token_revoked_by_another_process_stops_working_within_the_cache_time(
    app: Flask, client: FlaskClient, database_url: str, tmp_path: Path
) -> None:
    """`ztl tokens revoke` in its own process; this one trusts its cache only so long."""
    import os
    import subprocess
    import sys
    import time

    app.config["ZTL_TOKEN_CACHE_SECONDS"] = 1.0
    try:
        _, plaintext = create_token("gate-revoked-elsewhere", "gate")
        assert client.get("/api/v1/whoami", headers=_auth(plaintext)).status_code == 200  # cached
        env = {**os.environ, "DATABASE_URL": database_url, "ZTL_INSTANCE_PATH": str(tmp_path)}
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "ztl:create_app()", "tokens", "revoke",
             "gate-revoked-elsewhere"],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        time.sleep(1.1)  # this process's cache entry is older than the cache time now
        assert client.get("/api/v1/whoami", headers=_auth(plaintext)).status_code == 401
    finally:
        app.config["ZTL_TOKEN_CACHE_SECONDS"] = 10
