"""The situation room: each gate's figures and the alarms as of a given instant, the page that
shows them to supervisors and the police only, and the event stream that keeps it up to date."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import audit, csrf_token, problems_of, sign_in
from ztl.city import sync_city
from ztl.city.rules_config import current_rules
from ztl.extensions import db
from ztl.models import Gate, Transit, TransitRefusal, Zone
from ztl.models.enums import TransitStatus
from ztl.transits.situation import SERIES_MINUTES, AlarmKind, Situation, situation
from ztl.web.situation import views

NOW = dt.datetime(2026, 12, 7, 10, 30, 0, tzinfo=dt.UTC)
ROOM = "/sala-operativa/"
KNOWN = ("A1", "A2", "A3", "A4", "A5", "A6")  # the demo city's gates (prato.toml)
_ids = itertools.count(1)


@pytest.fixture
def gates(app: Flask) -> Flask:
    """The rules file's zones and gates, nothing else."""
    sync_city(current_rules())
    db.session.commit()
    return app


def reading(
    gate: str,
    received_at: dt.datetime,
    status: TransitStatus = TransitStatus.AUTHORIZED,
    skew: int = 0,
) -> None:
    at = received_at + dt.timedelta(seconds=skew)
    db.session.add(
        Transit(
            gate=gate,
            source_id=f"{gate}-{next(_ids)}",
            received_at=received_at,
            hour=at.replace(minute=0, second=0, microsecond=0),
            skew_seconds=skew,
            channel="http",
            answer=status.value,
            status=status.value,
            zone="A" if gate in KNOWN else None,
        )
    )


def refusal(gate: str | None, received_at: dt.datetime) -> None:
    db.session.add(
        TransitRefusal(received_at=received_at, channel="mqtt", gate=gate, reason="'plate' ...")
    )


def ago(**delta: float) -> dt.datetime:
    return NOW - dt.timedelta(**delta)


def _gate(found: Situation, code: str) -> Any:
    return next(g for g in found.gates if g.code == code)


def _alarms(found: Situation) -> set[tuple[str, str | None]]:
    return {(alarm.kind.value, alarm.gate) for alarm in found.alarms}


def _busy_everywhere() -> None:
    """A reading a minute ago at every known gate: none of them is silent."""
    for code in KNOWN:
        reading(code, ago(seconds=30))


# --- the figures -------------------------------------------------------------------------------


def test_readings_per_minute_and_waiting_per_gate(gates: Flask) -> None:
    _busy_everywhere()
    for seconds in (1, 20, 59):
        reading("A1", ago(seconds=seconds))
    reading("A1", ago(seconds=60))  # exactly a minute ago: the minute before
    reading("A1", ago(minutes=5, seconds=30), TransitStatus.PENDING)
    reading("A1", ago(minutes=5, seconds=40), TransitStatus.PENDING)
    reading("A1", ago(minutes=29, seconds=59), TransitStatus.VIOLATION)
    reading("A1", ago(minutes=31))  # before the sparkline
    reading("A1", ago(days=3), TransitStatus.VIOLATION)  # still waiting for an officer
    reading("A1", NOW + dt.timedelta(seconds=5))  # after `now`: not yet
    reading("A2", ago(minutes=2), TransitStatus.CONFIRMED)  # reviewed: waits for nobody
    db.session.commit()

    found = situation(NOW)

    assert [g.code for g in found.gates] == list(KNOWN)
    a1 = _gate(found, "A1")
    assert a1.name == "Piazza Sant'Antonino" and a1.zone == "A" and a1.known
    assert len(a1.series) == SERIES_MINUTES
    assert a1.last_minute == 4  # three of the test's and the one of _busy_everywhere
    assert a1.series[-2] == 1  # 60 s ago
    assert a1.series[-6] == 2  # 5 minutes and a half ago
    assert a1.series[0] == 1  # 29:59 ago
    assert a1.recent == 8
    assert (a1.pending, a1.violations, a1.held, a1.refused) == (2, 2, 0, 0)
    assert a1.last_reading == ago(seconds=1)
    assert a1.skew_seconds == 0
    a2 = _gate(found, "A2")
    assert (a2.last_minute, a2.recent, a2.pending, a2.violations) == (1, 2, 0, 0)
    assert found.alarms == ()
    assert found.totals == {
        "last_minute": 9,
        "pending": 2,
        "violations": 2,
        "held": 0,
        "refused": 0,
        "alarms": 0,
    }


def test_a_gate_silent_longer_than_the_rules_allow_is_an_alarm(gates: Flask) -> None:
    silent = current_rules().transits.silent_minutes
    _busy_everywhere()
    db.session.execute(sa.delete(Transit).where(Transit.gate.in_(["A2", "A3"])))
    reading("A2", ago(minutes=silent, seconds=1))  # just over the limit
    reading("A3", ago(minutes=silent - 1))  # just within it
    db.session.commit()

    found = situation(NOW)

    assert _alarms(found) == {("silent", "A2")}
    (alarm,) = found.alarms
    assert alarm.since == ago(minutes=silent, seconds=1)
    assert _gate(found, "A2").alarms == (AlarmKind.SILENT,)
    assert _gate(found, "A3").alarms == ()
    # A gate that never sent anything is silent too, with no last reading.
    db.session.execute(sa.delete(Transit).where(Transit.gate == "A4"))
    db.session.commit()
    later = situation(NOW)
    a4 = next(a for a in later.alarms if a.gate == "A4")
    assert a4.kind is AlarmKind.SILENT and a4.since is None


