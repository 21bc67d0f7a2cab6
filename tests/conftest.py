"""The tests' fixtures and helpers: every database test runs on SQLite and on PostgreSQL.

Fixtures: `app` (the migrated app, inside an app context, emptied after each test), `client`,
`runner`, `keys` (fresh signing keys), `city` (the demo city with those keys), `quiet_mail`.
Helpers: `sign_in` (an account of a role, signed in), `login`, `csrf_token`, `post_form`,
`apply_online`, `upload_document`, `audit`/`problems_of` (a page as a screen reader gets it),
`fetch_lists`, `pdf_text`. Test data is built with tests/factories.py. docs/testing.md says more.

PostgreSQL runs when ZTL_TEST_POSTGRES_URL is set (CI sets it); each test session works in a schema of
its own, created here and dropped at the end, so runs never see each other's rows and leave nothing.
Without it the PostgreSQL run is skipped with a printed reason.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import secrets
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select
from werkzeug.test import TestResponse

from tests.factories import DEMO_OWN_CAR, PASSWORD, make_user
from ztl import create_app
from ztl.demo.loader import load_demo
from ztl.extensions import db
from ztl.models import Base, User
from ztl.rate_limit import SlidingWindow
from ztl.seals.keys import key_store
from ztl.signing.keys import KeyStore
from ztl.signing.lists import RevocationList, TrustList, load_revocation_list, load_trust_list

POSTGRES_ENV = "ZTL_TEST_POSTGRES_URL"
POSTGRES_SKIP = (
    f"PostgreSQL run skipped: set {POSTGRES_ENV}=postgresql://USER@HOST:PORT/DB to run it "
    "(CI sets it to postgresql://postgres@127.0.0.1:5432/test)"
)


def postgres_base_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


def _psycopg_url(url: str) -> str:
    return re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql+psycopg://", url)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh, empty database per engine for the whole test session."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.sqlite3'}"
        return
    base = postgres_base_url()
    if base is None:
        pytest.skip(POSTGRES_SKIP)
    schema = f"ztl_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin_engine = sa.create_engine(_psycopg_url(base))
    with admin_engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    yield _psycopg_url(base) + separator + "options=" + quote(f"-csearch_path={schema}")
    with admin_engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin_engine.dispose()


class FreshContextClient(FlaskClient):
    """A test client whose every request runs in a new app context, as in production.

    Tests hold an app context open for database access; without this, requests would share its
    `g` (cached CSRF token, cached current user) and its database session, hiding real bugs.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            return super().open(*args, **kwargs)


def make_app(database_url: str, instance: Path, **extra: Any) -> Flask:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_PATH": str(instance),
        "ZTL_UPLOAD_DIR": str(instance / "uploads"),
        # Plate lookups written in the request, so a test reads them at once (the batched writer
        # has its own test in test_enforcement_api).
        "ZTL_LOOKUP_FLUSH_SECONDS": 0,
        # The situation room's stream sends one event and ends (the browser would reconnect):
        # the crawls of every GET route must not wait 25 s on it. Its own tests set longer ones.
        "ZTL_ROOM_STREAM_SECONDS": 0,
        # Every test signs in from 127.0.0.1; the per-address limits have their own tests.
        "ZTL_LOGIN_RATE_PER_MINUTE": 0,
        "ZTL_REGISTRATION_RATE_PER_MINUTE": 0,
        "ZTL_ELIGIBILITY_RATE_PER_MINUTE": 0,
        # Tests put the city in with the factories they need; start-up sync has its own tests.
        "ZTL_SYNC_CITY_ON_START": False,
        **extra,
    }
    app = create_app(config)
    app.test_client_class = FreshContextClient
    return app


