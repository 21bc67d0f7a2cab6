"""The Bootstrap Italia bundle is fetched only when the menu is opened (issue 17).

On a phone the signed-in areas' menu sits behind the menu button; the bundle that opens it (about
250 KB compressed) is fetched when that button is first pressed, and the first press still opens
the menu. On a large screen the menu is shown by the stylesheet alone and the bundle never loads.
"""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import POLICE_EMAIL, LiveServer
from tests.browser.journeys import DESKTOP, browsing, sign_in

BUNDLE = "bootstrap-italia.bundle.min."


def _bundle_requests(page: Any) -> list[str]:
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url) if BUNDLE in request.url else None)
    return urls


def test_the_menu_opens_on_a_phone_and_fetches_the_bundle_then(
    browser: Any, demo_server: LiveServer
) -> None:
    with browsing(browser, phone=True) as page:
        bundle = _bundle_requests(page)
        sign_in(page, demo_server, POLICE_EMAIL)
        page.goto(f"{demo_server.base_url}/polizia/targa")
        page.wait_for_load_state("load")
        menu = page.locator("#main-menu")
        link = menu.get_by_role("link").first
        assert not link.is_visible()
        assert bundle == []
        # The bundle announces the end of the menu's opening (it ignores a close before that).
        page.evaluate(
            "document.getElementById('main-menu').addEventListener("
            "'shown.bs.navbarcollapsible', () => { window.menuShown = true; })"
        )
        toggle = page.get_by_role("button", name="Apri o chiudi il menu")
        toggle.click()
        link.wait_for(state="visible")
        assert len(bundle) == 1
        assert toggle.get_attribute("aria-expanded") == "true"
        page.wait_for_function("() => window.menuShown === true")
        page.get_by_role("button", name="Chiudi il menu", exact=True).click()
        page.locator('[aria-controls="main-menu"][aria-expanded="false"]').wait_for(
            state="attached"
        )
        assert len(bundle) == 1


def test_a_large_screen_shows_the_menu_without_the_bundle(
    browser: Any, demo_server: LiveServer
) -> None:
    with browsing(browser, viewport=DESKTOP) as page:
        bundle = _bundle_requests(page)
        sign_in(page, demo_server, POLICE_EMAIL)
        page.goto(f"{demo_server.base_url}/polizia/targa")
        page.wait_for_load_state("load")
        assert page.locator("#main-menu").get_by_role("link").first.is_visible()
        assert bundle == []