def test_a_gate_whose_readings_arrive_out_of_step_is_an_alarm(gates: Flask) -> None:
    limit = current_rules().transits.clock_alarm_seconds
    _busy_everywhere()
    for minute in range(5):  # A2's clock runs ahead
        reading("A2", ago(minutes=minute, seconds=10), skew=limit + 80)
    for minute in range(5):  # A3 sends its readings late
        reading("A3", ago(minutes=minute, seconds=10), skew=-(limit + 1))
    for minute in range(5):  # A4 is in step, with one reading from its backlog
        reading("A4", ago(minutes=minute, seconds=10), skew=3)
    reading("A4", ago(minutes=6), skew=-3_600)
    for minute in range(5):  # A5 was out of step, half an hour ago
        reading("A5", ago(minutes=40 + minute), skew=900)
    db.session.commit()

    found = situation(NOW)

    assert _alarms(found) == {("clock", "A2"), ("clock", "A3")}
    by_gate = {alarm.gate: alarm for alarm in found.alarms}
    assert by_gate["A2"].seconds == limit + 80
    assert by_gate["A3"].seconds == -(limit + 1)
    assert _gate(found, "A4").skew_seconds == 3  # the median: one late reading is no alarm
    assert _gate(found, "A5").skew_seconds == 0  # its out-of-step readings are too old to count


def test_a_gate_the_city_does_not_know_is_an_alarm(gates: Flask) -> None:
    _busy_everywhere()
    reading("Z9", ago(seconds=10), TransitStatus.HELD)
    reading("Z9", ago(minutes=3), TransitStatus.HELD)
    reading("Y1", ago(days=2), TransitStatus.HELD)  # held long ago: listed, no longer an alarm
    db.session.commit()

    found = situation(NOW)

    assert [g.code for g in found.gates] == [*KNOWN, "Y1", "Z9"]  # known gates first
    z9 = _gate(found, "Z9")
    assert not z9.known and z9.name is None and z9.zone is None
    assert (z9.last_minute, z9.held, z9.alarms) == (1, 2, (AlarmKind.UNKNOWN_GATE,))
    y1 = _gate(found, "Y1")
    assert (y1.held, y1.alarms, y1.last_reading) == (1, (), None)
    assert _alarms(found) == {("unknown_gate", "Z9")}
    (alarm,) = found.alarms
    assert (alarm.count, alarm.since, alarm.key) == (2, ago(seconds=10), "unknown_gate:Z9")
    assert found.totals["held"] == 3


def test_refused_messages_of_the_last_hour_are_an_alarm(gates: Flask) -> None:
    _busy_everywhere()
    refusal("A1", ago(minutes=1))
    refusal("A1", ago(minutes=59))
    refusal("A1", ago(minutes=61))  # more than an hour ago
    refusal(None, ago(minutes=2))
    refusal("Q7", ago(minutes=3))  # a gate name nobody configured, whose messages are unreadable
    db.session.commit()

    found = situation(NOW)

    assert _gate(found, "A1").refused == 2
    assert _gate(found, "Q7").refused == 1
    assert _alarms(found) == {("refusals", "A1"), ("refusals", "Q7"), ("refusals", None)}
    counts = {alarm.gate: alarm.count for alarm in found.alarms}
    assert counts == {"A1": 2, "Q7": 1, None: 1}
    assert found.refused_without_gate == 1
    assert found.totals["refused"] == 4


def test_a_refresh_costs_the_same_few_queries_whatever_the_number_of_gates(gates: Flask) -> None:
    zone = db.session.scalar(sa.select(Zone).where(Zone.code == "A"))
    assert zone is not None

    def statements() -> int:
        seen: list[str] = []

        def count(*args: Any) -> None:
            seen.append(str(args[2]))

        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            situation(NOW)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
        return len(seen)

    _busy_everywhere()
    db.session.commit()
    few = statements()
    for number in range(40):
        db.session.add(Gate(code=f"B{number}", name=f"Varco {number}", zone_id=zone.id))
        reading(f"B{number}", ago(minutes=number % 20), TransitStatus.PENDING, skew=number)
        reading(f"U{number}", ago(minutes=1), TransitStatus.HELD)
        refusal(f"B{number}", ago(minutes=2))
    db.session.commit()
    assert len(situation(NOW).gates) == 86
    assert statements() == few <= 5


def test_now_must_be_aware(gates: Flask) -> None:
    with pytest.raises(ValueError):
        situation(NOW.replace(tzinfo=None))


