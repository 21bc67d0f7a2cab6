"""Pages as a browser gets them: headers, error pages in both languages, local assets, labels."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import csrf_token, login, make_app
from tests.factories import PASSWORD, make_user
from ztl.demo.loader import load_city_configuration

PAGES = ["/", "/accedi", "/registrazione"]


@pytest.mark.parametrize("path", PAGES)
def test_security_headers(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP here


def test_hsts_over_https(client: FlaskClient) -> None:
    response = client.get("/", base_url="https://ztl.example.org")
    assert "max-age=" in response.headers["Strict-Transport-Security"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_use_only_local_assets_and_no_inline_code(client: FlaskClient, path: str) -> None:
    html = client.get(path).get_data(as_text=True)
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert not url.startswith(("http:", "https:", "//")), url
    assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", html), "inline script"
    assert " style=" not in html and "<style" not in html
    assert re.search(r" on[a-z]+=", html) is None, "inline event handler"


def test_bootstrap_italia_assets_are_served(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert any("bootstrap-italia.min.css" in a for a in assets)
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        response.close()
    css = client.get("/static/css/fonts.css").get_data(as_text=True)
    for font in re.findall(r'url\("\.\./([^"]+)"\)', css):
        response = client.get(f"/static/{font}")
        assert response.status_code == 200, font
        response.close()


@pytest.mark.parametrize("path", PAGES)
def test_every_form_control_has_a_label(client: FlaskClient, path: str) -> None:
    html = client.get(path).get_data(as_text=True)
    ids = re.findall(r'<(?:input|select|textarea)(?![^>]*type="hidden")[^>]*\sid="([^"]+)"', html)
    controls = re.findall(r"<(?:input|select|textarea)(?![^>]*type=\"hidden\")[^>]*>", html)
    assert len(ids) == len(controls), "a visible form control without id"
    for control_id in ids:
        assert f'for="{control_id}"' in html, control_id


def test_decorative_icons_are_hidden_from_screen_readers(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    for svg in re.findall(r"<svg[^>]*>", html):
        assert 'aria-hidden="true"' in svg or "aria-label" in svg or "icon-primary" in svg


def test_italian_by_default_english_on_request(client: FlaskClient) -> None:
    page = client.get("/pagina-che-non-esiste")
    assert page.status_code == 404
    text = page.get_data(as_text=True)
    assert '<html lang="it">' in text and "Pagina non trovata" in text
    english = client.get("/pagina-che-non-esiste", headers={"Accept-Language": "en"})
    assert '<html lang="en">' in english.get_data(as_text=True)
    assert "Page not found" in english.get_data(as_text=True)


def test_language_switch_sticks_for_the_session(client: FlaskClient) -> None:
    token = csrf_token(client, "/")
    response = client.post("/lingua", data={"lang": "en", "next": "/accedi", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/accedi"
    page = client.get("/accedi").get_data(as_text=True)
    assert '<html lang="en">' in page and "Sign in" in page
    make_user("resident", "r@comune.example.org", codice_fiscale="RSSMRA85T10A562S")
    login(client, "r@comune.example.org", PASSWORD)
    forbidden = client.get("/ufficio/")
    assert forbidden.status_code == 403
    assert "Access not allowed" in forbidden.get_data(as_text=True)
    # An unknown language is ignored, and an external next is not followed.
    token = csrf_token(client, "/area-personale/")
    again = client.post(
        "/lingua", data={"lang": "xx", "next": "https://evil.example", "csrf_token": token}
    )
    assert again.headers["Location"] == "/"


def test_403_in_italian(client: FlaskClient) -> None:
    make_user("police", "p@comune.example.org")
    login(client, "p@comune.example.org", PASSWORD)
    response = client.get("/amministrazione/")
    assert response.status_code == 403
    assert "Accesso non consentito" in response.get_data(as_text=True)


def test_home_pages_show_real_data(app: Flask, client: FlaskClient) -> None:
    load_city_configuration()
    public = client.get("/").get_data(as_text=True)
    assert "ZTL A, centro storico" in public and "07:30–18:30" in public
    assert "Giornaliero ZTL A" in public and "10,00" in public
    make_user("police", "p@comune.example.org")
    login(client, "p@comune.example.org", PASSWORD)
    police = client.get("/polizia/").get_data(as_text=True)
    assert "Via Ricasoli" in police and "A6" in police


def test_unexpected_error_is_a_friendly_500(database_url: str, tmp_path: Path) -> None:
    fresh = make_app(database_url, tmp_path)

    @fresh.get("/__fail")
    def boom() -> str:
        raise RuntimeError("internal detail 4711")

    response = fresh.test_client().get("/__fail")
    assert response.status_code == 500
    text = response.get_data(as_text=True)
    assert "Errore del servizio" in text and "Traceback" not in text and "4711" not in text
