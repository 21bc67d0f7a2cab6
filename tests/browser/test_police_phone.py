"""The police home on a phone (390x844): the plate check within the first screen, large targets,
and the last answers kept on the page.

What a page test cannot see: where the browser lays the form out, and how tall the targets are once
Bootstrap Italia's styles and ours apply.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import POLICE_EMAIL, LiveServer
from tests.browser.journeys import PHONE, browsing, sign_in
from ztl.demo.generator import car_plate

FIRST, SECOND = car_plate(5_000_201), car_plate(5_000_202)
TARGET = 48  # CSS pixels, WCAG 2.5.5

pytestmark = pytest.mark.browser


def _box(page: Any, selector: str) -> dict[str, float]:
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    return dict(box)


def test_the_plate_check_fits_the_first_screen_and_keeps_the_answers(
    browser: Any, live_server: LiveServer
) -> None:
    with browsing(browser, phone=True) as page:
        sign_in(page, live_server, POLICE_EMAIL)
        assert page.url == f"{live_server.base_url}/polizia/"
        assert page.evaluate("() => document.activeElement === document.body")  # no autofocus
        for selector in ("#plate", "#plate-check-submit", "#qr-reader"):
            box = _box(page, selector)
            assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], selector
            assert box["height"] >= TARGET, (selector, box)
        assert _box(page, "#plate-check-submit")["width"] >= TARGET
        assert _box(page, "#qr-reader")["width"] >= TARGET
        for plate in (FIRST, SECOND):
            page.locator("#plate").fill(plate.lower())
            page.locator("#plate-check-submit").click()
            page.wait_for_load_state("load")
            assert page.url == f"{live_server.base_url}/polizia/"  # never the plate in the address
            assert page.locator("#answer p.font-monospace").inner_text() == plate
        kept = page.locator("#answers li")
        assert kept.evaluate_all("items => items.map(i => i.dataset.plate)") == [SECOND, FIRST]
        assert page.locator("#plate").input_value() == ""  # ready for the next plate
