"""Taking gates' readings into the ledger: judged at once, written once, answered the same again.

This is the hot path of enforcement (every car at every gate), so a reading costs one index check
(ztl.enforcement, in memory) and, for a batch, one INSERT ... ON CONFLICT DO NOTHING in one
transaction: the answer is only given once the row is committed, so a gate that got an answer
never has to send the reading again, and one that did not (a lost answer, a crash) sends it again
and gets the same answer back (the row's first `answer`), never a second row.

What a reading leaves (the law allows no more):
- authorized (a permit covers it, the zone is not restricted then, or it leaves the zone): a row
  with the gate, the gate's id and the hour; no plate, no instant, no picture (the picture is
  never written);
- not authorized: plate, instant, confidence, picture and the permits considered, `pending` while a
  retroactive registration may still cover it, a `violation` at once when none can;
- at a gate the city does not know: `held`, with everything, judged once the gate is configured.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ztl.city.rules_config import current_rules
from ztl.database import driver_transaction
from ztl.enforcement.holder import current_index
from ztl.enforcement.index import Answer, EnforcementIndex, Grant
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import AnySession
from ztl.infrastructure.uploads import discard_upload, store_upload
from ztl.models import Gate, Transit, Zone
from ztl.models.base import driver_instant
from ztl.models.enums import TransitStatus
from ztl.transits.readings import Reading
from ztl.values.times import instant_text

HTTP, MQTT, FILE = "http", "mqtt", "file"
MAX_BATCH = 5_000


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the gate is told: its reading's first answer, and whether this was a repeat."""

    gate: str
    source_id: str
    answer: str  # authorized, pending, violation or held
    pending_until: dt.datetime | None = None
    repeat: bool = False

    def json(self) -> dict[str, Any]:
        return {
            "gate": self.gate,
            "id": self.source_id,
            "outcome": self.answer,
            "pending_until": instant_text(self.pending_until) if self.pending_until else None,
            "repeat": self.repeat,
        }


@dataclass(frozen=True, slots=True)
class GatePlace:
    zone: str
    direction: str  # in, out, both


class _Gates:
    """Gate code -> zone and direction, read again only when the index was rebuilt or moved on
    (a change of gates is a configuration change, which rebuilds every process's index). Kept
    per index object, so two apps in one process (tests, a shell) never share gates."""

    def __init__(self) -> None:
        self._by_index: weakref.WeakKeyDictionary[
            EnforcementIndex, tuple[int, dict[str, GatePlace]]
        ] = weakref.WeakKeyDictionary()

    def places(self, session: AnySession, index: EnforcementIndex) -> dict[str, GatePlace]:
        found = self._by_index.get(index)
        if found is not None and found[0] == index.version:
            return found[1]
        rows = session.execute(
            select(Gate.code, Zone.code, Gate.direction).join(Zone, Zone.id == Gate.zone_id)
        )
        places = {code: GatePlace(zone, direction) for code, zone, direction in rows}
        self._by_index[index] = (index.version, places)
        return places


_GATES = _Gates()


def gate_places(session: AnySession, index: EnforcementIndex) -> dict[str, GatePlace]:
    return _GATES.places(session, index)