# --- the page ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["supervisor", "police", "admin"])
def test_supervisors_and_the_police_see_the_room(
    gates: Flask, client: FlaskClient, role: str
) -> None:
    reading("A1", dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5))
    reading("Z9", dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5), TransitStatus.HELD)
    db.session.commit()
    sign_in(client, role)

    response = client.get("/sala-operativa/")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert problems_of(audit(html), "it") == []
    assert "Sala operativa" in html
    assert 'data-gate="A1"' in html and 'data-gate="Z9"' in html
    assert "Il varco Z9, sconosciuto alla città, sta inviando letture" in html
    assert "Varco A2 (Via Ricasoli): nessuna lettura negli ultimi 30 minuti." in html
    assert 'aria-live="polite"' in html
    assert "/static/js/situation-room." in html and "<script>" not in html
    assert " style=" not in html
    assert 'href="/sala-operativa/"' in html  # the reload link, for a browser without script
    assert 'data-stream="/sala-operativa/eventi"' in html
    # 30 bars per gate, drawn with presentation attributes only (and the blank row's 30).
    assert html.count('class="ztl-spark-bar"') == SERIES_MINUTES * (len(KNOWN) + 2)


@pytest.mark.parametrize("role", ["clerk", "resident"])
def test_other_roles_may_not_open_the_room_or_its_stream(
    gates: Flask, client: FlaskClient, role: str
) -> None:
    sign_in(client, role)
    assert client.get("/sala-operativa/").status_code == 403
    assert client.get("/sala-operativa/eventi").status_code == 403


def test_a_visitor_is_sent_to_sign_in(gates: Flask, client: FlaskClient) -> None:
    for path in ("/sala-operativa/", "/sala-operativa/eventi"):
        response = client.get(path)
        assert response.status_code == 302 and "/accedi" in response.headers["Location"]


def test_the_homes_link_to_the_room(gates: Flask, client: FlaskClient) -> None:
    sign_in(client, "supervisor")
    assert 'href="/sala-operativa/"' in client.get("/supervisione/").get_data(as_text=True)


def test_the_room_speaks_english_on_request(gates: Flask, client: FlaskClient) -> None:
    sign_in(client, "police")
    client.post("/lingua", data={"lang": "en", "next": "/", "csrf_token": csrf_token(client, ROOM)})
    html = client.get("/sala-operativa/").get_data(as_text=True)
    assert problems_of(audit(html), "en") == []


# --- the stream --------------------------------------------------------------------------------


def _events(body: str) -> Iterator[dict[str, Any]]:
    for block in body.split("\n\n"):
        if block.startswith("data: "):
            yield json.loads(block.removeprefix("data: "))


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


def test_the_stream_sends_the_figures_as_events(
    gates: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "INTERVAL_SECONDS", 0.01)
    monkeypatch.setitem(gates.config, "ZTL_ROOM_STREAM_SECONDS", 0.03)  # three ticks
    now = dt.datetime.now(dt.UTC)
    for seconds in (2, 4, 6):
        reading("A1", now - dt.timedelta(seconds=seconds))
    reading("A1", now - dt.timedelta(minutes=3), TransitStatus.VIOLATION, skew=400)
    reading("Z9", now - dt.timedelta(seconds=3), TransitStatus.HELD)
    db.session.commit()
    sign_in(client, "police")

    response = client.get("/sala-operativa/eventi")

    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["X-Accel-Buffering"] == "no"
    body = response.get_data(as_text=True)  # the stream ends by itself
    assert body.startswith("retry: 1000\n\n")
    events = list(_events(body))
    assert len(events) == 3
    for event in events:
        gates_by_code = {g["code"]: g for g in event["gates"]}
        a1 = gates_by_code["A1"]
        assert a1["cells"]["last_minute"] == "3"
        assert a1["cells"]["violations"] == "1"
        assert len(a1["spark"]["bars"]) == SERIES_MINUTES
        assert a1["spark"]["bars"][-1][1] > 0  # the last minute's bar is drawn
        assert gates_by_code["Z9"]["alarm"] and gates_by_code["Z9"]["cells"]["held"] == "1"
        keys = {alarm["key"] for alarm in event["alarms"]}
        assert {"unknown_gate:Z9", "silent:A2"} <= keys
        assert "clock:A1" not in keys  # one reading of four out of step: the median is 0
        assert event["totals"]["last_minute"] == "4"
        assert not [key for key in _keys(event) if key == "id" or key.endswith("_id")]


def test_the_page_and_the_stream_say_the_same(
    gates: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(gates.config, "ZTL_ROOM_STREAM_SECONDS", 0.001)  # one event
    reading("Z9", dt.datetime.now(dt.UTC) - dt.timedelta(seconds=3), TransitStatus.HELD)
    db.session.commit()
    sign_in(client, "supervisor")
    html = client.get("/sala-operativa/").get_data(as_text=True)
    (event,) = _events(client.get("/sala-operativa/eventi").get_data(as_text=True))
    for alarm in event["alarms"]:
        assert alarm["text"].replace("'", "&#39;") in html
    for gate in event["gates"]:
        assert f'data-gate="{gate["code"]}"' in html
