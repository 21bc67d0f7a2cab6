"""A visitor buys a daily permit for a foreign plate on a phone, in a real Chromium.

The plate is in no register the city reads, so after the first save the form asks for the
vehicle's data (no script: the server answers with the fieldset); the permit is issued as soon as
the payment is confirmed, and the page never scrolls sideways at phone width.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests.browser.conftest import LiveServer
from tests.browser.journeys import PHONE, account, browsing, in_app, sign_in
from ztl.demo.generator import codice_fiscale
from ztl.extensions import db
from ztl.models import Application, Permit

pytestmark = pytest.mark.browser
EMAIL = "turista@posta.example.org"


def _fits(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_visitor_buys_a_daily_permit_for_a_foreign_plate_on_a_phone(
    browser: Any, demo_server: LiveServer
) -> None:
    in_app(demo_server, lambda: account("resident", EMAIL, codice_fiscale(1001)))
    with browsing(browser, phone=True) as page:
        sign_in(page, demo_server, EMAIL)
        page.goto(f"{demo_server.base_url}/area-personale/domande/nuova/G/A")
        assert page.get_by_text("Dati del veicolo (dichiarati)").count() == 0
        page.get_by_role("textbox", name="Targa").fill("DE:B MW 1234")
        page.get_by_role("button", name="Salva la bozza").click()

        page.get_by_role("group", name="Dati del veicolo (dichiarati)").wait_for()
        _fits(page)
        page.get_by_label("Tipo di veicolo").select_option(
            label="Autovettura (fino a 8 posti oltre al conducente)"
        )
        page.get_by_label("Alimentazione").select_option(label="benzina")
        page.get_by_label("Classe Euro").select_option(label="Euro 6")
        page.get_by_role("button", name="Salva la bozza").click()
        page.wait_for_url("**/area-personale/domande/*")
        app_id = int(page.url.rsplit("/", 1)[-1])
        page.get_by_text(
            "Veicolo dichiarato dal richiedente: targa estera (DE) BMW1234; valgono i dati "
            "dichiarati, sotto la sua responsabilità."
        ).wait_for()
        _fits(page)

        page.get_by_role("button", name="Invia la domanda").click()
        page.get_by_text("Avviso di pagamento pagoPA").wait_for()
        page.get_by_role("button", name="Ho pagato: conferma il pagamento").click()
        page.get_by_role("link", name="Vai ai tuoi permessi").wait_for()
        _fits(page)

    def stored() -> tuple[str | None, list[tuple[str, str]]]:
        status = db.session.scalar(select(Application.status).where(Application.id == app_id))
        permit = db.session.scalars(select(Permit).where(Permit.application_id == app_id)).one()
        return status, [(p.plate, p.country) for p in permit.plates]

    assert in_app(demo_server, stored) == ("issued", [("BMW1234", "DE")])