@pytest.fixture(scope="session")
def migrated_app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The app on a database brought to the head of the migration chain (as production is)."""
    from flask_migrate import upgrade

    app = make_app(database_url, tmp_path_factory.mktemp("instance"))
    with app.app_context():
        upgrade()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


def _empty_all_tables() -> None:
    tables = list(reversed(Base.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def app(migrated_app: Flask) -> Iterator[Flask]:
    """The migrated app inside an app context; every table is emptied after the test."""
    with migrated_app.app_context():
        try:
            yield migrated_app
        finally:
            db.session.rollback()
            _empty_all_tables()
            db.session.remove()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def keys(app: Flask, tmp_path: Path) -> Iterator[KeyStore]:
    """Fresh signing keys in a folder of this test's own (rotations never leak into other tests;
    the session's instance folder stays keyless). Set without `monkeypatch`, so that a test's
    `monkeypatch.undo()` keeps them."""
    previous = app.config["ZTL_KEYS_DIR"]
    app.config["ZTL_KEYS_DIR"] = str(tmp_path / "keys")
    store = key_store()  # named after the rules file's municipality, as `ztl keys init` does
    store.init()
    try:
        yield store
    finally:
        app.config["ZTL_KEYS_DIR"] = previous


@pytest.fixture
def city(app: Flask, keys: KeyStore) -> Flask:
    """The demo city (rules, registers, categories, zones: `ztl demo load`) with fresh signing
    keys, so that permits can be issued; the app it runs in."""
    load_demo()
    return app


CSRF_FIELD = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|'
    r'name="csrf_token" value="([^"]+)"'
)


def csrf_token(client: FlaskClient, path: str) -> str:
    """The CSRF token of the form on a page, as a browser would submit it."""
    html = client.get(path).get_data(as_text=True)
    match = CSRF_FIELD.search(html) or re.search(r'id="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return next(g for g in match.groups() if g)


def login(
    client: FlaskClient, email: str, password: str, next_url: str | None = None
) -> TestResponse:
    """The sign-in form posted as a browser would; the answer (302 when it went through)."""
    token = csrf_token(client, "/accedi")
    data = {"email": email, "password": password, "csrf_token": token, "next": next_url or ""}
    return client.post("/accedi", data=data)


def sign_in(
    client: FlaskClient,
    role: str,
    email: str | None = None,
    codice_fiscale: str | None = None,
) -> User:
    """Sign `client` in as the account with `email` (by default `ROLE@comune.example.org`),
    made first (with `role`, the test password and `codice_fiscale`) when there is none yet."""
    email = email or f"{role}@comune.example.org"
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = make_user(role, email, codice_fiscale=codice_fiscale)
    response = login(client, email, PASSWORD)
    assert response.status_code == 302, f"{email} could not sign in: {response.status_code}"
    return user


def post_form(client: FlaskClient, path: str, page: str, **data: object) -> TestResponse:
    """Post `data` to `path` with the CSRF token of the form on `page`."""
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data})


# A minimal PDF, enough for an uploaded document.
PDF = b"%PDF-1.4\n%%EOF\n"


def apply_online(client: FlaskClient, code: str = "1", plate: str = DEMO_OWN_CAR) -> int:
    """A signed-in resident's draft application for category `code`; its id."""
    path = f"/area-personale/domande/nuova/{code}"
    token = csrf_token(client, path)
    response = client.post(path, data={"csrf_token": token, "plate_1": plate})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    found = re.search(r"/domande/(\d+)$", response.headers["Location"])
    assert found is not None, response.headers["Location"]
    return int(found.group(1))


def upload_document(
    client: FlaskClient, page: str, name: str, content: bytes = PDF
) -> TestResponse:
    """Attach a document to the application at `page`, as the page's form does."""
    return client.post(
        f"{page}/documenti",
        data={
            "csrf_token": csrf_token(client, page),
            "kind": "identity_document",
            "file": (io.BytesIO(content), name),
        },
        content_type="multipart/form-data",
    )


def fetch_lists(
    client: FlaskClient, keys: KeyStore, held: int | None = None
) -> tuple[TrustList, RevocationList]:
    """The published trust list and revocation list, checked as a verifier does."""
    trust_response = client.get("/.well-known/ztl/trust-list")
    assert trust_response.status_code == 200, trust_response.get_data(as_text=True)
    trust = load_trust_list(trust_response.get_data(), keys.root().certificate)
    revocations = load_revocation_list(
        client.get("/.well-known/ztl/revocations").get_data(), trust, held
    )
    return trust, revocations


