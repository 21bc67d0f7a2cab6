"""Static files as a phone on a slow network gets them (issue 17): compressed, hashed, cached.

WhiteNoise answers /static/ from the build of static/ (ztl.static_build, ztl.web.static_files): the
pages name each file by a hash of its content, that name is cached for a year and never revalidated,
the answer is the gzip or brotli copy the browser accepts, and the security headers still apply.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import audit
from ztl.static_build import build_static, read_manifest, remove_other_builds

HASHED = re.compile(r"\.[0-9a-f]{12}\.[a-z0-9]+$")


def _static_urls(client: FlaskClient, path: str = "/") -> set[str]:
    page = audit(client.get(path).get_data(as_text=True))
    return {url.split("#")[0] for _tag, url in page.urls if url.startswith("/static/")}


def test_pages_name_static_files_by_their_hash(client: FlaskClient) -> None:
    urls = _static_urls(client)
    assert urls
    assert sorted(u for u in urls if not HASHED.search(u)) == []
    html = client.get("/").get_data(as_text=True)
    # Scripts never hold up the first paint.
    assert re.findall(r"<script(?![^>]*\bdefer\b)[^>]*>", html) == []


def test_hashed_names_are_cached_for_a_year_and_compressed(client: FlaskClient) -> None:
    css = next(u for u in _static_urls(client) if "bootstrap-italia.min." in u)
    plain = client.get(css)
    assert plain.status_code == 200
    assert plain.headers["Cache-Control"] == "max-age=31536000, immutable"
    assert "Content-Encoding" not in plain.headers
    body = plain.get_data()

    zipped = client.get(css, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert gzip.decompress(zipped.get_data()) == body
    assert len(zipped.get_data()) < len(body) / 4

    pytest.importorskip("brotli")
    brotli = client.get(css, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert brotli.headers["Content-Encoding"] == "br"
    assert len(brotli.get_data()) < len(zipped.get_data())


def test_static_answers_carry_the_security_headers(client: FlaskClient) -> None:
    sprite = next(u for u in _static_urls(client) if u.endswith(".svg"))
    response = client.get(sprite)
    assert response.status_code == 200
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Access-Control-Allow-Origin" not in response.headers


def test_plain_names_are_revalidated(client: FlaskClient) -> None:
    """A name without a hash may change under the same URL: the browser must ask again (a 304)."""
    first = client.get("/static/js/seal/page.js")
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "no-cache"
    again = client.get("/static/js/seal/page.js", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_the_seal_verifier_modules_keep_their_plain_names(client: FlaskClient, app: Flask) -> None:
    with app.test_request_context():
        from flask import url_for

        assert url_for("static", filename="js/seal/page.js") == "/static/js/seal/page.js"
        assert url_for("static", filename="css/ztl.css") != "/static/css/ztl.css"


def test_the_favicon_is_linked_and_found(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    link = re.search(r'<link rel="icon" type="image/svg\+xml" href="([^"]+)"', html)
    assert link and HASHED.search(link.group(1))
    icon = client.get(link.group(1))
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    # A browser that asks for /favicon.ico anyway is sent to it, not given a 404.
    legacy = client.get("/favicon.ico")
    assert legacy.status_code == 302 and legacy.headers["Location"] == link.group(1)


def test_pages_still_carry_the_security_headers(client: FlaskClient) -> None:
    response = client.get("/")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_build_rewrites_stylesheets_and_is_made_once(tmp_path: Path) -> None:
    source = tmp_path / "static"
    (source / "css").mkdir(parents=True)
    (source / "fonts").mkdir()
    (source / "fonts" / "a.woff2").write_bytes(b"font")
    (source / "css" / "site.css").write_text(
        'body { background: url("../fonts/a.woff2#x"); } i { background: url(data:,x); }'
        " b { background: url(missing.png); }" * 20
    )
    builds = tmp_path / "builds"
    build = build_static(source, builds)
    manifest = read_manifest(build)
    font = manifest["fonts/a.woff2"]
    assert HASHED.search(font)
    css = (build / manifest["css/site.css"]).read_text()
    assert f'url("../{font}#x")' in css and "url(data:,x)" in css and "url(missing.png)" in css
    assert (build / "fonts" / "a.woff2").read_bytes() == b"font"  # the plain name is kept too
    assert (build / f"{manifest['css/site.css']}.gz").exists()
    assert not (build / f"{font}.gz").exists()  # fonts are compressed already
    assert build_static(source, builds) == build

    (source / "fonts" / "a.woff2").write_bytes(b"new font")
    newer = build_static(source, builds)
    assert newer != build and read_manifest(newer)["fonts/a.woff2"] != font
    assert remove_other_builds(builds, newer) == [build]
    assert not build.exists()


def test_the_build_command(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["static", "build"])
    assert result.exit_code == 0, result.output
    assert "static files in" in result.output