def considered(grants: Sequence[Grant], zone: str, ts: float, index: EnforcementIndex) -> str:
    """The permits the plate held, each with why it did not cover this reading (JSON): what the
    officer reads before confirming. An empty list: the plate held no permit at all."""
    items = []
    for grant in grants:
        answer = index.check_grant(grant, zone, ts)
        items.append(
            {
                "number": grant.number,
                "category": grant.category,
                "zones": sorted(grant.zones),
                "valid_from": instant_text(dt.datetime.fromtimestamp(grant.start, dt.UTC)),
                "valid_to": instant_text(dt.datetime.fromtimestamp(grant.end, dt.UTC)),
                "windows": [w.text() for w in grant.windows],
                "why": answer.value,
            }
        )
    return json.dumps(items, ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class Judgement:
    status: TransitStatus
    zone: str | None
    pending_until: dt.datetime | None = None
    considered: str | None = None


def judge(
    reading_plate: str,
    at: dt.datetime,
    place: GatePlace | None,
    direction: str | None,
    index: EnforcementIndex,
    now: dt.datetime,
) -> Judgement:
    """Where a reading stands now: held, authorized, pending or a violation."""
    if place is None:
        return Judgement(TransitStatus.HELD, None)
    if (direction or place.direction) == "out":  # leaving a zone needs no permit
        return Judgement(TransitStatus.AUTHORIZED, place.zone)
    ts = at.timestamp()
    answer: Answer = index.check(reading_plate, place.zone, ts, now.timestamp())
    if answer.authorized:
        return Judgement(TransitStatus.AUTHORIZED, place.zone)
    why = considered(answer.grants, place.zone, ts, index)
    if answer.pending_until is not None:
        until = dt.datetime.fromtimestamp(answer.pending_until, dt.UTC)
        return Judgement(TransitStatus.PENDING, place.zone, until, why)
    return Judgement(TransitStatus.VIOLATION, place.zone, None, why)


def notify_by(at: dt.datetime, days: int, timezone: Any) -> dt.date:
    """The last day (the municipality's calendar) on which a fine for a transit may be notified."""
    return at.astimezone(timezone).date() + dt.timedelta(days=days)


def _hour(at: dt.datetime) -> dt.datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def _row(
    reading: Reading,
    judgement: Judgement,
    channel: str,
    now: dt.datetime,
    image_file: str | None,
    notify_days: int,
    timezone: Any,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "gate": reading.gate,
        "source_id": reading.source_id,
        "received_at": now,
        "hour": _hour(reading.at),
        "skew_seconds": int((reading.at - now).total_seconds()),
        "channel": channel,
        "answer": judgement.status.value,
        "status": judgement.status.value,
        "zone": judgement.zone,
        "direction": reading.direction,
    }
    if judgement.status is TransitStatus.AUTHORIZED:
        return row  # no personal trace
    row |= {
        "plate": reading.plate,
        "read_at": reading.at,
        "confidence": reading.confidence,
        "image_ref": reading.image_ref,
        "image_file": image_file,
        "image_type": reading.image_type if image_file else None,
        "pending_until": judgement.pending_until,
        "considered": judgement.considered,
    }
    if judgement.status is TransitStatus.VIOLATION:
        row["notify_by"] = notify_by(reading.at, notify_days, timezone)
    return row


# The columns a reading's row fills, in the order of the INSERT below; the instants and the dates.
COLUMNS = (
    "gate",
    "source_id",
    "received_at",
    "hour",
    "skew_seconds",
    "channel",
    "answer",
    "status",
    "zone",
    "direction",
    "plate",
    "read_at",
    "confidence",
    "image_ref",
    "image_file",
    "image_type",
    "pending_until",
    "considered",
    "notify_by",
)
INSTANTS = frozenset({"received_at", "hour", "read_at", "pending_until"})
# Built from the constants above only (no input reaches them): the driver binds every value.
INSERT = (
    f"INSERT INTO {Transit.__tablename__} ({', '.join(COLUMNS)}) VALUES ({{marks}}) "  # noqa: S608
    "ON CONFLICT (gate, source_id) DO NOTHING"
)
INSERTS = {
    "sqlite": INSERT.format(marks=", ".join("?" * len(COLUMNS))),
    "postgresql": INSERT.format(marks=", ".join(["%s"] * len(COLUMNS))),
}


def _driver_value(column: str, value: Any, sqlite: bool) -> Any:
    if column in INSTANTS:
        return driver_instant(value, sqlite)
    if column == "notify_by" and value is not None and sqlite:
        return value.isoformat()
    return value


def _write(cursor: Any, sqlite: bool, rows: Sequence[dict[str, Any]]) -> set[tuple[str, str]]:
    """Insert the rows not already in the ledger; the (gate, id) of those inserted.

    Through the driver, one statement per row, in the caller's transaction: a reading's write is
    part of the cost of every reading, and SQLAlchemy's per-value processing and the ORM session's
    bookkeeping cost more than the statements (bench/transits.py). Values are converted exactly
    as UTCDateTime and Date would.
    """
    statement = INSERTS["sqlite" if sqlite else "postgresql"]
    inserted: set[tuple[str, str]] = set()
    for row in rows:
        cursor.execute(statement, tuple(_driver_value(c, row.get(c), sqlite) for c in COLUMNS))
        if cursor.rowcount:
            inserted.add((row["gate"], row["source_id"]))
    return inserted


ANSWER = {
    "sqlite": f"SELECT answer, pending_until FROM {Transit.__tablename__} "  # noqa: S608
    "WHERE gate = ? AND source_id = ?",
    "postgresql": f"SELECT answer, pending_until FROM {Transit.__tablename__} "  # noqa: S608
    "WHERE gate = %s AND source_id = %s",
}


def _answers(
    cursor: Any, sqlite: bool, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], Outcome]:
    """The first answers given to readings already in the ledger (repeats are few: one query
    each)."""
    found: dict[tuple[str, str], Outcome] = {}
    statement = ANSWER["sqlite" if sqlite else "postgresql"]
    for gate, source_id in keys:
        cursor.execute(statement, (gate, source_id))
        row = cursor.fetchone()
        if row is None:
            continue
        answer, pending_until = row
        until = None
        if answer == TransitStatus.PENDING.value and pending_until is not None:
            until = (
                pending_until
                if isinstance(pending_until, dt.datetime)
                else dt.datetime.fromisoformat(pending_until)
            ).replace(tzinfo=dt.UTC)
        found[(gate, source_id)] = Outcome(gate, source_id, answer, until, True)
    return found


