"""A file over the size limit is refused in the browser before it is sent, with the reason read
out to a screen reader, at desktop and phone width; nothing reaches the server."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import LiveServer
from tests.browser.journeys import account, browsing, eligible_resident, in_app, sign_in
from ztl.applications import applicant as applications
from ztl.infrastructure.uploads import max_document_bytes

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_a_document_over_the_limit_is_refused_before_it_is_sent(
    browser: Any, demo_server: LiveServer, phone: bool
) -> None:
    email = f"grande-{'phone' if phone else 'desktop'}@posta.example.org"

    def draft() -> tuple[int, int]:
        cf, plate = eligible_resident("1")
        user = account("resident", email, cf)
        data = applications.ApplicationInput(category="15", applicant_id="", plates=(plate,))
        return applications.create_draft(user, data), max_document_bytes()

    application_id, limit = in_app(demo_server, draft)
    with browsing(browser, phone=phone) as page:
        sign_in(page, demo_server, email)
        address = f"{demo_server.base_url}/area-personale/domande/{application_id}"
        page.goto(address)
        field = page.get_by_label("File (PDF, JPEG o PNG)")
        field.set_input_files(
            {"name": "scansione.pdf", "mimeType": "application/pdf", "buffer": b"0" * (limit + 1)}
        )
        alert = page.get_by_role("alert").filter(has_text="Il file è troppo grande")
        assert alert.inner_text() == "Il file è troppo grande: la dimensione massima è 5 MB."
        assert field.get_attribute("aria-invalid") == "true"
        demo_server.log.clear()
        page.get_by_role("button", name="Allega").click()
        page.wait_for_timeout(300)
        assert demo_server.log.snapshot() == []
        assert page.url == address
        assert page.evaluate("document.activeElement.type") == "file"

        field.set_input_files(
            {"name": "piccolo.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n"}
        )
        assert page.get_by_role("alert").filter(has_text="Il file è troppo grande").count() == 0
        assert field.get_attribute("aria-invalid") is None
