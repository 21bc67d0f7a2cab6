"""Gates that publish: readings taken from an MQTT broker into the ledger, at least once.

Topic layout: `<prefix>/<GATE>/transits` (prefix ZTL_MQTT_TOPIC_PREFIX, default `ztl/transits`),
one JSON object per message, the same object as the body of POST /api/v1/transits. The gate is the
topic's, never the payload's: the broker's access list lets gate A1's broker user publish only on
A1's topic (`ztl transits mqtt-acl`), so the topic is what vouches for the gate, as a gate-bound
token does over HTTP. A payload naming another gate is refused; a topic segment that is not a gate
code written exactly (capital letters) is refused too, because broker user names are
case-sensitive and `a1` is not the user the access list gave A1's topic to.

Why manual acknowledgements: a message is acknowledged (PUBACK) only once what it said is
committed, its reading in the ledger (ztl.transits.ledger) or its refusal in `transit_refusal`. A
subscriber that dies before that leaves the message unacknowledged in its persistent session
(clean start off, a session expiry, a fixed client id), and the broker sends it again when the
subscriber comes back; the ledger recognises a reading it already has by (gate, id), so a repeat
costs nothing. A message that can never be read is refused and acknowledged: it will never get
better, and holding it would block the session.

Why batches: one transaction per message would cap the ledger at a few hundred readings a second on
SQLite. Messages are collected for up to ZTL_MQTT_BATCH_SECONDS or ZTL_MQTT_BATCH messages, judged
and written in one `record_readings` call, then acknowledged together. The subscriber announces a
Receive Maximum of RECEIVE_MAXIMUM (MQTT 5) so that the broker keeps sending while a batch is being
written (Mosquitto honours the client's value; its own max_inflight_messages only limits what
publishers may have in flight towards it).

When the database fails (unreachable, locked beyond the busy timeout) nothing is acknowledged: the
batch is kept and written again after a pause, and the broker stops sending once RECEIVE_MAXIMUM
messages wait. An unexpected error is treated the same way (logged, retried): acknowledging would
lose readings to a bug. Only a reading the database refuses by itself (a DataError or an
IntegrityError when written alone) is refused, so that one bad reading cannot stall every other.

Acknowledgements and reconnections: packet ids belong to a connection. A message received on a
connection that was lost is sent again by the broker on the next one (same session, same packet
id), so an acknowledgement is only sent on the connection the message came in on; the copy that
comes again is written as a repeat and acknowledged then.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import queue
import re
import ssl
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from flask import Flask
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions
from sqlalchemy.exc import DataError, IntegrityError

from ztl.city.rules_config import current_rules
from ztl.infrastructure.unit_of_work import unit_of_work
from ztl.models import TransitRefusal
from ztl.rules.municipality import TransitRules
from ztl.transits.ledger import MAX_BATCH, MQTT, record_readings
from ztl.transits.readings import GATE, MAX_IMAGE_BYTES, SOURCE_ID, Reading, reading_from
from ztl.transits.settlement import Settled, settle
from ztl.values import InvalidValue

log = logging.getLogger(__name__)

DEFAULT_PREFIX = "ztl/transits"
DEFAULT_CLIENT_ID = "ztl-transits"
DEFAULT_SUBSCRIBER_USER = "ztl-subscriber"
DEFAULT_SESSION_EXPIRY = 7 * 24 * 3600  # a week of the subscriber being down, held by the broker
DEFAULT_BATCH = 500
DEFAULT_BATCH_SECONDS = 0.03
RECEIVE_MAXIMUM = 1000  # twice a batch: the broker keeps sending while one is written
TOPIC_SUFFIX = "transits"
MAX_PAYLOAD = MAX_IMAGE_BYTES * 4 // 3 + 4096  # as over HTTP: a base64 picture and the reading
RETRY_FIRST, RETRY_LAST = 0.5, 30.0  # seconds between attempts to write a batch
_PREFIX = re.compile(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*")


# --- settings ------------------------------------------------------------------------------------


class BadSettings(ValueError):
    """A subscriber setting that cannot work; the message names it."""


@dataclass(frozen=True)
class MqttSettings:
    """Where the broker is and how the subscriber behaves there (see `settings_from`)."""

    host: str
    port: int
    username: str | None
    password: str | None = field(repr=False)
    tls: bool = False
    ca_file: str | None = None
    client_id: str = DEFAULT_CLIENT_ID
    prefix: str = DEFAULT_PREFIX
    session_expiry: int = DEFAULT_SESSION_EXPIRY
    batch: int = DEFAULT_BATCH
    batch_seconds: float = DEFAULT_BATCH_SECONDS
    keepalive: int = 30

    @property
    def subscription(self) -> str:
        return topic_filter(self.prefix)

    @property
    def where(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def topic_filter(prefix: str) -> str:
    """Every gate's topic: `<prefix>/+/transits`."""
    return f"{prefix}/+/{TOPIC_SUFFIX}"


