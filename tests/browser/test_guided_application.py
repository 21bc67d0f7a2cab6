"""The guided application in Chromium, at desktop and phone width: the confirmation dialog before
giving up a permit is a real modal (focus inside it, Escape closes it, the keyboard confirms), and
the multi-step application shows its step indicator.
"""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlalchemy import select

from tests.browser.conftest import LiveServer
from tests.browser.journeys import (
    account,
    blocking_violations,
    browsing,
    eligible_resident,
    focused_name,
    in_app,
    paid_application,
    sign_in,
)
from ztl.extensions import db
from ztl.models import Permit

pytestmark = pytest.mark.browser

INSIDE_DIALOG = (
    "() => document.getElementById('confirm-surrender').contains(document.activeElement)"
)


def _resident_with_permit(server: LiveServer, email: str) -> str:
    def make() -> str:
        cf, plate = eligible_resident("1")
        holder = account("resident", email, cf)
        app_id = paid_application(holder, "1", plate)
        return str(
            db.session.scalars(select(Permit.number).where(Permit.application_id == app_id)).one()
        )

    return in_app(server, make)


def _status(server: LiveServer, number: str) -> str:
    return in_app(
        server,
        lambda: str(db.session.scalars(select(Permit.status).where(Permit.number == number)).one()),
    )


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_giving_up_is_confirmed_in_a_modal_dialog_with_the_keyboard(
    browser: Any, demo_server: LiveServer, phone: bool
) -> None:
    email = f"rinuncia.{'telefono' if phone else 'scrivania'}@posta.example.org"
    number = _resident_with_permit(demo_server, email)
    # bypass_csp: axe is injected by the test driver; the page's own script still runs from a file.
    with browsing(browser, phone=phone, bypass_csp=True) as page:
        sign_in(page, demo_server, email)
        page.goto(f"{demo_server.base_url}/area-personale/permessi/{number}")
        trigger = page.get_by_role("button", name="Rinuncia al permesso")
        dialog = page.get_by_role("dialog", name=f"Rinunciare al permesso {number}?")
        assert trigger.get_attribute("aria-haspopup") == "dialog"

        trigger.click()
        dialog.wait_for(state="visible")
        assert "non viene restituita" in dialog.inner_text()
        assert focused_name(page) == "Annulla"  # the safe choice first
        assert blocking_violations(Axe().run(page).response) == []  # the open dialog too
        # Tab and Shift+Tab stay inside the dialog, whichever way and however often.
        for key in ("Tab", "Tab", "Tab", "Shift+Tab", "Shift+Tab", "Shift+Tab", "Shift+Tab"):
            page.keyboard.press(key)
            assert page.evaluate(INSIDE_DIALOG), f"focus left the dialog after {key}"

        page.keyboard.press("Escape")
        dialog.wait_for(state="hidden")
        assert focused_name(page) == "Rinuncia al permesso"  # back where it was opened
        assert _status(demo_server, number) == "active"

        page.keyboard.press("Enter")  # the keyboard opens it again
        dialog.wait_for(state="visible")
        page.keyboard.press("Shift+Tab")  # from "Annulla" back to the confirming button
        assert focused_name(page) == "Sì, rinuncio al permesso"
        page.keyboard.press("Enter")
        page.wait_for_url(f"{demo_server.base_url}/area-personale/permessi/{number}")
        page.get_by_text("Hai rinunciato al permesso: da ora non vale più.").wait_for()
        assert _status(demo_server, number) == "surrendered"
        assert page.get_by_role("link", name="Scarica il permesso firmato (PDF)").count() == 0


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_the_application_form_shows_its_steps(
    browser: Any, demo_server: LiveServer, phone: bool
) -> None:
    email = f"passi.{'telefono' if phone else 'scrivania'}@posta.example.org"

    def resident() -> str:
        cf, plate = eligible_resident("1")
        account("resident", email, cf)
        return plate

    plate = in_app(demo_server, resident)
    with browsing(browser, phone=phone) as page:
        sign_in(page, demo_server, email)
        page.goto(f"{demo_server.base_url}/area-personale/domande/nuova/1")
        steps = page.get_by_role("navigation", name="Passaggi della domanda")
        steps.wait_for(state="visible")
        current = steps.locator('[aria-current="step"]')
        current.wait_for(state="visible")  # on a phone only the current step is shown
        # What a screen reader reads: the position, the name, that it is the current one.
        words = " ".join(current.inner_text().split())
        assert words == "Passaggio 2 di 5: Dati e targhe (passaggio attuale)"
        page.get_by_label("Targa").first.fill(plate)
        page.get_by_role("button", name="Salva la bozza").click()
        page.wait_for_url("**/area-personale/domande/*")
        current = page.get_by_role("navigation", name="Passaggi della domanda").locator(
            '[aria-current="step"]'
        )
        current.wait_for(state="visible")
        words = " ".join(current.inner_text().split())
        assert words == "Passaggio 5 di 5: Invio e pagamento (passaggio attuale)"
