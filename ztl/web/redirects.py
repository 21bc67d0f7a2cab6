"""Safe redirects: only to a path on this site, never to another host (open-redirect defence)."""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_next(target: str | None) -> str | None:
    """The target if it is a local path ("/x?y"), else None."""
    if not target or len(target) > 2000:
        return None
    if (
        any(c in target for c in "\\\r\n\t")
        or not target.startswith("/")
        or target.startswith("//")
    ):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
