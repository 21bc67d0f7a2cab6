"""The main pages of every role under axe-core in Chromium, and their screenshots at two widths.

axe-core (Deque's engine, the one the Italian guidelines' checkers build on) runs in the page as
the browser rendered it: contrast, names, landmarks, ARIA. A serious or critical violation fails
the test with the rule, the help text and the elements. Screenshots at desktop and phone width are
written as artifacts (artifacts/screenshots, or ZTL_SCREENSHOT_DIR: `make screenshots` points it
at docs/screenshots).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlalchemy import select

from tests.browser.conftest import POLICE_EMAIL, LiveServer
from tests.browser.journeys import (
    DESKTOP,
    PHONE,
    account,
    blocking_violations,
    eligible_resident,
    in_app,
    paid_application,
    screenshot_dir,
    sign_in,
)
from ztl.extensions import db
from ztl.models import Permit

pytestmark = pytest.mark.browser
RESIDENT_EMAIL = "audit.residente@posta.example.org"


@dataclass(frozen=True)
class Pages:
    """Who signs in, and the pages they see (screenshot name -> path)."""

    email: str | None
    paths: dict[str, str]


@pytest.fixture(scope="module")
def pages(demo_server: LiveServer) -> dict[str, Pages]:
    def city_in_use() -> dict[str, Pages]:
        cf, plate = eligible_resident("1")
        resident = account("resident", RESIDENT_EMAIL, cf)
        issued_id = paid_application(resident, "1", plate)
        permit = db.session.scalars(select(Permit).where(Permit.application_id == issued_id)).one()
        other_cf, other_plate = eligible_resident("1")
        waiting_id = paid_application(
            account("resident", "audit.attesa@posta.example.org", other_cf), "15", other_plate
        )
        for role in ("clerk", "supervisor"):
            account(role, f"audit.{role}@comune.example.org")
        return {
            "anonymous": Pages(
                None,
                {
                    "home": "/",
                    "login": "/accedi",
                    "register": "/registrazione",
                    "permit-type": "/permessi/1",
                    "contacts": "/contatti",
                    "help": "/aiuto",
                    "privacy": "/informativa-privacy",
                    "accessibility": "/dichiarazione-accessibilita",
                },
            ),
            "resident": Pages(
                RESIDENT_EMAIL,
                {
                    "resident-dashboard": "/area-personale/",
                    "resident-categories": "/area-personale/domande/nuova",
                    "resident-application-form": "/area-personale/domande/nuova/1",
                    "resident-application": f"/area-personale/domande/{issued_id}",
                    "resident-permit": f"/area-personale/permessi/{permit.number}",
                    "resident-hotel": "/area-personale/albergo",
                },
            ),
            "clerk": Pages(
                "audit.clerk@comune.example.org",
                {
                    "clerk-queue": "/ufficio/",
                    "clerk-application": f"/ufficio/domande/{waiting_id}",
                    "clerk-permit": f"/ufficio/permessi/{permit.number}",
                },
            ),
            "supervisor": Pages(
                "audit.supervisor@comune.example.org",
                {
                    "supervisor-dashboard": "/supervisione/",
                    "supervisor-users": "/supervisione/utenti",
                    "supervisor-tokens": "/supervisione/token",
                    "supervisor-imports": "/supervisione/importazioni",
                    "supervisor-categories": "/supervisione/categorie",
                    "supervisor-lookups": "/supervisione/consultazioni",
                },
            ),
            "police": Pages(
                POLICE_EMAIL,
                {
                    "police-home": "/polizia/",
                    "police-seal": "/polizia/sigillo/",
                    "police-plate": "/polizia/targa",
                },
            ),
        }

    return in_app(demo_server, city_in_use)


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """Italian, desktop width; axe is injected by the test driver, so the page's CSP is bypassed."""
    context = browser.new_context(locale="it-IT", viewport=DESKTOP, bypass_csp=True)
    context.set_default_timeout(10_000)
    try:
        yield context
    finally:
        context.close()


@pytest.mark.parametrize("role", ["anonymous", "resident", "clerk", "supervisor", "police"])
def test_main_pages_have_no_serious_accessibility_violation(
    role: str, pages: dict[str, Pages], demo_server: LiveServer, context: Any
) -> None:
    page = context.new_page()
    who = pages[role]
    if who.email:
        sign_in(page, demo_server, who.email)
    folder = screenshot_dir()
    axe = Axe()
    problems: dict[str, list[str]] = {}
    for name, path in who.paths.items():
        response = page.goto(f"{demo_server.base_url}{path}")
        assert response is not None and response.status == 200, (path, response)
        page.wait_for_load_state("networkidle")
        found = blocking_violations(axe.run(page).response)
        if found:
            problems[path] = found
        page.screenshot(path=folder / f"{name}-desktop.png", full_page=True)
        page.set_viewport_size(PHONE)
        page.screenshot(path=folder / f"{name}-phone.png", full_page=True)
        page.set_viewport_size(DESKTOP)
        assert (folder / f"{name}-phone.png").stat().st_size > 10_000
    assert problems == {}, problems


def test_the_audit_catches_a_violation(context: Any) -> None:
    """A control without a name and an image without alt text: axe must report them, or the
    passing audit above proves nothing."""
    page = context.new_page()
    page.set_content(
        '<html lang="it"><body><main><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
        "<button></button></main></body></html>"
    )
    found = blocking_violations(Axe().run(page).response)
    assert any(line.startswith("image-alt") for line in found), found
    assert any(line.startswith("button-name") for line in found), found
