"""An officer reviews violations in a real browser: from the police home to the queue, confirms one,
dismisses another with a reason, and downloads the day's export, which holds the confirmed one.

What a page test cannot see: that the links, forms and redirects work as a browser follows them
under the Content-Security-Policy, and that the export arrives as a download.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import POLICE_EMAIL, LiveServer
from tests.browser.journeys import browsing, in_app, sign_in
from ztl.demo.generator import car_plate
from ztl.transits.ledger import record_readings
from ztl.transits.readings import Reading
from ztl.transits.settlement import settle

CONFIRMED, DISMISSED = car_plate(5_000_301), car_plate(5_000_302)

pytestmark = pytest.mark.browser


def _violations() -> None:
    """Two readings at gate A1 of plates with no permit, four and three days ago, settled."""
    now = dt.datetime.now(dt.UTC)
    for days, plate in ((4, CONFIRMED), (3, DISMISSED)):
        at = now - dt.timedelta(days=days)
        reading = Reading("A1", f"browser-{plate}", plate, at, "in", 88, "cam://A1/1.jpg")
        record_readings([reading], "http", now=at)
    settle(now)


def test_an_officer_confirms_dismisses_and_exports(
    browser: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    in_app(live_server, _violations)
    with browsing(browser) as page:
        refused: list[str] = []
        page.on(
            "console",
            lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
        )
        sign_in(page, live_server, POLICE_EMAIL)
        page.get_by_role("link", name="Violazioni da esaminare").click()
        page.wait_for_load_state()
        assert page.url == f"{live_server.base_url}/polizia/violazioni/"
        rows = page.locator("#violations-queue tbody tr")
        assert rows.evaluate_all("rows => rows.map(r => r.dataset.plate)") == [
            CONFIRMED,
            DISMISSED,
        ]  # the older reading's deadline comes first

        page.locator(f'tr[data-plate="{CONFIRMED}"]').get_by_role("link").click()
        page.wait_for_load_state()
        assert CONFIRMED not in page.url  # never the plate in the address
        page.get_by_role("button", name="Conferma la violazione").click()
        page.wait_for_load_state()
        assert page.get_by_role("alert").filter(has_text="Violazione confermata").is_visible()
        assert page.locator("#decision").inner_text().count(POLICE_EMAIL) == 1

        page.get_by_role("link", name="Torna alle violazioni da esaminare").click()
        page.wait_for_load_state()
        page.locator(f'tr[data-plate="{DISMISSED}"]').get_by_role("link").click()
        page.wait_for_load_state()
        page.get_by_label("Motivo dell'archiviazione").select_option(
            label="Targa letta male dalla telecamera"
        )
        page.get_by_role("button", name="Archivia la violazione").click()
        page.wait_for_load_state()
        assert page.get_by_role("alert").filter(has_text="Violazione archiviata").is_visible()
        assert "Targa letta male dalla telecamera" in page.locator("#decision").inner_text()

        page.get_by_role("link", name="Torna alle violazioni da esaminare").click()
        page.wait_for_load_state()
        assert page.get_by_text("Nessuna violazione da esaminare.").is_visible()
        assert page.locator('[data-count="confirmed_today"]').inner_text() == "1"
        page.get_by_label("Formato").select_option("csv")
        with page.expect_download() as download_info:
            page.get_by_role("button", name="Scarica").click()
        saved = tmp_path / "export.csv"
        download_info.value.save_as(saved)
        assert download_info.value.suggested_filename.startswith("violazioni-confermate-")
        rows_csv = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
        assert [r["plate"] for r in rows_csv] == [CONFIRMED]
        assert rows_csv[0]["reference"] == f"A1/browser-{CONFIRMED}"
        assert refused == []
