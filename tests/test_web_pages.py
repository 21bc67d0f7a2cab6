"""Pages as a browser and a screen reader get them.

Every page of the service (public, sign-in, each role's home, error pages, forms with errors) is
read in Italian and in English and audited: the <html lang>, one <h1>, labels for every form control,
names for every link, button and image, decorative icons hidden, no duplicate ids, and nothing that
the Content-Security-Policy would block or that needs the internet (no CDN: the service must work
offline). Then the headers, the assets and the error pages in both languages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from flask import Flask, abort
from flask.testing import FlaskClient

from tests.conftest import audit, csrf_token, login, make_app, problems_of
from tests.factories import CF_MARIO, PASSWORD, make_user
from ztl.demo.loader import load_city_configuration
from ztl.extensions import db

PUBLIC_PAGES = [
    "/",
    "/accedi",
    "/registrazione",
    "/permessi/1",
    "/contatti",
    "/aiuto",
    "/informativa-privacy",
    "/dichiarazione-accessibilita",
]
MISSING = "/pagina-che-non-esiste"


def _switch_language(client: FlaskClient, language: str) -> None:
    token = csrf_token(client, MISSING)
    response = client.post("/lingua", data={"lang": language, "next": "/", "csrf_token": token})
    assert response.status_code == 302


def every_page(client: FlaskClient, language: str) -> Iterator[tuple[str, str]]:
    """(name, html) of every page of the service, as the viewers who can see them get them."""
    if language != "it":
        _switch_language(client, language)
    for path in [*PUBLIC_PAGES, MISSING]:
        yield path, client.get(path).get_data(as_text=True)
    token = csrf_token(client, "/registrazione")
    failed_registration = client.post("/registrazione", data={"csrf_token": token, "email": "x"})
    yield "registration with errors", failed_registration.get_data(as_text=True)
    failed_login = client.post(
        "/accedi", data={"csrf_token": token, "email": "nobody@x.example", "password": "no"}
    )
    yield "refused sign-in", failed_login.get_data(as_text=True)

    make_user("resident", "resident@posta.example.org", codice_fiscale=CF_MARIO)
    make_user("admin", "admin@comune.example.org")
    for email, paths in (
        ("resident@posta.example.org", ["/area-personale/", "/ufficio/"]),
        (
            "admin@comune.example.org",
            ["/ufficio/", "/supervisione/", "/polizia/", "/amministrazione/", MISSING],
        ),
    ):
        assert login(client, email, PASSWORD).status_code == 302
        for path in paths:
            yield f"{email} {path}", client.get(path).get_data(as_text=True)
        client.post("/esci", data={"csrf_token": csrf_token(client, MISSING)})


@pytest.mark.parametrize("language", ["it", "en"])
def test_every_page_is_accessible_and_offline(client: FlaskClient, language: str) -> None:
    load_city_configuration()  # zones, gates and categories: the tables render with rows
    report = {
        name: problems_of(audit(html), language) for name, html in every_page(client, language)
    }
    assert len(report) == 18
    assert {name: found for name, found in report.items() if found} == {}


def test_the_audit_finds_what_it_looks_for() -> None:
    """The checks above can fail: a page with every mistake is reported for each of them."""
    bad = (
        '<html lang="en"><h1>a</h1><h1>b</h1><input id="q"><input id="q">'
        '<a href="/x"><svg><use href="#i"></use></svg></a><button aria-hidden="true"></button>'
        '<img src="https://cdn.example/x.png"><script>alert(1)</script><p style="x" onclick="y">'
    )
    found = "\n".join(problems_of(audit(bad), "it"))
    for expected in [
        "<html lang='en'>",
        "2 <h1>",
        "duplicate ids ['q']",
        "form control without a label",
        "<a> without an accessible name",
        "<button> without an accessible name",
        "<svg> neither hidden nor named",
        "<img> without alt",
        "external URL on <img>",
        "inline <script>",
        "style= on <p>",
        "onclick= on <p>",
    ]:
        assert expected in found
    good = (
        '<html lang="it"><h1>t</h1><label for="q">Q</label><input id="q">'
        '<a href="/x"><span class="visually-hidden">Home</span>'
        '<svg aria-hidden="true"><use href="/static/s.svg#i"></use></svg></a>'
        '<img src="/static/x.png" alt=""><script src="/static/x.js"></script>'
    )
    assert problems_of(audit(good), "it") == []


@pytest.mark.parametrize("path", [*PUBLIC_PAGES, MISSING])
def test_security_headers(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP here


def test_hsts_over_https(client: FlaskClient) -> None:
    response = client.get("/", base_url="https://ztl.example.org")
    assert "max-age=" in response.headers["Strict-Transport-Security"]


def _get_ok(client: FlaskClient, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, url
    body = response.get_data()
    response.close()
    return body


def test_assets_are_local_and_all_resolve(client: FlaskClient) -> None:
    """The Bootstrap Italia CSS, JS, fonts and icons are served from static/, and resolve."""
    page = audit(client.get("/").get_data(as_text=True))
    urls = {url for _tag, url in page.urls}
    # hashed names (ztl.web.static_files): bootstrap-italia.min.<hash>.css
    assert any(re.search(r"/bootstrap-italia\.min\.[0-9a-f]{12}\.css$", u) for u in urls)
    # Pages with the signed-in areas' menu fetch the bundle when the menu is first opened
    # (static/js/before-bootstrap-italia.js); the visitor's pages have no menu and no bundle.
    assert "data-bundle=" not in client.get("/").get_data(as_text=True)
    make_user("resident", "resident@posta.example.org", codice_fiscale=CF_MARIO)
    assert login(client, "resident@posta.example.org", PASSWORD).status_code == 302
    dashboard = client.get("/area-personale/").get_data(as_text=True)
    bundle = re.search(r'data-bundle="(/static/[^"]+\.bundle\.min\.[0-9a-f]{12}\.js)"', dashboard)
    assert bundle, "no Bootstrap Italia bundle"
    urls.add(bundle.group(1))
    for url in {u.split("#")[0] for u in urls}:
        assert url.startswith("/static/"), url
        body = _get_ok(client, url)
        if not url.endswith(".css"):
            continue
        for ref in re.findall(r"url\(\s*[\"']?([^\"')]+)", body.decode("utf-8")):
            if ref.startswith("data:"):
                continue
            assert not urlsplit(ref).scheme and not ref.startswith("//"), (url, ref)
            _get_ok(client, urljoin(url, ref))  # fonts.css -> ../vendor/.../*.woff2
    # Every icon the pages use exists in the sprite (a missing one renders as nothing).
    sprite = _get_ok(client, "/static/vendor/bootstrap-italia/svg/sprites.svg").decode("utf-8")
    templates = Path(__file__).resolve().parent.parent / "templates"
    used = set()
    for template in templates.rglob("*.html"):
        used |= set(re.findall(r"#(it-[a-z0-9-]+)", template.read_text(encoding="utf-8")))
        used |= set(re.findall(r'feature\("(it-[a-z0-9-]+)"', template.read_text(encoding="utf-8")))
    assert used
    assert sorted(i for i in used if f'id="{i}"' not in sprite) == []


ERROR_TEXTS = {
    ("404", "it"): "Pagina non trovata",
    ("404", "en"): "Page not found",
    ("403", "it"): "Accesso non consentito",
    ("403", "en"): "Access not allowed",
}


def _error_page(client: FlaskClient, code: str, headers: dict[str, str]) -> tuple[int, str]:
    path = MISSING if code == "404" else "/amministrazione/"
    response = client.get(path, headers=headers)
    return response.status_code, response.get_data(as_text=True)


@pytest.mark.parametrize("code", ["404", "403"])
@pytest.mark.parametrize("how", ["default", "switch", "browser or account"])
def test_error_pages_in_the_users_language(client: FlaskClient, code: str, how: str) -> None:
    """Italian by default; English after the switch, or as the browser (404) or account (403) asks."""
    headers: dict[str, str] = {}
    if code == "403":
        police = make_user("police", "p@comune.example.org")
        if how == "browser or account":
            police.language = "en"  # a signed-in user's saved choice beats the browser's
            db.session.commit()
        login(client, "p@comune.example.org", PASSWORD)
    elif how == "browser or account":
        headers = {"Accept-Language": "en-GB,en;q=0.9,it;q=0.5"}
    if how == "switch":
        _switch_language(client, "en")
    language = "it" if how == "default" else "en"
    status, html = _error_page(client, code, headers)
    assert status == int(code)
    assert f'<html lang="{language}">' in html
    assert ERROR_TEXTS[(code, language)] in html
    other = "en" if language == "it" else "it"
    assert ERROR_TEXTS[(code, other)] not in html
    assert "Traceback" not in html


def test_language_switch_returns_to_the_page_and_refuses_other_hosts(client: FlaskClient) -> None:
    token = csrf_token(client, "/")
    response = client.post("/lingua", data={"lang": "en", "next": "/accedi", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/accedi"
    page = client.get("/accedi").get_data(as_text=True)
    assert '<html lang="en">' in page and "Sign in to your personal area" in page
    # The form on each page sends that page's own path (and query) as the place to return to.
    assert '<input type="hidden" name="next" value="/accedi?next=/ufficio/">' in client.get(
        "/accedi?next=/ufficio/"
    ).get_data(as_text=True)
    # The choice survives signing in (the session is renewed, the language is kept).
    make_user("resident", "r@comune.example.org", codice_fiscale=CF_MARIO)
    login(client, "r@comune.example.org", PASSWORD)
    assert "Personal area" in client.get("/area-personale/").get_data(as_text=True)
    # An unknown language is ignored, and an external next is not followed.
    token = csrf_token(client, "/area-personale/")
    again = client.post(
        "/lingua", data={"lang": "xx", "next": "https://evil.example", "csrf_token": token}
    )
    assert again.headers["Location"] == "/"
    assert '<html lang="en">' in client.get("/area-personale/").get_data(as_text=True)


def test_home_pages_show_the_citys_data(app: Flask, client: FlaskClient) -> None:
    load_city_configuration()
    public = client.get("/").get_data(as_text=True)
    assert "ZTL A, centro storico" in public and "07:30–18:30" in public
    assert "Giornaliero ZTL A" in public and "10,00" in public
    make_user("police", "p@comune.example.org")
    login(client, "p@comune.example.org", PASSWORD)
    police = client.get("/polizia/").get_data(as_text=True)
    assert "Via Ricasoli" in police and "A6" in police


def test_resident_dashboard_leads_to_the_services(client: FlaskClient) -> None:
    make_user("resident", "r@comune.example.org", codice_fiscale=CF_MARIO)
    login(client, "r@comune.example.org", PASSWORD)
    page = client.get("/area-personale/").get_data(as_text=True)
    assert "Ti diamo il benvenuto, Test resident." in page
    assert 'href="/area-personale/domande/nuova"' in page
    assert 'href="/area-personale/albergo"' in page
    assert "Non hai nulla da fare." in page


@pytest.mark.parametrize(
    ("code", "italian", "english"),
    [
        (400, "Richiesta non valida", "Bad request"),
        (403, "Accesso non consentito", "Access not allowed"),
        (404, "Pagina non trovata", "Page not found"),
        (405, "Operazione non consentita", "Operation not allowed"),
        (413, "File troppo grande", "File too large"),
        (429, "Troppe richieste", "Too many requests"),
        (500, "Errore del servizio", "Service error"),
        (503, "Servizio non disponibile", "Service unavailable"),
        (418, "Richiesta non completata", "Request not completed"),
    ],
)
def test_every_error_page_explains_and_leads_back(
    tmp_path: Path, code: int, italian: str, english: str
) -> None:
    fresh = make_app(f"sqlite:///{tmp_path / 'unused.sqlite3'}", tmp_path)  # pages need no data

    @fresh.get("/__abort")
    def fail() -> str:
        abort(code)

    client = fresh.test_client()
    for language, heading in (("it", italian), ("en", english)):
        response = client.get("/__abort", headers={"Accept-Language": language})
        assert response.status_code == code
        page = response.get_data(as_text=True)
        assert f'<html lang="{language}">' in page and f"<h1>{heading}</h1>" in page
        assert 'class="btn btn-primary" href="/"' in page  # the way back
        assert problems_of(audit(page), language) == []


def test_unexpected_error_is_a_friendly_500(database_url: str, tmp_path: Path) -> None:
    fresh = make_app(database_url, tmp_path)

    @fresh.get("/__fail")
    def boom() -> str:
        raise RuntimeError("internal detail 4711")

    response = fresh.test_client().get("/__fail")
    assert response.status_code == 500
    text = response.get_data(as_text=True)
    assert "Errore del servizio" in text and "Traceback" not in text and "4711" not in text


def test_database_down_is_a_friendly_503_even_when_signed_in(
    client: FlaskClient, tmp_path: Path
) -> None:
    """The page header must not ask the database for the user again and fail a second time."""
    make_user("clerk", "c@comune.example.org")
    login(client, "c@comune.example.org", PASSWORD)
    cookie = client.get_cookie("session")
    assert cookie is not None
    broken = make_app(f"sqlite:///{tmp_path / 'missing-dir' / 'x.sqlite3'}", tmp_path / "inst")
    visitor = broken.test_client()
    visitor.set_cookie("session", cookie.value)
    response = visitor.get("/ufficio/")
    assert response.status_code == 503
    text = response.get_data(as_text=True)
    assert "Servizio non disponibile" in text and '<html lang="it">' in text


def test_signed_in_language_choice_is_remembered_for_next_sessions(
    app: Flask, client: FlaskClient
) -> None:
    from ztl.extensions import db
    from ztl.models import User

    user = make_user("clerk", "c@comune.example.org")
    login(client, "c@comune.example.org", PASSWORD)
    token = csrf_token(client, "/ufficio/")
    client.post("/lingua", data={"lang": "en", "next": "/ufficio/", "csrf_token": token})
    db.session.expire_all()
    stored = db.session.get(User, user.id)
    assert stored is not None and stored.language == "en"
    # A new browser (no session, Italian browser) gets English after signing in.
    other = app.test_client()
    login(other, "c@comune.example.org", PASSWORD)
    page = other.get("/ufficio/", headers={"Accept-Language": "it"}).get_data(as_text=True)
    assert '<html lang="en">' in page
