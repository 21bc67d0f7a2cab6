"""The police page that verifies a permit's QR seal in the browser, with no network.

Why in the browser and not on the server: an officer in a street with no signal must still tell a
genuine, current permit from a forged, expired or revoked one (seal-format.md). The page does the
whole verification in JavaScript (static/js/seal/) with the trust and revocation lists it cached,
and a service worker keeps the page itself available offline.

The only thing the page must get from the server it trusts is the municipality's root public key,
to which the trust list is pinned: the view puts it in the page. With it go the zones' calendars of
the rules in force, every date worked out from last year to five years ahead (browser_calendar), so
that the page knows when a zone is not restricted exactly as the server's verify_seal does; for a
date outside those years it says that it cannot tell, rather than guess.

The service worker script is served from under /polizia/sigillo/ (not /static/) because a worker
controls only the pages below the folder of its script; it is read from a static file so that it is
plain JavaScript under review like the rest, and sent with `Cache-Control: no-cache` so that
browsers pick up a new version.
"""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives import serialization
from flask import current_app, render_template, url_for
from werkzeug.wrappers import Response

from ztl.city.rules_config import current_rules
from ztl.i18n import current_language
from ztl.records.overview import zones_with_hours
from ztl.rules.calendar import browser_calendar
from ztl.seals.keys import key_store
from ztl.seals.verification import zone_calendars
from ztl.signing.keys import KeyStoreError
from ztl.values.display import validity_phrases
from ztl.web.police.views import bp

SERVICE_WORKER = Path("js") / "seal" / "sw.js"  # under the static folder
# The years of the calendars the page carries, around this year: a page kept offline for years
# still knows the calendar for a while, and then says that it does not.
CALENDAR_YEARS_BEFORE, CALENDAR_YEARS_AFTER = 1, 5


def root_public_key_b64() -> str:
    """The root CA's SubjectPublicKeyInfo (DER, Base64): what WebCrypto imports as "spki"."""
    certificate = key_store().root().certificate
    spki = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(spki).decode("ascii")


def page_calendar(today: dt.date | None = None) -> dict[str, Any]:
    """The rules' zone calendars for the page (browser_calendar), last year to five years on."""
    rules = current_rules()
    year = (today or dt.datetime.now(ZoneInfo(rules.timezone)).date()).year
    years = range(year - CALENDAR_YEARS_BEFORE, year + CALENDAR_YEARS_AFTER + 1)
    return browser_calendar(zone_calendars(rules), rules.timezone, years)


@bp.get("/sigillo/")
def seal_verifier() -> str:
    """The verifier; without keys (`ztl keys init` not run yet) the page says so instead of failing."""
    try:
        root_spki: str | None = root_public_key_b64()
    except KeyStoreError:
        root_spki = None
    return render_template(
        "police/seal.html",
        root_spki=root_spki,
        zones=[(zone.code, zone.name) for zone, _hours in zones_with_hours()],
        timezone=current_rules().timezone,
        validity_phrases=validity_phrases(current_language()),
        calendar=page_calendar(),
        service_worker_url=url_for("police.seal_service_worker"),
        service_worker_scope=url_for("police.seal_verifier"),
    )


@bp.get("/sigillo/sw.js")
def seal_service_worker() -> Response:
    """The service worker that keeps the verifier page and its assets available offline."""
    static_folder = Path(current_app.static_folder or "static")
    body = (static_folder / SERVICE_WORKER).read_bytes()
    response = Response(body, mimetype="application/javascript")
    response.headers["Cache-Control"] = "no-cache"
    return response
