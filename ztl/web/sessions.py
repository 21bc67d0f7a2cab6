"""The browser's signed-cookie session, and the token-only API that never opens it.

Police devices and camera gates authenticate with bearer tokens (ztl.api.auth), never with a
cookie. On their endpoints the session cookie is therefore not even decoded: a browser's cookie
sent along (by a page on another site, say) carries no authority there and cannot be changed by
the answer, and the request does not pay for checking a signature it would ignore. That matters on
the busiest route of the service (bench/enforcement.py measures it). The eligibility API stays
outside the list: residents call it from their signed-in browser.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

TOKEN_ONLY_PREFIXES = (
    "/api/v1/authorizations/",
    "/api/v1/transits",  # the gates: their readings, and the batch check
    "/api/v1/whitelist",
    "/api/v1/seals/",
    "/api/v1/whoami",
)


class BrowserSessionInterface(SecureCookieSessionInterface):
    """Flask's cookie session everywhere but on the token-only API, where it is a null session."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(TOKEN_ONLY_PREFIXES):
            return self.make_null_session(app)
        return super().open_session(app, request)


# Where the cookie keeps the server-side session's token (ztl.accounts.browser_sessions).
SESSION_TOKEN_KEY = "sid"  # noqa: S105 (a key name, not a secret)


def load_signed_in_user(user_id: str) -> Any:
    """Flask-Login's loader: the person only while their browser session is open on the server.

    A cookie copied before sign-out, a session ended from another browser or by a deactivation,
    or one older than its role's lifetime loads nobody: the request is a signed-out visitor's.
    """
    from flask import session

    from ztl.accounts import browser_sessions
    from ztl.accounts.staff import load_user

    try:
        numeric = int(user_id)
    except (TypeError, ValueError):
        return None
    if not browser_sessions.is_live(session.get(SESSION_TOKEN_KEY), numeric):
        return None
    return load_user(user_id)
