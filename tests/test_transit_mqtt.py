"""Gates that publish over MQTT, against a real Mosquitto (tests/mqtt_broker.py), on SQLite and
PostgreSQL.

The broker runs with passwords and the access list `ztl transits mqtt-acl` prints, so what the
broker refuses is refused by the broker, not by us. The subscriber runs in a thread of this process
(its own app contexts and sessions), except where it must die: there it is the real command,
`ztl transits subscribe`, in a process of its own, killed with SIGKILL while the database is
locked, between receiving a reading and committing it.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from tests.factories import DEMO_OWN_CAR, issue_resident
from tests.mqtt_broker import Broker, ConnectRefused, mosquitto_missing, run_broker
from ztl.demo.generator import car_plate
from ztl.extensions import db
from ztl.models import Transit, TransitRefusal
from ztl.transits.mqtt import (
    MAX_PAYLOAD,
    BadSettings,
    BrokerRefused,
    MqttSettings,
    Subscriber,
    settings_from,
)

pytestmark = pytest.mark.skipif(mosquitto_missing() is not None, reason=str(mosquitto_missing()))

ROOT = Path(__file__).resolve().parent.parent
SUBSCRIBER = "ztl-subscriber"
USERS = {
    SUBSCRIBER: "subscriber-password-0123",
    "A1": "gate-a1-password-0123",
    "A2": "gate-a2-password-0123",
    "a1": "not-a-gate-password-0123",  # a broker user whose name is not a gate code
}
STRANGER = car_plate(5_000_421)
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 200
GIF = b"GIF89a" + b"\x00" * 200


def _z(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _reading(source_id: str, plate: str = STRANGER, **extra: Any) -> dict[str, Any]:
    at = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=1)
    return {"id": source_id, "plate": plate, "at": _z(at), "confidence": 0.93, **extra}


def _acl(runner: FlaskCliRunner, *options: str) -> str:
    result = runner.invoke(args=["transits", "mqtt-acl", "--subscriber", SUBSCRIBER, *options])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def broker(city: Flask, runner: FlaskCliRunner, tmp_path: Path) -> Iterator[Broker]:
    """A broker with the pattern access list (the command's default)."""
    with run_broker(tmp_path / "broker", USERS, _acl(runner)) as running:
        yield running


def _settings(broker: Broker, user: str = SUBSCRIBER, **extra: Any) -> MqttSettings:
    return settings_from(
        {
            "ZTL_MQTT_URL": broker.url(user),
            "ZTL_MQTT_CLIENT_ID": "ztl-test-subscriber",
            "ZTL_MQTT_BATCH_SECONDS": 0.02,
            **extra,
        }
    )


@contextmanager
def subscribed(app: Flask, settings: MqttSettings) -> Iterator[Subscriber]:
    """The subscriber running in a thread, subscribed; stopped and disconnected on leaving."""
    subscriber = Subscriber(app, settings)
    failures: list[BaseException] = []

    def run() -> None:
        try:
            subscriber.run()
        except BaseException as exc:  # shown by the test, not lost in the thread
            failures.append(exc)

    subscriber.start()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        assert subscriber.ready.wait(10), "the subscriber did not subscribe"
        yield subscriber
    finally:
        subscriber.stop()
        thread.join(10)
        subscriber.close()
    assert not failures, failures


def _publish(client: mqtt.Client, gate: str, payload: Any) -> None:
    """Publish at QoS 1 and wait for the broker's PUBACK."""
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    info = client.publish(f"ztl/transits/{gate}/transits", data, qos=1)
    info.wait_for_publish(5)
    assert info.is_published()


def _transits() -> dict[str, tuple[str, str, str, str | None]]:
    """id -> (gate, answer, channel, plate), as committed now."""
    db.session.rollback()  # no snapshot of our own: see what the subscriber committed
    rows = db.session.execute(
        select(Transit.source_id, Transit.gate, Transit.answer, Transit.channel, Transit.plate)
    )
    return {r.source_id: (r.gate, r.answer, r.channel, r.plate) for r in rows}


def _refusals() -> list[tuple[str | None, str | None, str, str]]:
    db.session.rollback()
    rows = db.session.execute(
        select(
            TransitRefusal.gate,
            TransitRefusal.source_id,
            TransitRefusal.channel,
            TransitRefusal.reason,
        ).order_by(TransitRefusal.id)
    )
    return [(r.gate, r.source_id, r.channel, r.reason) for r in rows]


def _wait_for(check: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_readings_published_by_a_gate_reach_the_ledger_once(city: Flask, broker: Broker) -> None:
    issue_resident()
    gate = broker.publisher("A1")
    with subscribed(city, _settings(broker)) as subscriber:
        _publish(gate, "A1", _reading("A1-1", DEMO_OWN_CAR.lower()))
        _publish(gate, "A1", _reading("A1-2", gate="A1", direction="in"))
        _publish(gate, "A1", _reading("A1-2", gate="A1", direction="in"))  # sent again
        _wait_for(lambda: subscriber.tally.recorded + subscriber.tally.repeats == 3)
    gate.disconnect()
    ledger = _transits()
    assert ledger == {
        "A1-1": ("A1", "authorized", "mqtt", None),  # no plate kept
        "A1-2": ("A1", "pending", "mqtt", STRANGER),
    }
    assert (subscriber.tally.recorded, subscriber.tally.repeats) == (2, 1)
    assert _refusals() == []


def test_the_broker_admits_gates_by_password_and_to_their_own_topic_only(
    city: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    for style in ("pattern", "per-gate"):
        acl = _acl(runner, *(["--per-gate"] if style == "per-gate" else []))
        assert ("user A6\ntopic write ztl/transits/A6/transits" in acl) == (style == "per-gate")
        assert f"user {SUBSCRIBER}\ntopic read ztl/transits/+/transits" in acl
        with run_broker(tmp_path / style, USERS, acl) as broker:
            _only_own_topics(city, broker, style)
            if style == "pattern":
                _wrong_passwords_refused(city, broker)
    assert _refusals() == []


def _only_own_topics(app: Flask, broker: Broker, style: str) -> None:
    a1, a2 = broker.publisher("A1"), broker.publisher("A2")
    snooped: list[str] = []
    a1.on_message = lambda _c, _u, message: snooped.append(message.topic)
    a1.subscribe("ztl/transits/+/transits", qos=1)  # a gate reads nobody's readings
    with subscribed(app, _settings(broker)) as subscriber:
        _publish(a1, "A2", _reading(f"forged-{style}"))  # A1's user on A2's topic
        _publish(a1, "A1", _reading(f"A1-{style}"))
        _publish(a2, "A2", _reading(f"A2-{style}"))
        _wait_for(lambda: subscriber.tally.recorded == 2)
    a1.disconnect()
    a2.disconnect()
    ledger = {k: v[0] for k, v in _transits().items() if k.endswith(style)}
    assert ledger == {f"A1-{style}": "A1", f"A2-{style}": "A2"}
    assert subscriber.tally.received == 2  # the forged one never reached us
    assert snooped == []


def _wrong_passwords_refused(app: Flask, broker: Broker) -> None:
    with pytest.raises(ConnectRefused, match=r"Not authorized|Bad user name or password"):
        broker.publisher("A1", password="guessed-password")
    settings = settings_from({"ZTL_MQTT_URL": broker.url(SUBSCRIBER), "ZTL_MQTT_PASSWORD": "no"})
    subscriber = Subscriber(app, settings)
    subscriber.start()
    try:
        with pytest.raises(BrokerRefused, match="refused the connection"):
            subscriber.run(seconds=10)
    finally:
        subscriber.close()
    assert not subscriber.ready.is_set()


def test_messages_that_are_not_readings_are_refused_and_the_others_kept(
    city: Flask, broker: Broker
) -> None:
    a1, lower = broker.publisher("A1"), broker.publisher("a1")
    future = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    bad: list[tuple[mqtt.Client, str, Any]] = [
        (a1, "A1", b"\xff\xfe not json"),
        (a1, "A1", [_reading("in-a-list")]),
        (a1, "A1", _reading("bad-plate", plate="!!!")),
        (a1, "A1", _reading("ahead", at=_z(future))),
        (a1, "A1", _reading("gif", image=base64.b64encode(GIF).decode())),
        (a1, "A1", b"{" + b" " * MAX_PAYLOAD + b"}"),
        (a1, "A1", _reading("other-gate", gate="A2")),
        (lower, "a1", _reading("lower-case-topic")),
    ]
    with subscribed(city, _settings(broker)) as subscriber:
        _publish(a1, "A1", _reading("good-1", image=base64.b64encode(JPEG).decode()))
        for client, segment, payload in bad:
            _publish(client, segment, payload)
        _publish(a1, "A1", _reading("good-2"))
        _publish(a1, "A1", _reading("nul", image_ref="pictures/\u0000"))
        _wait_for(lambda: subscriber.tally.received == len(bad) + 3)
        _wait_for(lambda: len(_refusals()) == len(bad) + 1)
        _publish(a1, "A1", _reading("good-3"))  # and it keeps going
        _wait_for(lambda: "good-3" in _transits())
    a1.disconnect()
    lower.disconnect()
    assert sorted(_transits()) == ["good-1", "good-2", "good-3"]
    refusals = _refusals()
    assert {r[2] for r in refusals} == {"mqtt"}
    assert len(refusals) == len(bad) + 1
    reasons = {(gate, source_id): reason for gate, source_id, _channel, reason in refusals}
    expected = [
        (("A1", "bad-plate"), "'plate' must be 1-12 letters and digits"),
        (("A1", "nul"), "'image_ref' contains control characters"),
        (("A1", "ahead"), "'at' is more than 300 seconds ahead"),
        (("A1", "gif"), "'image' must be a JPEG or PNG picture"),
        (("A1", "other-gate"), "speak for gate A1, not A2"),
        ((None, None), "the topic's gate 'a1' is not a gate code"),
    ]
    for key, words in expected:
        assert words in reasons[key], (key, reasons)
    assert "!!!" not in reasons[("A1", "bad-plate")]  # a refusal never keeps what was read
    texts = [reason for _g, _s, _c, reason in refusals]
    assert "the message is not a JSON text" in texts
    assert "a transit must be a JSON object" in texts
    assert f"the message is larger than {MAX_PAYLOAD // 1024} KB" in texts


def test_readings_published_while_the_subscriber_is_away_arrive_when_it_is_back(
    city: Flask, broker: Broker, runner: FlaskCliRunner
) -> None:
    settings = _settings(broker)
    with subscribed(city, settings):
        pass  # the broker now keeps a session for our client id
    a1 = broker.publisher("A1")
    for n in range(5):
        _publish(a1, "A1", _reading(f"while-away-{n}"))
    a1.disconnect()
    assert _transits() == {}
    city.config.update(ZTL_MQTT_URL=broker.url(SUBSCRIBER), ZTL_MQTT_CLIENT_ID=settings.client_id)
    try:  # the command, as a municipality runs it
        result = runner.invoke(args=["transits", "subscribe", "--once", "--settle-every", "0.1"])
    finally:
        city.config.pop("ZTL_MQTT_URL")
        city.config.pop("ZTL_MQTT_CLIENT_ID")
    assert result.exit_code == 0, result.output
    assert "5 messages: 5 transits recorded, 0 repeats, 0 refused" in result.output
    assert sorted(_transits()) == [f"while-away-{n}" for n in range(5)]


@contextmanager
def _ledger_locked(url: str) -> Iterator[None]:
    """Nobody else can write the ledger meanwhile (SQLite: the write lock; PostgreSQL: the
    table)."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        assert parsed.database
        connection = sqlite3.connect(parsed.database, isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            connection.execute("ROLLBACK")
            connection.close()
        return
    engine = sa.create_engine(url)
    with engine.connect() as locked:
        locked.execute(sa.text("LOCK TABLE transit IN EXCLUSIVE MODE"))
        try:
            yield
        finally:
            locked.rollback()
    engine.dispose()


def _subscriber_process(app: Flask, broker: Broker, tmp: Path) -> subprocess.Popen[str]:
    """`ztl transits subscribe -v` in a process of its own, on the test's database."""
    config = {
        "SECRET_KEY": app.config["SECRET_KEY"],
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "INSTANCE_PATH": str(tmp / "instance"),
        "ZTL_KEYS_DIR": app.config["ZTL_KEYS_DIR"],
        "ZTL_UPLOAD_DIR": app.config["ZTL_UPLOAD_DIR"],
        "ZTL_SYNC_CITY_ON_START": False,
        "ZTL_MQTT_URL": broker.url(SUBSCRIBER),
        "ZTL_MQTT_CLIENT_ID": "ztl-test-subscriber",
    }
    script = (
        "from flask.cli import FlaskGroup; from tests.served_app import app; "
        "FlaskGroup(create_app=app).main(['transits', 'subscribe', '-v'], prog_name='ztl')"
    )
    return subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, "ZTL_TEST_SERVED_CONFIG": json.dumps(config)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_line(process: subprocess.Popen[str], words: str, seconds: float = 30) -> list[str]:
    """The process's log up to the first line with `words` (read in a thread: no hang)."""
    seen: list[str] = []
    found = threading.Event()

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            seen.append(line)
            if words in line:
                found.set()
                return

    threading.Thread(target=read, daemon=True).start()
    assert found.wait(seconds), "".join(seen)
    return seen


def test_a_subscriber_killed_before_committing_gets_the_reading_again(
    city: Flask, broker: Broker, tmp_path: Path
) -> None:
    process = _subscriber_process(city, broker, tmp_path)
    try:
        _wait_for_line(process, "subscribed to")
        a1 = broker.publisher("A1")
        with _ledger_locked(city.config["SQLALCHEMY_DATABASE_URI"]):
            _publish(a1, "A1", _reading("survivor"))
            _wait_for_line(process, "batch of 1 messages received")
            time.sleep(0.5)  # time enough for an acknowledgement sent too early to leave
            os.kill(process.pid, signal.SIGKILL)  # received, not committed, not acknowledged
            process.wait(10)
        a1.disconnect()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        if process.stderr is not None:
            process.stderr.close()
    assert _transits() == {}
    with subscribed(city, _settings(broker)) as subscriber:
        _wait_for(lambda: "survivor" in _transits())
    assert subscriber.tally.recorded == 1
    assert _transits()["survivor"][:3] == ("A1", "pending", "mqtt")


def test_settings_come_from_one_url() -> None:
    settings = settings_from(
        {"ZTL_MQTT_URL": "mqtts://sub%40ztl:p%3Ass@broker.example", "ZTL_MQTT_BATCH": "200"}
    )
    assert (settings.host, settings.port, settings.tls) == ("broker.example", 8883, True)
    assert (settings.username, settings.password, settings.batch) == ("sub@ztl", "p:ss", 200)
    assert settings.subscription == "ztl/transits/+/transits"
    assert "p:ss" not in repr(settings)
    for bad in (
        {},
        {"ZTL_MQTT_URL": "http://broker.example"},
        {"ZTL_MQTT_URL": "mqtt://b", "ZTL_MQTT_TOPIC_PREFIX": "ztl/#"},
        {"ZTL_MQTT_URL": "mqtt://b", "ZTL_MQTT_BATCH": "0"},
    ):
        with pytest.raises(BadSettings):
            settings_from(bad)