def pdf_text(data: bytes) -> str:
    """The text of every page of a PDF, as a reader extracts it."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


# --- a page as a browser and a screen reader get it (test_web_pages audits every page) ----------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
CONTROLS = {"input", "select", "textarea"}


@dataclass
class Named:
    """A link or a button: what a screen reader would announce for it."""

    tag: str
    attrs: dict[str, str]
    text: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return (self.attrs.get("aria-label") or " ".join(self.text)).strip()


class PageAudit(HTMLParser):
    """One pass over a page, keeping what the accessibility and offline checks look at."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.html_lang: str | None = None
        self.h1 = 0
        self.ids: list[str] = []
        self.labels_for: set[str] = set()
        self.controls: list[dict[str, str]] = []
        self.named: list[Named] = []
        self.svgs: list[dict[str, str]] = []
        self.images: list[dict[str, str]] = []
        self.urls: list[tuple[str, str]] = []  # (tag, URL) of scripts, styles, images, icons
        self.inline_problems: list[str] = []
        self._hidden: list[bool] = []  # per open element: inside an aria-hidden subtree?
        self._open_named: list[Named] = []

    def handle_starttag(self, tag: str, attr_list: list[tuple[str, str | None]]) -> None:
        attrs = {k: v or "" for k, v in attr_list}
        hidden = bool(self._hidden and self._hidden[-1]) or attrs.get("aria-hidden") == "true"
        if tag == "html":
            self.html_lang = attrs.get("lang")
        if tag == "h1":
            self.h1 += 1
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if tag == "label" and "for" in attrs:
            self.labels_for.add(attrs["for"])
        if tag in CONTROLS and attrs.get("type") != "hidden":
            self.controls.append({"tag": tag, **attrs})
        if tag == "input" and attrs.get("type") in {"submit", "button"}:
            self.named.append(Named(tag, attrs, [attrs.get("value", "")]))
        if tag == "svg" and not hidden:  # hidden itself or inside an aria-hidden element
            self.svgs.append(attrs)
        if tag == "img":
            self.images.append(attrs)
        for attribute in ("src", "href"):
            if attribute in attrs and tag in {"script", "link", "img", "use", "source"}:
                self.urls.append((tag, attrs[attribute]))
        if tag == "script" and "src" not in attrs:
            self.inline_problems.append("inline <script>")
        if tag == "style":
            self.inline_problems.append("<style> element")
        for name in attrs:
            if name == "style" or name.startswith("on"):
                self.inline_problems.append(f"{name}= on <{tag}>")
        if tag in {"a", "button"}:
            self._open_named.append(Named(tag, attrs))
        if tag not in VOID:
            self._hidden.append(hidden)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if self._hidden:
            self._hidden.pop()
        if tag in {"a", "button"} and self._open_named:
            self.named.append(self._open_named.pop())

    def handle_data(self, data: str) -> None:
        if self._open_named and not (self._hidden and self._hidden[-1]) and data.strip():
            for element in self._open_named:
                element.text.append(data.strip())


def audit(html: str) -> PageAudit:
    parser = PageAudit()
    parser.feed(html)
    parser.close()
    return parser


def problems_of(page: PageAudit, language: str) -> list[str]:
    """Everything wrong with a page, in words (an empty list for a good page)."""
    found: list[str] = []
    if page.html_lang != language:
        found.append(f"<html lang={page.html_lang!r}>, expected {language!r}")
    if page.h1 != 1:
        found.append(f"{page.h1} <h1> elements")
    duplicates = sorted({i for i in page.ids if page.ids.count(i) > 1})
    if duplicates:
        found.append(f"duplicate ids {duplicates}")
    for control in page.controls:
        labelled = control.get("id") in page.labels_for or control.get("aria-label")
        if not labelled and not control.get("aria-labelledby"):
            found.append(f"form control without a label: {control}")
    for element in page.named:
        if not element.name:
            found.append(f"<{element.tag}> without an accessible name: {element.attrs}")
    for svg in page.svgs:
        if not svg.get("aria-label"):
            found.append(f"<svg> neither hidden nor named: {svg}")
    for image in page.images:
        if "alt" not in image:
            found.append(f"<img> without alt: {image}")
    for tag, url in page.urls:
        if url.startswith(("http:", "https:", "//")):
            found.append(f"external URL on <{tag}>: {url}")
    found.extend(page.inline_problems)
    return found


class FrozenWindow(SlidingWindow):
    """A rate limit whose clock stands still: a refusal's Retry-After is the whole window (60 s),
    however long the test took to reach it."""

    def allow(self, key: str, limit: int, now: float | None = None) -> float | None:
        return super().allow(key, limit, now=1_000.0)


@pytest.fixture
def quiet_mail(monkeypatch: pytest.MonkeyPatch) -> None:
    """No e-mail from the services a test drives: mail has its own tests (test_notifications).

    The functions are replaced on the module the services call through, so the rest of the
    application (create_app, the CLI) keeps the real module.
    """
    from ztl.mail import notifications

    for name in (
        "notify_application_submitted",
        "notify_documents_requested",
        "notify_decision",
        "notify_permit_issued",
    ):
        monkeypatch.setattr(notifications, name, lambda *a, **k: None)


# --- payments ------------------------------------------------------------------------------------

PAYMENT_SECRET = "s" * 40  # the secret the `notified` provider's notifications are signed with


@pytest.fixture
def notified(city: Flask) -> Iterator[Flask]:
    """The demo city with the `notified` provider: only a signed receipt pays (test_integrity)."""
    city.config["ZTL_PAYMENT_PROVIDER"] = "notified"
    city.config["ZTL_PAYMENT_NOTIFICATION_SECRET"] = PAYMENT_SECRET
    yield city
    city.config["ZTL_PAYMENT_PROVIDER"] = "demo"
    city.config["ZTL_PAYMENT_NOTIFICATION_SECRET"] = None


