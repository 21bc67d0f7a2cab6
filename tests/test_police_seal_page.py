"""The police seal verifier page without a browser: who may open it, what it carries, its worker.

The verification itself runs in JavaScript and is tested in a real browser (tests/browser); here,
what the server must get right: the role guard, the pinned root key, a clear page when keys are
missing, the service worker's headers, the words for every step in both languages, and nothing
inline that the Content-Security-Policy would block.
"""

from __future__ import annotations

import base64
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives import serialization
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import audit, csrf_token, problems_of, sign_in
from tests.factories import CF_MARIO
from ztl import PROJECT_ROOT
from ztl.signing.keys import KeyStore
from ztl.signing.seal import Step

PAGE = "/polizia/sigillo/"
WORKER = "/polizia/sigillo/sw.js"


class Scripts(HTMLParser):
    """Every <script> and every attribute the CSP cares about (style=, on*=), plus the app's data."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[dict[str, str]] = []
        self.inline: list[str] = []
        self.styles = 0
        self.app: dict[str, str] | None = None
        self._in_script = False

    def handle_starttag(self, tag: str, attr_list: list[tuple[str, str | None]]) -> None:
        attrs = {k: v or "" for k, v in attr_list}
        if tag == "script":
            self.scripts.append(attrs)
            self._in_script = True
        if tag == "style":
            self.styles += 1
        self.inline += [
            f"{name} on <{tag}>" for name in attrs if name == "style" or name[:2] == "on"
        ]
        if attrs.get("id") == "seal-app":
            self.app = attrs

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append(f"script text {data.strip()[:40]!r}")


def _parse(html: str) -> Scripts:
    parser = Scripts()
    parser.feed(html)
    parser.close()
    return parser


@pytest.mark.parametrize("path", [PAGE, WORKER])
def test_anonymous_visitors_are_sent_to_sign_in(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert target.path == "/accedi" and parse_qs(target.query)["next"] == [path]


@pytest.mark.parametrize("path", [PAGE, WORKER])
def test_residents_are_refused(client: FlaskClient, path: str) -> None:
    sign_in(client, "resident", codice_fiscale=CF_MARIO)
    assert client.get(path).status_code == 403


def test_the_page_pins_the_root_key_and_passes_the_audit(
    client: FlaskClient, keys: KeyStore
) -> None:
    sign_in(client, "police")
    response = client.get(PAGE)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert problems_of(audit(html), "it") == []
    page = _parse(html)
    assert page.app is not None
    spki = (
        keys.root()
        .certificate.public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    assert base64.b64decode(page.app["data-root-spki"]) == spki
    assert page.app["data-sw-url"] == WORKER and page.app["data-sw-scope"] == PAGE
    assert page.app["data-trust-url"] == "/.well-known/ztl/trust-list"
    assert page.app["data-revocations-url"] == "/.well-known/ztl/revocations"
    assert page.app["data-timezone"] == "Europe/Rome"
    # No inline script or style anywhere: every script is a file, the verifier an ES module.
    assert page.inline == [] and page.styles == 0
    assert all(script.get("src", "").startswith("/static/") for script in page.scripts)
    assert {"src": "/static/js/seal/page.js", "type": "module"} in page.scripts
    # The words for every step of seal.py are there, for the script to show.
    messages = json.loads(page.app["data-messages"])
    assert {f"step_{step.value}" for step in Step} <= messages.keys()
    assert messages["step_revoked"] == "Il permesso è stato revocato."
    # No control has a name: the seal cannot be submitted to the server by accident.
    assert 'name="' not in html.split('id="seal-form"')[1].split("</form>")[0]


def test_the_page_in_english(client: FlaskClient, keys: KeyStore) -> None:
    sign_in(client, "police")
    token = csrf_token(client, PAGE)
    client.post("/lingua", data={"lang": "en", "next": PAGE, "csrf_token": token})
    html = client.get(PAGE).get_data(as_text=True)
    assert problems_of(audit(html), "en") == []
    page = _parse(html)
    assert page.app is not None
    messages = json.loads(page.app["data-messages"])
    assert messages["step_revoked"] == "The permit has been revoked."
    assert "{zone}" in messages["step_zone"]


def test_without_keys_the_page_says_what_to_run(
    app: Flask, client: FlaskClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "ZTL_KEYS_DIR", str(tmp_path / "no-keys-here"))
    sign_in(client, "police")
    response = client.get(PAGE)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "ztl keys init" in html and 'id="seal-app"' not in html
    assert problems_of(audit(html), "it") == []


def test_the_service_worker_is_javascript_that_browsers_revalidate(client: FlaskClient) -> None:
    sign_in(client, "police")
    response = client.get(WORKER)
    assert response.status_code == 200
    assert response.mimetype == "application/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.data == (PROJECT_ROOT / "static" / "js" / "seal" / "sw.js").read_bytes()
    assert b'addEventListener("fetch"' in response.data


def test_the_police_home_page_links_to_the_verifier(client: FlaskClient) -> None:
    sign_in(client, "police")
    html = client.get("/polizia/").get_data(as_text=True)
    link = re.search(r'<a class="([^"]+)" id="qr-reader" href="([^"]+)">(.*?)</a>', html, re.S)
    assert link is not None
    assert link.group(1) == "btn btn-outline-primary btn-lg w-100 ztl-tap" and link.group(2) == PAGE
    words = re.sub(r"<[^>]+>", "", link.group(3)).strip()
    assert words == "Leggere il codice QR di un permesso"
