"""What the journey and audit tests share: signing in, keyboard moves, demo data made as users would.

Data a journey does not walk itself is made through the same services the pages call (a draft,
submitted and paid), so the browser only does the part of the journey under test.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select

from tests.browser.conftest import LiveServer
from tests.factories import PASSWORD, make_user
from ztl.applications import applicant as applications
from ztl.eligibility.service import EligibilityRequest, PlateInput, check_eligibility
from ztl.extensions import db
from ztl.models import Resident, User, Vehicle
from ztl.rules.results import Outcome

T = TypeVar("T")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS_ENV = "ZTL_SCREENSHOT_DIR"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@contextmanager
def browsing(browser: Any, phone: bool = False, **options: Any) -> Iterator[Any]:
    """A page in a fresh Italian browser context (a phone's, touch included, or a desktop's),
    waiting at most 10 s for anything; the context is closed however the test ends."""
    screen = {"viewport": PHONE, "is_mobile": True, "has_touch": True} if phone else {}
    context = browser.new_context(locale="it-IT", **screen, **options)
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


BLOCKING = {"serious", "critical"}


def blocking_violations(results: dict[str, Any]) -> list[str]:
    """axe-core's serious and critical violations in words: the rule, its help, the elements."""
    return [
        f"{v['id']} ({v['impact']}): {v['help']} -> "
        + "; ".join(" ".join(n["target"]) for n in v["nodes"][:5])
        for v in results["violations"]
        if v.get("impact") in BLOCKING
    ]


def in_app(server: LiveServer, work: Callable[[], T]) -> T:
    """Run `work` in the server's app context on a worker thread.

    Why a thread: Playwright's sync API keeps an event loop running on the test's thread, and
    pyHanko (signing at issuance, validating a PDF) starts its own with asyncio.run().
    """

    def in_context() -> T:
        with server.app.app_context():
            try:
                return work()
            finally:
                db.session.remove()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(in_context).result()


def screenshot_dir() -> Path:
    """artifacts/screenshots (CI keeps it), or docs/screenshots when `make screenshots` asks."""
    folder = Path(os.environ.get(SCREENSHOTS_ENV) or ROOT / "artifacts" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sign_in(page: Any, server: LiveServer, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{server.base_url}/accedi")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Accedi").click()
    page.wait_for_load_state()
    assert "/accedi" not in page.url, page.content()


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Esci").first.click()
    page.wait_for_load_state()


def focused_name(page: Any) -> str:
    """What a screen reader would announce for the focused element: its label or its text."""
    return str(
        page.evaluate(
            """() => {
                const e = document.activeElement;
                if (!e || e === document.body) return "";
                const label = e.labels && e.labels.length ? e.labels[0].innerText : "";
                return (label || e.getAttribute("aria-label") || e.innerText || e.value || "").trim();
            }"""
        )
    )


def tab_to(page: Any, name: str, limit: int = 150) -> None:
    """Press Tab until the focused element is called `name`; fail if the keyboard cannot reach it."""
    seen: list[str] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        current = focused_name(page)
        if name.casefold() in current.casefold():
            return
        seen.append(current)
    raise AssertionError(f"{name!r} not reachable with Tab; focus went through {seen[-20:]}")


def eligible_resident(category: str = "1", excluding: set[str] | None = None) -> tuple[str, str]:
    """A resident with no account yet and a car of their own that passes the category's checks."""
    taken = set(
        db.session.scalars(select(User.codice_fiscale).where(User.codice_fiscale.is_not(None)))
    )
    taken |= excluding or set()
    now = dt.datetime.now(dt.UTC)
    rows = db.session.execute(
        select(Resident.codice_fiscale, Vehicle.plate)
        .join(Vehicle, Vehicle.owner_id == Resident.person_key)
        .where(Resident.status == "resident", Vehicle.status == "active")
        .order_by(Resident.codice_fiscale)
    )
    for cf, plate in rows:
        if cf in taken:
            continue
        request = EligibilityRequest(category, cf, (PlateInput(plate),), now)
        if check_eligibility(request).verdict.outcome is Outcome.ELIGIBLE:
            return cf, plate
    raise AssertionError(f"the demo city has no resident eligible for category {category}")


def account(role: str, email: str, codice_fiscale: str | None = None) -> User:
    """A user of `role` with the shared test password, made once per server."""
    found = db.session.scalar(select(User).where(User.email == email))
    return found or make_user(role, email, codice_fiscale=codice_fiscale)


def paid_application(user: User, category: str, plate: str, zones: tuple[str, ...] = ()) -> int:
    """An application drafted, submitted and paid by its applicant, as the portal does it."""
    data = applications.ApplicationInput(
        category=category, applicant_id="", plates=(plate,), zones=zones
    )
    application_id = applications.create_draft(user, data)
    applications.submit_application(
        application_id, user, review_reason="Il documento lo porto allo sportello."
    )
    applications.pay_own_application(application_id, user)
    return application_id
