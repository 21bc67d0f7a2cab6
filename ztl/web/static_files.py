"""WhiteNoise in front of the app, serving the build of static/ (ztl.static_build).

Hashed names are answered with a one-year `immutable` cache, other names must be revalidated (an
ETag answers 304), and the answer is the gzip or brotli copy the browser accepts. The security
headers of the pages go on static answers too (an SVG can hold script). `url_for('static',
filename=...)` gives the hashed name through a url_defaults hook, so templates keep writing plain
names and a new version of a file gets a new URL.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, redirect, url_for
from werkzeug.wrappers import Response

from ztl.static_build import build_static, read_manifest
from ztl.web.security import static_file_headers

ONE_YEAR = 365 * 24 * 60 * 60


def _headers_for(hashed_urls: frozenset[str]) -> Callable[[Any, str, str], None]:
    def add_headers(headers: Any, _path: str, url: str) -> None:
        for name, value in static_file_headers().items():
            headers[name] = value
        if url in hashed_urls:
            headers["Cache-Control"] = f"max-age={ONE_YEAR}, immutable"
        else:
            headers["Cache-Control"] = "no-cache"

    return add_headers


def install_static(app: Flask) -> None:
    from whitenoise import WhiteNoise

    build = build_static(
        Path(app.static_folder or "static"), Path(app.config["ZTL_STATIC_BUILD_DIR"])
    )
    manifest = read_manifest(build)
    prefix = (app.static_url_path or "/static").rstrip("/") + "/"
    hashed_urls = frozenset(prefix + name for name in manifest.values())
    app.wsgi_app = WhiteNoise(  # type: ignore[method-assign]
        app.wsgi_app,
        root=str(build),
        prefix=prefix,
        max_age=0,
        allow_all_origins=False,
        add_headers_function=_headers_for(hashed_urls),
    )

    def favicon() -> Response:
        """Browsers that ask for /favicon.ico without reading the page's <link rel="icon">."""
        return redirect(url_for("static", filename="favicon.svg"), code=302)

    app.add_url_rule("/favicon.ico", "favicon", favicon)

    @app.url_defaults
    def hashed_static_name(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and "filename" in values:
            values["filename"] = manifest.get(values["filename"], values["filename"])
