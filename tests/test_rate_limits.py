"""Per-address limits on sign-in and registration, and the sliding window behind every limit."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import FrozenWindow, csrf_token, make_app
from ztl.rate_limit import SlidingWindow


def test_the_window_counts_a_minute_per_key() -> None:
    window = SlidingWindow()
    assert window.allow("a", 2, now=0.0) is None
    assert window.allow("a", 2, now=1.0) is None
    assert window.allow("a", 2, now=2.0) == pytest.approx(58.0)
    assert window.allow("b", 2, now=2.0) is None  # another key has its own count
    assert window.allow("a", 2, now=60.5) is None  # the first hit has left the window


@pytest.mark.parametrize(
    ("path", "setting"),
    [
        ("/accedi", "ZTL_LOGIN_RATE_PER_MINUTE"),
        ("/registrazione", "ZTL_REGISTRATION_RATE_PER_MINUTE"),
    ],
)
def test_too_many_attempts_from_one_address_get_a_429(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch, path: str, setting: str
) -> None:
    from ztl.web.auth import throttle

    monkeypatch.setitem(app.config, setting, 3)
    monkeypatch.setattr(throttle, "_WINDOW", FrozenWindow())
    token = csrf_token(client, path)
    here = {"REMOTE_ADDR": "203.0.113.7"}
    data = {"csrf_token": token, "email": "nobody@example.org", "password": "wrong-password-1"}
    statuses = [client.post(path, data=data, environ_base=here).status_code for _ in range(3)]
    assert 429 not in statuses
    limited = client.post(path, data=data, environ_base=here)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "60"
    assert "Troppe richieste" in limited.get_data(as_text=True)
    elsewhere = client.post(path, data=data, environ_base={"REMOTE_ADDR": "198.51.100.9"})
    assert elsewhere.status_code != 429
    assert client.get(path, environ_base=here).status_code == 200  # reading the page is not limited


def test_behind_a_trusted_proxy_each_client_has_its_own_limit(app: Flask, tmp_path: Path) -> None:
    """With ZTL_TRUSTED_PROXIES=1 the limit follows X-Forwarded-For, not the proxy's address."""
    proxied = make_app(
        str(app.config["SQLALCHEMY_DATABASE_URI"]),
        tmp_path / "instance",
        ZTL_TRUSTED_PROXIES=1,
        ZTL_LOGIN_RATE_PER_MINUTE=2,
        WTF_CSRF_ENABLED=False,
    )
    visitor = proxied.test_client()
    proxy = {"REMOTE_ADDR": "10.0.0.2"}  # the reverse proxy, the same for every client
    data = {"email": "nobody@example.org", "password": "wrong-password-1"}

    def attempt(client_address: str) -> int:
        headers = {"X-Forwarded-For": client_address}
        return visitor.post("/accedi", data=data, environ_base=proxy, headers=headers).status_code

    assert [attempt("192.0.2.44") for _ in range(2)] == [401, 401]
    assert attempt("192.0.2.44") == 429
    assert attempt("192.0.2.45") == 401  # another client behind the same proxy is not blocked
