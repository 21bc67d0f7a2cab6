"""The plate lookup recorder: batches written by the request that finds them due, or when idle.

Every answer about a plate is recorded (issue 6). Under load the request that finds the oldest
queued row older than ZTL_LOOKUP_FLUSH_SECONDS writes the batch itself; when no request comes, the
background thread writes it. The raw write must store instants exactly as the ORM column would.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.conftest import sign_in
from ztl.accounts.api_tokens import create_token
from ztl.extensions import db
from ztl.lookups.recorder import LookupRecorder, _write
from ztl.models import PlateLookup

ROME = dt.timezone(dt.timedelta(hours=1))


def _row(plate: str, **extra: Any) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    return {
        "asked_at": now,
        "token_id": None,
        "user_id": None,
        "actor_label": "gate-a1",
        "channel": "authorization",
        "plate": plate,
        "zone": "A",
        "at": now,
        "authorized": False,
        "pending_until": None,
        "reason": "nessun permesso / no permit",
        **extra,
    }


def _stored() -> int:
    db.session.expire_all()
    return int(db.session.scalar(select(func.count()).select_from(PlateLookup)) or 0)


def test_the_request_that_finds_the_batch_due_writes_it(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.config["ZTL_LOOKUP_FLUSH_SECONDS"] = 0.3
    try:
        recorder = LookupRecorder(app)
        monkeypatch.setattr(recorder, "_start", lambda interval: None)  # no background writer
        recorder.record([_row("AB123CD")])
        recorder.record([_row("AB124CD")])
        assert _stored() == 0  # queued: the oldest row is younger than the interval
        time.sleep(0.35)
        recorder.record([_row("AB125CD")])  # this request finds the batch due: written now
        assert _stored() == 3
    finally:
        app.config["ZTL_LOOKUP_FLUSH_SECONDS"] = 0


def test_when_no_request_comes_the_background_thread_writes_the_batch(app: Flask) -> None:
    app.config["ZTL_LOOKUP_FLUSH_SECONDS"] = 0.1
    try:
        recorder = LookupRecorder(app)
        recorder.record([_row("AB123CD")])
        deadline = time.monotonic() + 5
        while _stored() == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _stored() == 1
    finally:
        app.config["ZTL_LOOKUP_FLUSH_SECONDS"] = 0


def test_the_raw_write_stores_instants_as_the_orm_does(app: Flask) -> None:
    asked = dt.datetime(2026, 3, 29, 1, 59, 59, 123456, tzinfo=dt.UTC)
    pending = dt.datetime(2026, 3, 31, 3, 0, tzinfo=ROME)
    _write([_row("AB123CD", asked_at=asked, at=asked, pending_until=pending, authorized=True)])
    stored = db.session.scalars(select(PlateLookup)).one()
    assert stored.asked_at == asked and stored.asked_at.tzinfo is not None
    assert stored.pending_until == pending  # the same instant, read back in UTC
    assert stored.authorized is True and stored.plate == "AB123CD"
    with pytest.raises(ValueError, match="naive"):
        _write([_row("AB123CD", at=dt.datetime(2026, 1, 1, 12))])
    assert _stored() == 1  # the refused batch wrote nothing


def test_the_token_api_neither_reads_nor_writes_the_browser_session(
    city: Flask, client: FlaskClient
) -> None:
    """A signed-in browser's cookie rides along to a token endpoint: it is not even opened."""
    sign_in(client, "police", "vigile@comune.example.org")
    assert client.get("/api/v1/whoami").status_code == 401  # the cookie is no credential
    _, secret = create_token("gate-a1", "gate")
    answer = client.get(
        "/api/v1/authorizations/AB123CD?zone=A", headers={"Authorization": f"Bearer {secret}"}
    )
    assert answer.status_code == 200
    assert "Set-Cookie" not in answer.headers
    assert client.get("/polizia/").status_code == 200  # the browser session itself is intact


def test_a_database_refusing_the_batch_neither_fails_the_answer_nor_loses_the_rows(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    import ztl.lookups.recorder as module

    app.config["ZTL_LOOKUP_FLUSH_SECONDS"] = 0.1
    real_write = module._write
    refusals: list[int] = []

    def down_once(rows: list[dict[str, Any]]) -> None:
        if not refusals:
            refusals.append(len(rows))
            raise OperationalError("INSERT", {}, Exception("server closed the connection"))
        real_write(rows)

    monkeypatch.setattr(module, "_write", down_once)
    try:
        recorder = LookupRecorder(app)
        monkeypatch.setattr(recorder, "_start", lambda interval: None)  # requests write only
        recorder.record([_row("AB123CD")])
        time.sleep(0.12)
        recorder.record([_row("AB124CD")])  # due: the write fails, quietly, rows kept
        assert refusals == [2] and _stored() == 0
        recorder.record([_row("AB125CD")])  # within the retry pause: no new attempt
        assert _stored() == 0
        time.sleep(0.12)
        recorder.record([_row("AB126CD")])  # the database is back: everything goes in
        assert _stored() == 4
    finally:
        app.config["ZTL_LOOKUP_FLUSH_SECONDS"] = 0
