"""The transit ledger over HTTP, on SQLite and PostgreSQL: what a gate is told, what is kept.

The stream test is the issue's "done when": readings of authorized, later registered and
unauthorized plates end with exactly the expected violations, and the authorized plates leave
nothing in the database that was not there before the stream.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, inspect, select, text

from tests.factories import (
    DEMO_OWN_CAR,
    issue_resident,
    register_hotel_guest,
)
from ztl.accounts.api_tokens import create_token
from ztl.demo.generator import car_plate
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import unit_of_work
from ztl.models import Gate, Transit, TransitHourCount, Zone
from ztl.transits.retention import purge_transits
from ztl.transits.settlement import settle

STRANGER = car_plate(5_000_321)
OTHER_STRANGER = car_plate(5_000_322)
GUEST = car_plate(5_000_323)
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 200
GIF = b"GIF89a" + b"\x00" * 200


def _z(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _bearer(name: str, gate: str | None = None, role: str = "gate") -> dict[str, str]:
    _token, plaintext = create_token(name, role, gate=gate)
    return {"Authorization": f"Bearer {plaintext}"}


@pytest.fixture
def gate(city: Flask) -> dict[str, str]:
    return _bearer("concentratore")


def _push(client: FlaskClient, headers: dict[str, str], **reading: object) -> tuple[int, dict]:
    response = client.post("/api/v1/transits", json=reading, headers=headers)
    return response.status_code, response.get_json()


def _row(source_id: str) -> Transit:
    row = db.session.scalar(select(Transit).where(Transit.source_id == source_id))
    assert row is not None, source_id
    return row


def _pictures(app: Flask) -> set[str]:
    folder = Path(app.config["ZTL_UPLOAD_DIR"])
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def test_an_authorized_reading_keeps_no_plate_and_a_repeat_gets_the_first_answer(
    city: Flask, client: FlaskClient, gate: dict[str, str]
) -> None:
    issue_resident()
    pictures = _pictures(city)
    reading = {"id": "A1-1", "gate": "A1", "plate": DEMO_OWN_CAR, "at": _z(_now())}
    status, answer = _push(client, gate, **reading, image=base64.b64encode(JPEG).decode())
    assert status == 201
    assert answer == {
        "gate": "A1",
        "id": "A1-1",
        "outcome": "authorized",
        "pending_until": None,
        "repeat": False,
    }
    row = _row("A1-1")
    assert (row.plate, row.read_at, row.image_file, row.considered) == (None, None, None, None)
    assert row.hour == _now().replace(minute=0, second=0)
    assert _pictures(city) == pictures  # the picture was never written

    status, again = _push(client, gate, **reading)
    assert status == 200
    assert again == {**answer, "repeat": True}
    assert db.session.scalar(select(func.count()).select_from(Transit)) == 1


def test_an_unauthorized_reading_is_pending_then_a_violation(
    city: Flask, client: FlaskClient, gate: dict[str, str]
) -> None:
    at = _now() - dt.timedelta(hours=1)
    picture = base64.b64encode(JPEG).decode()
    status, answer = _push(
        client,
        gate,
        id="A1-2",
        gate="a1",
        plate="ab 123-cd",
        at=_z(at),
        direction="in",
        confidence=0.91,
        image=picture,
        image_ref="https://varchi.example/A1/2.jpg",
    )
    assert status == 201, answer
    assert answer["outcome"] == "pending"
    assert answer["pending_until"] == _z(at + dt.timedelta(hours=48))  # Prato's hotel window
    row = _row("A1-2")
    assert (row.plate, row.zone, row.confidence, row.direction) == ("AB123CD", "A", 91, "in")
    assert row.read_at == at and row.image_type == "image/jpeg"
    picture_path = Path(city.config["ZTL_UPLOAD_DIR"]) / str(row.image_file)
    assert picture_path.read_bytes() == JPEG
    assert stat.S_IMODE(os.stat(picture_path).st_mode) == 0o600

    assert settle(at + dt.timedelta(hours=47)).violations == 0
    db.session.expire_all()
    assert _row("A1-2").status == "pending"
    settled = settle(at + dt.timedelta(hours=48, seconds=1))
    assert settled.violations == 1
    db.session.expire_all()
    row = _row("A1-2")
    assert row.status == "violation"
    assert row.notify_by == at.date() + dt.timedelta(days=90)
    assert json.loads(str(row.considered)) == []  # the plate held no permit
    assert settle(at + dt.timedelta(hours=49)).violations == 0  # nothing moves twice


def test_a_reading_at_an_unknown_gate_is_held_not_refused(
    city: Flask, client: FlaskClient, gate: dict[str, str]
) -> None:
    status, answer = _push(client, gate, id="Q-1", gate="Q9", plate=STRANGER, at=_z(_now()))
    assert (status, answer["outcome"]) == (201, "held")
    row = _row("Q-1")
    assert (row.status, row.plate, row.zone) == ("held", STRANGER, None)
    assert settle(_now() + dt.timedelta(days=3)).judged == 0  # still unknown: still held


def test_a_gate_bound_token_files_for_its_own_gate_only(city: Flask, client: FlaskClient) -> None:
    a1 = _bearer("varco-a1", gate="a1")
    status, answer = _push(client, a1, id="own-1", plate=STRANGER, at=_z(_now()))
    assert (status, answer["gate"]) == (201, "A1")
    status, refused = _push(client, a1, id="own-2", gate="A2", plate=STRANGER, at=_z(_now()))
    assert status == 400 and "A1" in refused["message"]
    police = _bearer("pattuglia", role="police")
    status, _answer = _push(client, police, id="p-1", gate="A1", plate=STRANGER, at=_z(_now()))
    assert status == 403
    assert client.post("/api/v1/transits", json={}).status_code == 401


def test_readings_that_cannot_be_taken_are_refused_and_nothing_is_kept(
    city: Flask, client: FlaskClient, gate: dict[str, str]
) -> None:
    now = _now()
    pictures = _pictures(city)
    good = {"id": "ok-1", "gate": "A1", "plate": STRANGER, "at": _z(now)}
    bad = [
        ({k: v for k, v in good.items() if k != "id"}, "id"),
        ({**good, "id": "-starts-with-a-dash"}, "id"),
        ({**good, "id": "x" * 65}, "id"),
        ({**good, "plate": "AB*123"}, "'plate' must be 1-12 letters and digits"),
        ({**good, "image_ref": "https://x.example/\x00"}, "control characters"),
        ({**good, "at": "2026-12-06T10:00:00"}, "fuso"),
        ({**good, "at": "not a time"}, "at"),
        ({**good, "at": _z(now + dt.timedelta(minutes=6))}, "ahead"),
        ({**good, "at": _z(now - dt.timedelta(hours=73))}, "past"),
        ({**good, "gate": "A 1"}, "gate"),
        ({**good, "direction": "up"}, "direction"),
        ({**good, "confidence": 1.5}, "confidence"),
        ({**good, "image": "not base64!"}, "base64"),
        ({**good, "image": base64.b64encode(GIF).decode()}, "JPEG or PNG"),
        ({**good, "image": base64.b64encode(b"\xff\xd8\xff" * 200_000).decode()}, "KB"),
        ({**good, "image": ""}, "image"),
    ]
    for body, words in bad:
        response = client.post("/api/v1/transits", json=body, headers=gate)
        assert response.status_code == 400, (body, response.get_data(as_text=True))
        assert words.lower() in response.get_json()["message"].lower(), (words, response.json)
    not_json = client.post(
        "/api/v1/transits", data="{", headers={**gate, "Content-Type": "application/json"}
    )
    assert not_json.status_code == 400
    assert client.post("/api/v1/transits", json=[good], headers=gate).status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Transit)) == 0
    assert _pictures(city) == pictures


def _database_text() -> str:
    """Every value of every table, as text: where a plate could be, whatever the column."""
    parts = []
    for table in sorted(inspect(db.engine).get_table_names()):
        for row in db.session.execute(text(f'SELECT * FROM "{table}"')):  # noqa: S608
            parts.append(" ".join(str(value) for value in row))
    return "\n".join(parts)


def test_a_stream_ends_with_exactly_the_expected_violations(
    city: Flask, client: FlaskClient, gate: dict[str, str]
) -> None:
    """Authorized, later registered and unauthorized plates through the API, then settlement."""
    issue_resident()
    start = _now() - dt.timedelta(hours=2)
    before = _database_text()
    assert STRANGER not in before and GUEST not in before
    stream = [
        ("s-1", "A1", DEMO_OWN_CAR, 0),  # a resident's permit
        ("s-2", "A2", GUEST, 1),  # a hotel registers the guest after the camera saw the car
        ("s-3", "A1", STRANGER, 2),  # nobody ever covers it
        ("s-4", "A3", OTHER_STRANGER, 3),
        ("s-5", "A1", DEMO_OWN_CAR, 4),
        ("s-3", "A1", STRANGER, 2),  # a gate sending a reading again
    ]
    outcomes = []
    for source_id, gate_code, plate, minute in stream:
        at = start + dt.timedelta(minutes=minute)
        status, answer = _push(client, gate, id=source_id, gate=gate_code, plate=plate, at=_z(at))
        assert status in (200, 201), answer
        outcomes.append(answer["outcome"])
    assert outcomes == ["authorized", "pending", "pending", "pending", "authorized", "pending"]

    register_hotel_guest(GUEST, start - dt.timedelta(minutes=10))

    assert settle(_now()).cleared == 1  # the guest, at once: the window need not close first
    settled = settle(start + dt.timedelta(hours=49))
    assert (settled.cleared, settled.violations) == (0, 2)
    db.session.expire_all()
    violations = db.session.scalars(
        select(Transit.plate).where(Transit.status == "violation").order_by(Transit.plate)
    ).all()
    assert violations == sorted([STRANGER, OTHER_STRANGER])
    assert _row("s-2").status == "cleared" and _row("s-2").plate is None
    # The permit holder's plate is where its permit put it, and nowhere else; the guest's plate is
    # in the registration that covered it (its permit), never in the ledger or the lookups.
    assert _database_text().count(DEMO_OWN_CAR) == before.count(DEMO_OWN_CAR)
    ledger = [*db.session.execute(text("SELECT * FROM transit"))]
    ledger += [*db.session.execute(text("SELECT * FROM plate_lookup"))]
    assert GUEST not in " ".join(str(value) for row in ledger for value in row)


def test_retention_folds_covered_readings_into_counts_and_forgets_dismissed_plates(
    city: Flask, client: FlaskClient, gate: dict[str, str]
) -> None:
    issue_resident()
    now = _now()
    for n in range(3):
        _push(client, gate, id=f"r-{n}", gate="A1", plate=DEMO_OWN_CAR, at=_z(now))
    _push(client, gate, id="r-x", gate="A1", plate=STRANGER, at=_z(now))
    _push(client, gate, id="r-q", gate="Q9", plate=STRANGER, at=_z(now))
    later = now + dt.timedelta(days=8)
    purged = purge_transits(later)
    assert (purged.folded, purged.anonymised) == (3, 1)  # the unknown gate's reading forgets
    counts = db.session.scalars(select(TransitHourCount)).all()
    assert [(c.gate, c.authorized) for c in counts] == [("A1", 3)]
    db.session.expire_all()
    assert _row("r-x").plate == STRANGER  # pending: kept until decided
    assert _row("r-q").plate is None
    assert purge_transits(later) == purged.__class__(0, 0, 0, purged.days, purged.cutoff)


def test_the_command_line_ingests_a_file_once(city: Flask, tmp_path: Path) -> None:
    now = _now()
    lines = [
        json.dumps({"id": "f-1", "gate": "A1", "plate": STRANGER, "at": _z(now)}),
        json.dumps({"id": "f-2", "gate": "A1", "plate": OTHER_STRANGER, "at": _z(now)}),
        "{not json",
        json.dumps({"id": "f-3", "gate": "A1", "plate": STRANGER, "at": "2026-01-01T10:00"}),
    ]
    path = tmp_path / "readings.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(city.cli, ["transits", "ingest", str(path)], catch_exceptions=False)
    assert result.exit_code == 2, result.output
    assert "2 readings kept (2 pending), 0 repeats, 2 unreadable" in result.output
    assert "line 3:" in result.output and "line 4:" in result.output
    csv_path = tmp_path / "readings.csv"
    csv_path.write_text(f"id,gate,plate,at\nf-1,A1,{STRANGER},{_z(now)}\n", encoding="utf-8")
    again = runner.invoke(city.cli, ["transits", "ingest", str(csv_path)])
    assert again.exit_code == 0, again.output
    assert "0 readings kept (none), 1 repeats" in again.output
    settled = runner.invoke(
        city.cli, ["transits", "settle", "--now", _z(now + dt.timedelta(hours=49))]
    )
    assert settled.exit_code == 0
    assert "2 new violations" in settled.output


def test_a_picture_that_cannot_be_stored_keeps_nothing_and_asks_the_gate_to_retry(
    city: Flask, client: FlaskClient, gate: dict[str, str], tmp_path: Path
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    folder = city.config["ZTL_UPLOAD_DIR"]
    city.config["ZTL_UPLOAD_DIR"] = str(blocked / "uploads")
    try:
        picture = base64.b64encode(JPEG).decode()
        status, answer = _push(
            client, gate, id="disk-1", gate="A1", plate=STRANGER, at=_z(_now()), image=picture
        )
    finally:
        city.config["ZTL_UPLOAD_DIR"] = folder
    assert status == 503 and answer["error"] == "transit_storage"
    assert db.session.scalar(select(func.count()).select_from(Transit)) == 0
    status, answer = _push(client, gate, id="disk-1", gate="A1", plate=STRANGER, at=_z(_now()))
    assert (status, answer["repeat"]) == (201, False)  # the retry is the first one kept


def test_a_held_reading_is_judged_once_its_gate_is_configured(
    city: Flask, client: FlaskClient, gate: dict[str, str]
) -> None:
    at = _now() - dt.timedelta(hours=1)
    status, answer = _push(client, gate, id="new-1", gate="A9", plate=STRANGER, at=_z(at))
    assert (status, answer["outcome"]) == (201, "held")
    assert settle(_now()).judged == 0
    with unit_of_work() as session:  # the gate reaches the database (ztl db upgrade would)
        zone_a = session.scalar(select(Zone.id).where(Zone.code == "A"))
        session.add(Gate(code="A9", name="Varco nuovo", zone_id=zone_a, direction="in"))
    settled = settle(_now())
    assert (settled.judged, settled.violations, settled.cleared) == (1, 0, 0)
    db.session.expire_all()
    row = _row("new-1")
    assert (row.status, row.zone, row.answer) == ("pending", "A", "held")
    assert row.pending_until == at + dt.timedelta(hours=48)
    status, again = _push(client, gate, id="new-1", gate="A9", plate=STRANGER, at=_z(at))
    assert (status, again["outcome"]) == (200, "held")  # a repeat gets the first answer


def test_the_command_line_stops_clearly_when_a_picture_cannot_be_stored(
    city: Flask, tmp_path: Path
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    picture = base64.b64encode(JPEG).decode()
    line = {"id": "f-disk", "gate": "A1", "plate": STRANGER, "at": _z(_now()), "image": picture}
    path = tmp_path / "readings.jsonl"
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    folder = city.config["ZTL_UPLOAD_DIR"]
    city.config["ZTL_UPLOAD_DIR"] = str(blocked / "uploads")
    try:
        result = CliRunner().invoke(city.cli, ["transits", "ingest", str(path)])
    finally:
        city.config["ZTL_UPLOAD_DIR"] = folder
    assert result.exit_code == 1, result.output
    assert "0 readings kept before" in result.output and "Traceback" not in result.output
    assert db.session.scalar(select(func.count()).select_from(Transit)) == 0
