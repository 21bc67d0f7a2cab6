"""The browser's signed-cookie session, and the token-only API that never opens it.

Police devices and camera gates authenticate with bearer tokens (ztl.api.auth), never with a
cookie. On their endpoints the session cookie is therefore not even decoded: a browser's cookie
sent along (by a page on another site, say) carries no authority there and cannot be changed by
the answer, and the request does not pay for checking a signature it would ignore. That matters on
the busiest route of the service (bench/enforcement.py measures it). The eligibility API stays
outside the list: residents call it from their signed-in browser.
"""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

TOKEN_ONLY_PREFIXES = (
    "/api/v1/authorizations/",
    "/api/v1/transits/",
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