def record_readings(
    readings: Sequence[Reading], channel: str, now: dt.datetime | None = None
) -> list[Outcome]:
    """Judge and keep readings (one transaction); one outcome per reading, in order.

    A reading whose (gate, id) is already in the ledger, or twice in the batch, is a repeat: it is
    answered with the first answer and changes nothing.
    """
    if len(readings) > MAX_BATCH:
        raise ValueError(f"at most {MAX_BATCH} readings at once")
    moment = now or dt.datetime.now(dt.UTC)
    rules = current_rules()
    timezone = ZoneInfo(rules.timezone)
    session = db.session
    index = current_index(session)
    places = gate_places(session, index)
    first: dict[tuple[str, str], int] = {}
    rows: list[dict[str, Any]] = []
    judged: list[Judgement] = []
    stored: dict[str, Path] = {}
    for reading in readings:
        key = (reading.gate, reading.source_id)
        if key in first:
            judged.append(judged[first[key]])
            continue
        first[key] = len(judged)
        judgement = judge(
            reading.plate,
            reading.at,
            places.get(reading.gate),
            reading.direction,
            index,
            moment,
        )
        judged.append(judgement)
        image_file = None
        if reading.image is not None and judgement.status is not TransitStatus.AUTHORIZED:
            path, image_file = store_upload(reading.image)
            stored[image_file] = path
        rows.append(
            _row(
                reading,
                judgement,
                channel,
                moment,
                image_file,
                rules.transits.notify_days,
                timezone,
            )
        )
    sqlite = db.engine.dialect.name == "sqlite"
    try:
        with driver_transaction(db.engine) as connection:
            cursor = connection.cursor()
            inserted = _write(cursor, sqlite, rows)
            earlier = _answers(cursor, sqlite, [key for key in first if key not in inserted])
    except BaseException:
        for path in stored.values():
            discard_upload(path)
        raise
    for row in rows:  # a repeat's picture is not kept: the first reading's row stands
        if (row["gate"], row["source_id"]) not in inserted and row.get("image_file"):
            discard_upload(stored[row["image_file"]])
    outcomes = []
    seen: set[tuple[str, str]] = set()
    for reading, judgement in zip(readings, judged, strict=True):
        key = (reading.gate, reading.source_id)
        repeat = key in seen or key not in inserted
        seen.add(key)
        if key in earlier:
            outcomes.append(dataclasses.replace(earlier[key], repeat=True))
        else:
            outcomes.append(
                Outcome(
                    reading.gate,
                    reading.source_id,
                    judgement.status.value,
                    judgement.pending_until,
                    repeat,
                )
            )
    return outcomes
