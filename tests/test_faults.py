"""Faults: the database going away, before a request or in the middle of one.

What must hold: the user gets a 503 (a page in their language, or JSON under /api/), never a 500
or a traceback, and a transaction cut off half-way leaves nothing of itself behind. The connection
is cut for real where it can be (an address where no database listens), and by a statement that
fails like a dropped connection (an OperationalError raised at the database API) where the test
needs the failure at one exact point of a transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from tests.conftest import apply_online, make_app, post_form, sign_in, upload_document
from tests.factories import DEMO_RESIDENT
from ztl.extensions import db
from ztl.models import Application, Event, Permit

# Nothing listens on port 1: the connection is refused at once, as with a database that is down.
UNREACHABLE_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2"


@pytest.fixture
def down(tmp_path: Path) -> Flask:
    """The app pointed at a PostgreSQL server that is not there."""
    return make_app(UNREACHABLE_POSTGRES, tmp_path / "instance")


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/", 503),  # zones and fees come from the database
        ("/accedi", 200),  # an empty form needs no database; signing in does (below)
        ("/registrazione", 200),
        ("/ufficio/", 302),  # anonymous: sent to sign in, no database needed to say so
        ("/area-personale/", 302),
    ],
)
def test_pages_answer_503_when_the_database_is_unreachable(
    down: Flask, path: str, status: int
) -> None:
    response = down.test_client().get(path)
    assert response.status_code == status
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "psycopg" not in text and "127.0.0.1:1" not in text
    if status == 503:
        assert "Servizio non disponibile" in text and '<html lang="it">' in text


def test_sign_in_answers_503_when_the_database_is_unreachable(down: Flask) -> None:
    down.config["WTF_CSRF_ENABLED"] = False
    response = down.test_client().post(
        "/accedi", data={"email": "mario@example.org", "password": "whatever-it-is"}
    )
    assert response.status_code == 503
    assert "Servizio non disponibile" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/authorizations/AB123CD", None),
        ("GET", "/api/v1/whitelist", None),
        ("POST", "/api/v1/transits/check", {"transits": []}),
        ("POST", "/api/v1/seals/verify", {"seal": "ZTL1:AAAA"}),
    ],
)
def test_api_answers_json_503_when_the_database_is_unreachable(
    down: Flask, method: str, path: str, body: Any
) -> None:
    response = down.test_client().open(
        path, method=method, json=body, headers={"Authorization": "Bearer ztl_some-token-value"}
    )
    assert response.status_code == 503, response.get_data(as_text=True)[:500]
    assert response.is_json
    payload = response.get_json()
    assert payload["error"] and "psycopg" not in str(payload) and "127.0.0.1" not in str(payload)


class ConnectionDrop:
    """Fails the first statement that matches, as a connection dropped at that moment would."""

    def __init__(self, starts_with: str, table: str) -> None:
        self.starts_with, self.table, self.fired = starts_with, table, False

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        text = statement.lstrip().upper()
        if not self.fired and text.startswith(self.starts_with) and self.table in text:
            self.fired = True
            raise OperationalError(statement, {}, Exception("server closed the connection"))


@pytest.fixture
def drop_at(app: Flask) -> Iterator[Any]:
    installed: list[ConnectionDrop] = []

    def install(starts_with: str, table: str) -> ConnectionDrop:
        drop = ConnectionDrop(starts_with, table)
        event.listen(db.engine, "before_cursor_execute", drop)
        installed.append(drop)
        return drop

    yield install
    for drop in installed:
        event.remove(db.engine, "before_cursor_execute", drop)


def _counts(app_id: int) -> tuple[str, int, int]:
    db.session.expire_all()
    application = db.session.get(Application, app_id)
    assert application is not None
    events = db.session.scalar(
        select(func.count()).select_from(Event).where(Event.subject_id == str(app_id))
    )
    permits = db.session.scalar(select(func.count()).select_from(Permit))
    return application.status, int(events or 0), int(permits or 0)


def test_connection_lost_while_submitting_writes_nothing(
    city: Flask, client: FlaskClient, drop_at: Any, quiet_mail: None
) -> None:
    """The status change went out, then its event failed: the status must not stay changed."""
    sign_in(client, "resident", "mario@example.org", DEMO_RESIDENT)
    app_id = apply_online(client)
    page = f"/area-personale/domande/{app_id}"
    before = _counts(app_id)
    assert before[0] == "draft"

    drop = drop_at("INSERT", "EVENT")
    response = post_form(client, f"{page}/invia", page)

    assert drop.fired
    assert response.status_code == 503
    assert _counts(app_id) == before
    assert db.session.get(Application, app_id).payment_reference is None  # type: ignore[union-attr]
    # The database is back: the same request now goes through.
    assert post_form(client, f"{page}/invia", page).status_code == 303
    assert _counts(app_id)[0] == "submitted"


def test_connection_lost_while_issuing_leaves_no_permit_and_no_payment(
    city: Flask, client: FlaskClient, drop_at: Any, quiet_mail: None
) -> None:
    """Payment issues the permit in the same transaction; cut at the permit's plates, none stays."""
    sign_in(client, "resident", "mario@example.org", DEMO_RESIDENT)
    app_id = apply_online(client)
    page = f"/area-personale/domande/{app_id}"
    assert post_form(client, f"{page}/invia", page).status_code == 303
    before = _counts(app_id)
    assert before[0] == "submitted" and before[2] == 0

    drop = drop_at("INSERT", "PERMIT_PLATE")
    response = post_form(client, f"{page}/paga", page)

    assert drop.fired
    assert response.status_code == 503
    assert _counts(app_id) == before
    assert db.session.get(Application, app_id).paid_at is None  # type: ignore[union-attr]
    # Retried once the database is back: paid once, issued once.
    assert post_form(client, f"{page}/paga", page).status_code == 303
    status, _events, permits = _counts(app_id)
    assert (status, permits) == ("issued", 1)


def test_a_full_disk_during_an_upload_is_a_clear_message_and_leaves_nothing(
    city: Flask, client: FlaskClient, quiet_mail: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills up half-way through the file (ENOSPC on write): no row, no partial file."""
    import builtins
    import errno
    import io

    from ztl.infrastructure import uploads
    from ztl.models import Document

    sign_in(client, "resident", "mario@example.org", DEMO_RESIDENT)
    app_id = apply_online(client)
    page = f"/area-personale/domande/{app_id}"
    folder = uploads.upload_folder()
    stored_before = set(folder.iterdir()) if folder.exists() else set()
    real_open = builtins.open

    class FullDisk(io.BufferedWriter):
        def write(self, data: Any) -> int:
            super().write(bytes(data)[:10])
            self.flush()
            raise OSError(errno.ENOSPC, "No space left on device")

    def opening(path: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if mode == "xb" and Path(path).parent == folder:
            return FullDisk(io.FileIO(path, "xb"))
        return real_open(path, mode, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(uploads, "open", opening, raising=False)
        response = upload_document(client, page, "a.pdf")

    assert response.status_code == 303
    shown = client.get(page).get_data(as_text=True)
    assert "Non è stato possibile salvare il documento: riprova più tardi." in shown
    assert db.session.scalar(select(func.count()).select_from(Document)) == 0
    assert set(folder.iterdir()) == stored_before  # the partial file was removed