def gate_topic(prefix: str, gate: str) -> str:
    return f"{prefix}/{gate}/{TOPIC_SUFFIX}"


def setting(config: Mapping[str, Any], name: str) -> Any:
    """A setting from the app's configuration, else from the environment: the subscriber's
    settings are read only by this module, so they need no entry among the web app's defaults."""
    value = config.get(name)
    if value is None or value == "":
        value = os.environ.get(name) or None
    return value


def _number(config: Mapping[str, Any], name: str, default: float, low: float, high: float) -> float:
    raw = setting(config, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except (TypeError, ValueError) as exc:
        raise BadSettings(f"{name} must be a number, got {raw!r}") from exc
    if not low <= value <= high:
        raise BadSettings(f"{name} must be between {low:g} and {high:g}, got {raw!r}")
    return value


def prefix_from(config: Mapping[str, Any]) -> str:
    prefix = str(setting(config, "ZTL_MQTT_TOPIC_PREFIX") or DEFAULT_PREFIX)
    if not _PREFIX.fullmatch(prefix):
        raise BadSettings(
            f"ZTL_MQTT_TOPIC_PREFIX must be topic levels of letters, digits, dot, dash or "
            f"underscore separated by '/', without wildcards or a slash at either end: {prefix!r}"
        )
    return prefix


def settings_from(config: Mapping[str, Any]) -> MqttSettings:
    """The subscriber's settings: ZTL_MQTT_URL (`mqtt://user:password@host:1883`, or `mqtts://`
    for TLS, port 8883 by default), ZTL_MQTT_PASSWORD (instead of the URL's password, to keep it
    out of the URL), ZTL_MQTT_CA_FILE (a CA bundle for mqtts; the system's by default),
    ZTL_MQTT_CLIENT_ID, ZTL_MQTT_TOPIC_PREFIX, ZTL_MQTT_SESSION_EXPIRY (seconds),
    ZTL_MQTT_BATCH (messages) and ZTL_MQTT_BATCH_SECONDS. Each from the app's configuration,
    else the environment."""
    url = setting(config, "ZTL_MQTT_URL")
    if not url:
        raise BadSettings(
            "ZTL_MQTT_URL is not set: the broker's address, like "
            "mqtt://ztl-subscriber:PASSWORD@broker.comune.example:1883 (mqtts:// for TLS)"
        )
    parts = urlsplit(str(url))
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise BadSettings(
            f"ZTL_MQTT_URL must be mqtt://[user[:password]@]host[:port] or mqtts://..., got "
            f"{parts.scheme or 'no'} scheme"
        )
    try:
        port = parts.port
    except ValueError as exc:
        raise BadSettings("ZTL_MQTT_URL has a bad port") from exc
    tls = parts.scheme == "mqtts"
    password = setting(config, "ZTL_MQTT_PASSWORD") or (
        unquote(parts.password) if parts.password else None
    )
    client_id = str(setting(config, "ZTL_MQTT_CLIENT_ID") or DEFAULT_CLIENT_ID)
    if not 1 <= len(client_id) <= 64:
        raise BadSettings("ZTL_MQTT_CLIENT_ID must be 1 to 64 characters")
    return MqttSettings(
        host=parts.hostname,
        port=port or (8883 if tls else 1883),
        username=unquote(parts.username) if parts.username else None,
        password=password,
        tls=tls,
        ca_file=setting(config, "ZTL_MQTT_CA_FILE"),
        client_id=client_id,
        prefix=prefix_from(config),
        session_expiry=int(
            _number(config, "ZTL_MQTT_SESSION_EXPIRY", DEFAULT_SESSION_EXPIRY, 60, 0xFFFFFFFF)
        ),
        batch=int(_number(config, "ZTL_MQTT_BATCH", DEFAULT_BATCH, 1, RECEIVE_MAXIMUM)),
        batch_seconds=_number(config, "ZTL_MQTT_BATCH_SECONDS", DEFAULT_BATCH_SECONDS, 0, 5),
    )


# --- reading one message -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Refusal:
    """A message that is not a transit: what is kept of it (never the message itself)."""

    gate: str | None
    source_id: str | None
    reason: str


def gate_of_topic(topic: str, prefix: str) -> str:
    """The gate a topic belongs to, written exactly as a gate code (see the module's docstring)."""
    head, tail = f"{prefix}/", f"/{TOPIC_SUFFIX}"
    if not (topic.startswith(head) and topic.endswith(tail)) or len(topic) <= len(head + tail):
        raise InvalidValue(f"the topic is not {prefix}/<gate>/{TOPIC_SUFFIX}")
    segment = topic[len(head) : -len(tail)]
    if not GATE.fullmatch(segment):
        raise InvalidValue(
            f"the topic's gate {segment[:40]!r} is not a gate code "
            "(1-20 capital letters, digits, dot, dash or underscore)"
        )
    return segment


def _readable_id(raw: Mapping[str, Any]) -> str | None:
    value = raw.get("id")
    return value if isinstance(value, str) and SOURCE_ID.fullmatch(value) else None


def read_message(
    topic: str, payload: bytes, now: dt.datetime, rules: TransitRules, prefix: str
) -> Reading | Refusal:
    """The reading a message carries, or why it carries none."""
    try:
        gate = gate_of_topic(topic, prefix)
    except InvalidValue as exc:
        return Refusal(None, None, str(exc))
    if len(payload) > MAX_PAYLOAD:
        return Refusal(gate, None, f"the message is larger than {MAX_PAYLOAD // 1024} KB")
    try:
        raw = json.loads(payload)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return Refusal(gate, None, "the message is not a JSON text")
    if not isinstance(raw, dict):
        return Refusal(gate, None, "a transit must be a JSON object")
    try:
        return reading_from(raw, now, rules, bound_gate=gate)
    except InvalidValue as exc:
        return Refusal(gate, _readable_id(raw), str(exc))
    except Exception:  # a message that trips the checks up must not stop the others
        log.exception("a message on %s could not be checked", topic)
        return Refusal(gate, _readable_id(raw), "the reading could not be checked (error logged)")


# --- writing a batch -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Inbound:
    """A message as received, with the connection it came in on (its packet id is that one's)."""

    mid: int
    qos: int
    topic: str
    payload: bytes
    connection: int


@dataclass
class Tally:
    received: int = 0
    recorded: int = 0
    repeats: int = 0
    refused: int = 0
    batches: int = 0


@dataclass
class Batch:
    """Messages written together; what was written already is not written again on a retry."""

    messages: list[Inbound]
    verdicts: list[Reading | Refusal] | None = None
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    refused_alone: list[Refusal] = field(default_factory=list)  # readings the database refused
    readings_done: bool = False
    refusals_done: bool = False


def record_refusals(refusals: Sequence[Refusal], now: dt.datetime) -> None:
    """Every refusal of a batch in one transaction of its own."""
    with unit_of_work() as session:
        session.add_all(
            TransitRefusal(
                received_at=now,
                channel=MQTT,
                gate=refusal.gate,
                source_id=refusal.source_id,
                reason=refusal.reason,
            )
            for refusal in refusals
        )


def record_alone(readings: Sequence[Reading], now: dt.datetime, tally: Tally) -> list[Refusal]:
    """Readings written one by one, after the database refused their batch: those it refuses
    alone become refusals, the others are written."""
    refused = []
    for reading in readings:
        try:
            _count(record_readings([reading], MQTT, now), tally)
        except (DataError, IntegrityError) as exc:
            log.warning(
                "gate %s reading %s refused by the database: %s",
                reading.gate,
                reading.source_id,
                type(exc).__name__,
            )
            reason = f"the ledger could not store the reading ({type(exc).__name__})"
            refused.append(Refusal(reading.gate, reading.source_id, reason))
    return refused


def _count(outcomes: Sequence[Any], tally: Tally) -> None:
    tally.recorded += sum(1 for o in outcomes if not o.repeat)
    tally.repeats += sum(1 for o in outcomes if o.repeat)


def write_batch(batch: Batch, prefix: str, tally: Tally) -> None:
    """Judge and commit a batch (inside an app context); raises when it must be tried again."""
    if batch.verdicts is None:
        rules = current_rules().transits
        batch.verdicts = [
            read_message(m.topic, m.payload, batch.now, rules, prefix) for m in batch.messages
        ]
    readings = [v for v in batch.verdicts if isinstance(v, Reading)]
    refusals = [v for v in batch.verdicts if isinstance(v, Refusal)]
    if readings and not batch.readings_done:
        try:
            _count(record_readings(readings, MQTT, batch.now), tally)
        except (DataError, IntegrityError):
            log.warning(
                "the database refused a batch of %d readings: writing them one by one",
                len(readings),
            )
            batch.refused_alone = record_alone(readings, batch.now, tally)
        batch.readings_done = True
    refusals += batch.refused_alone
    if refusals and not batch.refusals_done:
        record_refusals(refusals, batch.now)
        tally.refused += len(refusals)
        log.warning("%d messages refused (the situation room lists them)", len(refusals))
        for refusal in refusals:
            log.debug("refused: gate %s id %s: %s", refusal.gate, refusal.source_id, refusal.reason)
    batch.refusals_done = True


# --- the subscriber ------------------------------------------------------------------------------


class BrokerRefused(RuntimeError):
    """The broker turned the subscriber away (credentials, access list): retrying will not help."""


class Subscriber:
    """One connection to the broker (paho's network thread) feeding batches to the thread that
    calls `run` (the CLI's main thread), which writes them in app contexts of its own.

    Why an app context per batch: the subscriber runs for months; each batch gets a fresh
    database session, removed when its context ends, so a failed transaction or a connection the
    database dropped never outlives the batch that met it.
    """

    def __init__(self, app: Flask, settings: MqttSettings) -> None:
        self.app = app
        self.settings = settings
        self.tally = Tally()
        self.ready = threading.Event()  # subscribed: the broker now keeps our messages
        self._inbox: queue.Queue[Inbound] = queue.Queue()
        self._stop = threading.Event()
        self._lock = threading.Lock()  # the connection number and the acknowledgements
        self._connection = 0
        self._refused: str | None = None
        self._client = self._new_client()

    # network thread -----------------------------------------------------------------------------

    def _new_client(self) -> mqtt.Client:
        s = self.settings
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=s.client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        if s.username is not None:
            client.username_pw_set(s.username, s.password)
        if s.tls:
            client.tls_set(ca_certs=s.ca_file, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        client.reconnect_delay_set(1, 30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        client.on_connect_fail = self._on_connect_fail
        return client

    def _on_connect(
        self, client: mqtt.Client, _u: Any, flags: Any, reason: ReasonCode, _p: Any
    ) -> None:
        if reason.is_failure:
            self._refuse(f"the broker at {self.settings.where} refused the connection: {reason}")
            return
        with self._lock:
            self._connection += 1
        log.info(
            "connected to %s as %s (session kept by the broker: %s)",
            self.settings.where,
            self.settings.client_id,
            flags.session_present,
        )
        # Subscribing again on a kept session changes nothing and covers a session that expired.
        options = SubscribeOptions(qos=1, retainHandling=SubscribeOptions.RETAIN_SEND_IF_NEW_SUB)
        client.subscribe(self.settings.subscription, options=options)

    def _on_connect_fail(self, _c: Any, _u: Any) -> None:
        log.warning("cannot reach the broker at %s: trying again", self.settings.where)

    def _on_subscribe(
        self, _c: Any, _u: Any, _mid: int, reasons: list[ReasonCode], _p: Any
    ) -> None:
        if any(r.is_failure or r.value != 1 for r in reasons):
            self._refuse(
                f"the broker did not grant QoS 1 on {self.settings.subscription} "
                f"({', '.join(str(r) for r in reasons)}): check its access list"
            )
            return
        log.info("subscribed to %s", self.settings.subscription)
        self.ready.set()

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, reason: ReasonCode, _p: Any) -> None:
        with self._lock:  # from now on, acknowledgements of this connection's messages are moot
            self._connection += 1
        if not self._stop.is_set():
            log.warning("lost the broker at %s (%s): reconnecting", self.settings.where, reason)

    def _on_message(self, _c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        self._inbox.put(
            Inbound(
                message.mid, message.qos, message.topic, bytes(message.payload), self._connection
            )
        )

    def _refuse(self, why: str) -> None:
        log.error(why)
        self._refused = why
        self._stop.set()

    # the caller's thread ------------------------------------------------------------------------

    def start(self) -> None:
        """Connect in the background (paho retries until the broker answers)."""
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = self.settings.session_expiry
        properties.ReceiveMaximum = RECEIVE_MAXIMUM
        self._client.connect_async(
            self.settings.host,
            self.settings.port,
            keepalive=self.settings.keepalive,
            clean_start=False,
            properties=properties,
        )
        self._client.loop_start()

    def stop(self) -> None:
        """Ask `run` to finish the batch in hand and return (safe from any thread or a signal)."""
        self._stop.set()

    def close(self) -> None:
        """Leave the broker; what was not acknowledged stays in the session for next time."""
        self._stop.set()
        self._client.disconnect()
        self._client.loop_stop()

    def run(
        self,
        seconds: float | None = None,
        idle: float | None = None,
        settle_every: float | None = None,
    ) -> Tally:
        """Take batches until stopped, for `seconds`, or (`idle`) once subscribed and nothing came
        for that long; every `settle_every` seconds, move open readings on as `ztl transits
        settle` does. Raises BrokerRefused when the broker turned us away."""
        deadline = None if seconds is None else time.monotonic() + seconds
        last = settled = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                break
            if idle is not None and self.ready.is_set() and now - last >= idle:
                break
            if settle_every and now - settled >= settle_every:
                self._follow_up()
                settled = time.monotonic()
            messages = self._take(0.2 if deadline is None else min(0.2, deadline - now))
            if messages:
                self._write(Batch(messages))
                last = time.monotonic()
        if self._refused:
            raise BrokerRefused(self._refused)
        return self.tally

    def _take(self, wait: float) -> list[Inbound]:
        """A batch: the first message within `wait`, then what comes within the batch window."""
        try:
            messages = [self._inbox.get(timeout=max(wait, 0.001))]
        except queue.Empty:
            return []
        window_end = time.monotonic() + self.settings.batch_seconds
        while len(messages) < min(self.settings.batch, MAX_BATCH):
            try:
                messages.append(self._inbox.get(timeout=max(window_end - time.monotonic(), 0)))
            except queue.Empty:
                break
        return messages

    def _follow_up(self) -> None:
        """Settle open readings (ztl.transits.settlement); a failure waits for the next turn."""
        try:
            with self.app.app_context():
                settled = settle()
        except Exception:
            log.exception("settling open readings failed: trying again at the next turn")
            return
        if settled != Settled():
            log.info("settled: %s", settled)

    def _write(self, batch: Batch) -> None:
        """Write the batch, trying again after a pause while it fails, then acknowledge it. When
        asked to stop meanwhile, leave it unacknowledged: the broker sends it again."""
        self.tally.received += len(batch.messages)
        log.debug("batch of %d messages received", len(batch.messages))
        pause = RETRY_FIRST
        while True:
            try:
                with self.app.app_context():
                    write_batch(batch, self.settings.prefix, self.tally)
                break
            except Exception:
                log.exception(
                    "a batch of %d messages could not be written: trying again in "
                    "%.1f s, nothing acknowledged",
                    len(batch.messages),
                    pause,
                )
                if self._stop.wait(pause):
                    return
                pause = min(pause * 2, RETRY_LAST)
        self.tally.batches += 1
        self._acknowledge(batch.messages)
        log.debug("batch of %d messages written and acknowledged", len(batch.messages))

    def _acknowledge(self, messages: Sequence[Inbound]) -> None:
        with self._lock:
            for message in messages:
                if message.connection == self._connection and message.qos > 0:
                    self._client.ack(message.mid, message.qos)
