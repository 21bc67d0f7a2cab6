"""The pages every municipal service publishes, walked as a visitor does: home, a permit's page,
the privacy notice, the accessibility statement, at desktop and at phone width, each under
axe-core with no serious or critical violation (the audit of test_page_audit.py)."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.conftest import LiveServer
from tests.browser.journeys import blocking_violations, browsing

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_a_visitor_walks_from_home_to_a_permit_the_privacy_notice_and_accessibility(
    demo_server: LiveServer, browser: Any, phone: bool
) -> None:
    axe = Axe()
    problems: dict[str, list[str]] = {}
    # axe is injected by the test driver: the page's CSP (scripts from 'self' only) is bypassed.
    with browsing(browser, phone=phone, bypass_csp=True) as page:

        def audited(expected_path: str, heading: str) -> None:
            page.wait_for_load_state("networkidle")
            assert page.url == f"{demo_server.base_url}{expected_path}", page.url
            assert page.get_by_role("heading", level=1).inner_text() == heading
            found = blocking_violations(axe.run(page).response)
            if found:
                problems[expected_path] = found

        page.goto(f"{demo_server.base_url}/")
        audited("/", "Permessi per la zona a traffico limitato")

        page.get_by_role("link", name="Residenti", exact=True).click()
        audited("/permessi/1", "Permesso ZTL: Residenti")
        cost = page.get_by_role("table", name="Permesso di 1 anno: costo totale")
        assert cost.get_by_role("row", name="Totale da pagare").inner_text().split() == [
            "Totale",
            "da",
            "pagare",
            "€",
            "47,00",
        ]

        footer = page.get_by_role("contentinfo")
        footer.get_by_role("link", name="Informativa privacy").click()
        audited("/informativa-privacy", "Informativa sul trattamento dei dati personali")
        assert page.get_by_text("rpd@comune.prato.example").is_visible()

        page.get_by_role("contentinfo").get_by_role(
            "link", name="Dichiarazione di accessibilità"
        ).click()
        audited("/dichiarazione-accessibilita", "Dichiarazione di accessibilità")
        feedback = page.get_by_role("link", name="accessibilita@comune.prato.example")
        assert feedback.get_attribute("href") == "mailto:accessibilita@comune.prato.example"
    assert problems == {}, problems
