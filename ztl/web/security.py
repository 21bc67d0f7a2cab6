"""Security headers on every response: CSP without inline script, framing, referrer, sniffing, HSTS."""

from __future__ import annotations

from flask import Flask, request
from werkzeug.wrappers import Response

# font-src allows data: because Bootstrap Italia's own stylesheet embeds an icon font as a data: URL
# (only stylesheets from 'self' can declare fonts, so this admits no font from anywhere else).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; media-src 'self' blob:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


# What static answers carry (WhiteNoise answers them before Flask: ztl.web.static_files). HSTS is
# left to the pages, which a browser always loads first over the same origin.
def static_file_headers() -> dict[str, str]:
    return {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
    }


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def add_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(self), geolocation=(), microphone=()")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
        if request.path.startswith("/api/") or response.mimetype == "text/html":
            headers.setdefault("Cache-Control", "no-store")
        return response
