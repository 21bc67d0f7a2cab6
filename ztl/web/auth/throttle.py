"""Sign-in and registration attempts per client address: a password-guessing script is slowed.

The per-account lock (ZTL_LOGIN_MAX_FAILURES) protects one account; this protects all of them
from one address trying many. ZTL_LOGIN_RATE_PER_MINUTE and ZTL_REGISTRATION_RATE_PER_MINUTE set
the limits (0 turns a limit off), per worker on one machine and for all the nodes together when they
share a Redis (ztl.cluster.counters). Behind a reverse proxy, set ZTL_TRUSTED_PROXIES (werkzeug's
ProxyFix, installed by create_app) so that remote_addr is the client's and not the proxy's.
"""

from __future__ import annotations

import math

from flask import current_app, render_template, request
from werkzeug.wrappers import Response

from ztl.cluster.counters import SharedWindow

_WINDOW = SharedWindow("sign-in")


def too_many(kind: str, setting: str, default: int) -> Response | None:
    """A 429 page when this address has made too many `kind` attempts this minute, else None."""
    limit = int(current_app.config.get(setting, default))
    if limit <= 0 or request.method != "POST":
        return None
    wait = _WINDOW.allow(f"{kind}:{request.remote_addr}", limit)
    if wait is None:
        return None
    response = Response(render_template("errors/429.html", code=429), status=429)
    response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
    return response
