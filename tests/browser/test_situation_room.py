"""The situation room in a real browser: a gate's reading posted through the API shows on the open
page within two seconds, and a gate the city does not know raises an alarm, announced politely.

What a page test cannot see: the EventSource, the script that writes each event into the page
under the Content-Security-Policy (no inline script, no style attribute), and the time it takes.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
import requests

from tests.browser.conftest import POLICE_EMAIL, LiveServer
from tests.browser.journeys import (
    DESKTOP,
    PHONE,
    blocking_violations,
    browsing,
    in_app,
    screenshot_dir,
    sign_in,
)
from ztl.accounts.api_tokens import create_token

pytestmark = pytest.mark.browser

BOUND = 2.0  # seconds from the gate's POST to the figure on the page
ROW = '#situation-gates tr[data-gate="{gate}"] [data-field="{field}"]'


def _token(server: LiveServer, name: str, gate: str | None = None) -> str:
    return in_app(server, lambda: create_token(name, "gate", gate=gate)[1])


def _post_transit(server: LiveServer, token: str, body: dict[str, Any]) -> int:
    """A gate's POST, as a gate makes it: over HTTP, with its bearer token."""
    response = requests.post(
        f"{server.base_url}/api/v1/transits",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    return response.status_code


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def _text(page: Any, gate: str, field: str) -> str:
    return str(page.locator(ROW.format(gate=gate, field=field)).inner_text()).strip()


def test_a_reading_shows_within_two_seconds_and_an_unknown_gate_raises_an_alarm(
    browser: Any, live_server: LiveServer
) -> None:
    bound_token = _token(live_server, "gate-a1", gate="A1")
    hub_token = _token(live_server, "gate-hub")
    problems: list[str] = []
    with browsing(browser) as page:
        page.on(
            "console",
            lambda message: problems.append(message.text) if message.type == "error" else None,
        )
        page.on("pageerror", lambda error: problems.append(str(error)))
        sign_in(page, live_server, POLICE_EMAIL)
        page.goto(f"{live_server.base_url}/sala-operativa/")
        page.wait_for_selector("#situation-room[data-updated]")  # the first event is in
        before = int(_text(page, "A1", "last_minute"))
        assert (
            page.locator("#situation-connection")
            .inner_text()
            .startswith("Aggiornamento automatico attivo")
        )

        started = time.monotonic()
        status = _post_transit(
            live_server, bound_token, {"id": "A1-room-1", "plate": "AB123CD", "at": _now()}
        )
        assert status == 201
        page.wait_for_function(
            "([selector, expected]) => {"
            "  const cell = document.querySelector(selector);"
            "  return cell !== null && cell.textContent.trim() === expected;"
            "}",
            arg=[ROW.format(gate="A1", field="last_minute"), str(before + 1)],
            timeout=BOUND * 1000,
            polling=20,
        )
        latency = time.monotonic() - started
        print(f"situation room: reading on the page {latency:.3f} s after the gate's POST")
        assert latency < BOUND
        bars = page.locator(
            '#situation-gates tr[data-gate="A1"] [data-field="spark"] rect.ztl-spark-bar'
        )
        assert bars.count() == 30
        assert float(bars.nth(29).get_attribute("height") or 0) > 0  # the last minute's bar

        assert page.locator('#situation-alarms li[data-key="unknown_gate:Z9"]').count() == 0
        started = time.monotonic()
        status = _post_transit(
            live_server,
            hub_token,
            {"id": "Z9-room-1", "gate": "Z9", "plate": "AB123CD", "at": _now()},
        )
        assert status == 201
        alarm = page.locator('#situation-alarms li[data-key="unknown_gate:Z9"]')
        alarm.wait_for(timeout=BOUND * 1000)
        alarm_latency = time.monotonic() - started
        print(f"situation room: unknown gate's alarm {alarm_latency:.3f} s after the POST")
        assert alarm_latency < BOUND
        assert "Z9" in alarm.inner_text()
        assert _text(page, "Z9", "held") == "1"  # a row of its own, added by the script
        announced = page.locator("#situation-announcer").inner_text()
        assert "Nuovo allarme" in announced and "Z9" in announced
        assert page.locator("#situation-announcer").get_attribute("aria-live") == "polite"
    assert problems == []  # nothing refused by the CSP, no script error


def test_without_script_the_page_shows_the_figures_of_its_loading(
    browser: Any, live_server: LiveServer
) -> None:
    with browsing(browser, java_script_enabled=False) as page:
        sign_in(page, live_server, POLICE_EMAIL)
        page.goto(f"{live_server.base_url}/sala-operativa/")
        assert page.locator('#situation-gates tr[data-gate="A1"]').count() == 1
        assert page.locator("#situation-alarms li").count() >= 1  # silent gates at least
        reload = page.get_by_role("link", name="Ricarica la pagina")
        reload.click()
        page.wait_for_load_state()
        assert page.url == f"{live_server.base_url}/sala-operativa/"


def test_the_room_has_no_serious_accessibility_violation(
    browser: Any, live_server: LiveServer
) -> None:
    """axe-core on the live page (its stream keeps the network busy: never wait for "networkidle"
    here, wait for the first event instead). axe is injected by the driver, hence bypass_csp."""
    from axe_playwright_python.sync_playwright import Axe

    with browsing(browser, viewport=DESKTOP, bypass_csp=True) as page:
        sign_in(page, live_server, POLICE_EMAIL)
        page.goto(f"{live_server.base_url}/sala-operativa/")
        page.wait_for_selector("#situation-room[data-updated]")
        assert blocking_violations(Axe().run(page).response) == []
        page.screenshot(path=screenshot_dir() / "situation-room-desktop.png", full_page=True)
        page.set_viewport_size(PHONE)
        page.screenshot(path=screenshot_dir() / "situation-room-phone.png", full_page=True)
