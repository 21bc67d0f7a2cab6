"""Browser tests: the real app behind a real HTTP server, driven by Chromium through Playwright.

Why a real server and a real browser: what these tests check (a service worker serving the page
offline, WebCrypto, DecompressionStream, localStorage, the Content-Security-Policy) exists only in
a browser talking HTTP. The server is werkzeug's, on 127.0.0.1 with a free port (a secure context
for service workers and WebCrypto), over a fresh SQLite database brought to the head of the
migration chain, with fresh signing keys, the demo city's zones and categories and a police user.

Chromium is Debian's (/usr/bin/chromium, or ZTL_TEST_CHROMIUM): Playwright's own browser download
is not used. Without it the tests are skipped, saying what to install.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from tests.conftest import make_app
from tests.factories import PASSWORD, make_user
from ztl.extensions import db
from ztl.seals.keys import key_store
from ztl.signing.keys import KeyStore

CHROMIUM_ENV = "ZTL_TEST_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
POLICE_EMAIL = "vigile@comune.example.org"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives Chromium through Playwright (slower)")


def chromium_path() -> str:
    return os.environ.get(CHROMIUM_ENV, DEFAULT_CHROMIUM)


@dataclass
class RequestLog:
    """Paths the server answered, so a test can prove that nothing reached it while offline."""

    paths: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def middleware(self, wsgi_app: Callable[..., Any]) -> Callable[..., Any]:
        def logged(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            with self.lock:
                self.paths.append(environ.get("PATH_INFO", ""))
            return wsgi_app(environ, start_response)

        return logged

    def clear(self) -> None:
        with self.lock:
            self.paths.clear()

    def snapshot(self) -> list[str]:
        with self.lock:
            return list(self.paths)


@dataclass
class LiveServer:
    app: Flask
    base_url: str
    keys: KeyStore
    log: RequestLog
    police_email: str = POLICE_EMAIL
    police_password: str = PASSWORD


@contextmanager
def serving(app: Flask, keys: KeyStore) -> Iterator[LiveServer]:
    """The app served over HTTP on 127.0.0.1:<free port> in a thread, until the block ends."""
    log = RequestLog()
    server: BaseWSGIServer = make_server(
        "127.0.0.1", 0, log.middleware(app.wsgi_app), threaded=True
    )
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app, f"http://127.0.0.1:{server.server_port}", keys, log)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()


def _migrated_app(folder: Path) -> Flask:
    from flask_migrate import upgrade

    instance = folder / "instance"
    app = make_app(
        f"sqlite:///{folder / 'ztl.sqlite3'}",
        instance,
        ZTL_MAIL_OUTBOX=str(instance / "outbox"),
        ZTL_ROOM_STREAM_SECONDS=25,  # the situation room streams as in production
    )
    with app.app_context():
        upgrade()
    return app


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Zones, categories, keys and a police user: enough for the police pages."""
    from ztl.city import sync_city
    from ztl.city.rules_config import current_rules

    app = _migrated_app(tmp_path_factory.mktemp("browser"))
    with app.app_context():
        keys = key_store()
        keys.init()
        sync_city(current_rules())
        make_user("police", POLICE_EMAIL)
        db.session.remove()
    with serving(app, keys) as server:
        yield server


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The demo city (`ztl demo load`: registers, zones, categories, one user per role) and keys."""
    from ztl.demo.loader import load_demo

    app = _migrated_app(tmp_path_factory.mktemp("city"))
    with app.app_context():
        keys = key_store()
        keys.init()
        load_demo()
        make_user("police", POLICE_EMAIL)
        db.session.remove()
    with serving(app, keys) as server:
        yield server


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    """Playwright's driver, once per module (a second sync_playwright() inside it is refused)."""
    executable = chromium_path()
    if not Path(executable).exists():
        reason = (
            f"browser tests skipped: no Chromium at {executable} "
            f"(apt-get install chromium chromium-driver, or set {CHROMIUM_ENV})"
        )
        print(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


def launch(playwright: Any, *args: str) -> Any:
    """Debian's Chromium (never Playwright's own download), with extra command-line switches."""
    return playwright.chromium.launch(executable_path=chromium_path(), args=list(args))


@pytest.fixture(scope="module")
def browser(playwright: Any) -> Iterator[Any]:
    """Debian's Chromium through Playwright; skipped (with the reason printed) when it is missing."""
    instance = launch(playwright)
    try:
        yield instance
    finally:
        instance.close()
