"""A resident signs in with "Entra con SPID" in a real Chromium, through the real provider's pages.

The provider is panva/oidc-provider on loopback (tests/identity_provider_harness.py); the app is
served over HTTP on a port chosen beforehand, so that its callback can be registered with the
provider as a SPID/CIE client registration would be.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask_migrate import upgrade
from werkzeug.serving import make_server

from tests.conftest import make_app
from tests.identity_provider_harness import (
    Client,
    IdentityProvider,
    citizen,
    free_port,
    new_rsa_key,
)
from ztl.extensions import db

pytestmark = pytest.mark.browser

CF = "BNCMRA80A41G999P"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, IdentityProvider]]:
    folder = tmp_path_factory.mktemp("identity-browser")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    rp = Client("ztl-browser-test", new_rsa_key("rp-b"), [f"{base}/accedi/con/spid/ritorno"])
    provider = IdentityProvider(
        folder, [rp], [citizen("maria", CF, email="maria.bianchi@esempio.it")]
    ).start()
    app = make_app(
        f"sqlite:///{folder / 'ztl.sqlite3'}",
        folder / "instance",
        ZTL_IDENTITY_PROVIDERS=[provider.settings("spid", "spid", rp, folder / "rp.pem")],
    )
    with app.app_context():
        upgrade()
        db.session.remove()
    server = make_server("127.0.0.1", port, app.wsgi_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base, provider
    finally:
        server.shutdown()
        thread.join(timeout=10)
        provider.stop()
        with app.app_context():
            db.engine.dispose()


def test_a_resident_signs_in_with_spid_through_the_providers_login_page(
    browser: Any, site: tuple[str, IdentityProvider], tmp_path: Path
) -> None:
    base, provider = site
    context = browser.new_context(locale="it-IT")
    page = context.new_page()
    try:
        page.goto(f"{base}/accedi")
        button = page.get_by_role("link", name="Entra con SPID")
        button.focus()
        page.keyboard.press("Enter")  # the button works from the keyboard
        page.wait_for_url(f"{provider.issuer}/interaction/**")
        page.fill("#username", "maria")
        page.fill("#password", "test-password")
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/area-personale/")
        text = page.inner_text("main")
        assert "Maria Bianchi" in text and CF in text
        assert "Account di prova" not in text  # a verified identity, not a self-declared one
        page.get_by_role("button", name="Esci").click()
        page.goto(f"{base}/area-personale/")
        assert page.url.startswith(f"{base}/accedi")
    finally:
        context.close()
