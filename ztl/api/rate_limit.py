"""Per-token request limits for machine clients: a runaway gate must not starve the others.

ZTL_API_RATE_PER_MINUTE sets the limit per token and worker process (0 turns it off). Past it the
answer is 429 with Retry-After.
"""

from __future__ import annotations

from flask import current_app

from ztl.rate_limit import SlidingWindow

DEFAULT_PER_MINUTE = 1200
_WINDOW = SlidingWindow()


def retry_after(token_key: str) -> float | None:
    """None when the token (keyed by its hash) may make this request, else seconds to wait."""
    limit = int(current_app.config.get("ZTL_API_RATE_PER_MINUTE", DEFAULT_PER_MINUTE))
    if limit <= 0:
        return None
    return _WINDOW.allow(token_key, limit)