# The pagoPA intermediary of the tests (tests/payment_intermediary), for Prato's creditor.
PAGOPA_CREDITOR = "84006890481"  # Prato's rules file
PAGOPA_SEGREGATION = "47"
PAGOPA_USER, PAGOPA_PASSWORD = "ztl-app", "intermediary-password-for-the-test"
PAGOPA_NOTIFY_USER = "govpay"
PAGOPA_NOTIFY_PASSWORD = "notification-password-for-the-test-0123456789"
PAGOPA_A2A = "ZTL_PRATO"


@dataclass
class PagoPA:
    """The app served on loopback, the test intermediary that notifies it, and the recorder that
    checks every exchange of the app's client against the contract."""

    intermediary: Any  # tests.payment_intermediary.server.Intermediary
    recorder: Any  # tests.payment_intermediary.contract.ContractRecorder
    base: str  # where the app is served


@pytest.fixture
def payment_intermediary() -> Iterator[Any]:
    """The test intermediary alone (no app), for Prato's creditor."""
    from tests.payment_intermediary.server import run_intermediary

    with run_intermediary(
        creditor=PAGOPA_CREDITOR,
        segregation_code=PAGOPA_SEGREGATION,
        user=PAGOPA_USER,
        password=PAGOPA_PASSWORD,
        id_a2a=PAGOPA_A2A,
    ) as running:
        yield running


@pytest.fixture
def pagopa(city: Flask) -> Iterator[PagoPA]:
    """The demo city with the `pagopa` provider against the test intermediary, served on loopback
    (a threaded server) so that the intermediary's notifications reach it over HTTP. Fails the test
    when an exchange broke the contract, or when the app's client made no call at all."""
    import threading

    import requests
    from werkzeug.serving import make_server

    from tests.payment_intermediary.contract import ContractRecorder
    from tests.payment_intermediary.server import run_intermediary

    server = make_server("127.0.0.1", 0, city, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    saved = dict(city.config)
    try:
        with run_intermediary(
            creditor=PAGOPA_CREDITOR,
            segregation_code=PAGOPA_SEGREGATION,
            user=PAGOPA_USER,
            password=PAGOPA_PASSWORD,
            notify_base=f"{base}/api/v1/pagopa",
            notify_user=PAGOPA_NOTIFY_USER,
            notify_password=PAGOPA_NOTIFY_PASSWORD,
            id_a2a=PAGOPA_A2A,
        ) as intermediary:
            session = requests.Session()
            recorder = ContractRecorder()
            recorder.attach(session, intermediary.base_url)
            city.config.update(
                {
                    "ZTL_PAYMENT_PROVIDER": "pagopa",
                    "ZTL_PAGOPA_URL": intermediary.base_url,
                    "ZTL_PAGOPA_USER": PAGOPA_USER,
                    "ZTL_PAGOPA_PASSWORD": PAGOPA_PASSWORD,
                    "ZTL_PAGOPA_A2A": PAGOPA_A2A,
                    "ZTL_PAGOPA_SEGREGATION_CODE": PAGOPA_SEGREGATION,
                    "ZTL_PAGOPA_STATION": "12345678901_01",
                    "ZTL_PAGOPA_FEE_ENTRY": "ZTL",
                    "ZTL_PAGOPA_CHECKOUT_URL": intermediary.checkout_url_template,
                    "ZTL_PAGOPA_NOTIFICATION_USER": PAGOPA_NOTIFY_USER,
                    "ZTL_PAGOPA_NOTIFICATION_PASSWORD": PAGOPA_NOTIFY_PASSWORD,
                    "ZTL_PAGOPA_SESSION": session,
                }
            )
            yield PagoPA(intermediary, recorder, base)
            recorder.assert_clean()
            assert recorder.exchanges, "the client made no call to check"
    finally:
        city.config.clear()
        city.config.update(saved)
        server.shutdown()
        thread.join(5)


# --- a real SMTP server on loopback (aiosmtpd) -------------------------------------------------


class Inbox:
    """aiosmtpd handler: keeps every accepted message's recipient; optionally slow."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.received: list[str] = []
        self.started = 0

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.started += 1
        await asyncio.sleep(self.delay)
        self.received.extend(envelope.rcpt_tos)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    with socket.socket() as probe:  # a free loopback port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def command_environment(app: Flask, **extra: str) -> dict[str, str]:
    """The environment of a `ztl` command run as its own process (a cron line, a worker, another
    node) against the test's app: the same database, secret, folders and keys, nothing else of
    the ZTL_ settings of this process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZTL_")}
    env.update(
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        ZTL_SECRET_KEY=app.config["SECRET_KEY"],
        ZTL_INSTANCE_PATH=str(Path(app.config["ZTL_UPLOAD_DIR"]).parent),
        ZTL_KEYS_DIR=app.config["ZTL_KEYS_DIR"],
        ZTL_UPLOAD_DIR=app.config["ZTL_UPLOAD_DIR"],
        **extra,
    )
    return env
