"""May this plate be in this zone at this time? Answers for police, gates and transit files.

Every answer comes from the in-memory enforcement index (ztl.enforcement), never from a query per
plate, and every answer given to somebody is recorded (who asked, when, which plate, what was
answered): plate positions are personal data and their use must be accountable. A batch of transits
is recorded in one insert.

Reasons are sentences in Italian and English, because an officer reads them to a driver.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from sqlalchemy import select

from ztl.accounts.api_tokens import TokenIdentity
from ztl.enforcement.holder import current_index
from ztl.enforcement.index import Answer, EnforcementIndex, Grant, Why
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import ServiceError
from ztl.lookups.recorder import record_lookups
from ztl.models import Gate, User, Zone
from ztl.rules.calendar import minutes_text
from ztl.values import InvalidValue
from ztl.values.plates import normalise_plate
from ztl.values.times import instant_text

MAX_BATCH = 10_000
# Instants that can be moved to UTC, to local time and by a clock tolerance without overflowing
# Python's datetime (years 1-9999): outside them an answer is a 400, never a 500.
EARLIEST = dt.datetime.min.replace(tzinfo=dt.UTC) + dt.timedelta(days=7)
LATEST = dt.datetime.max.replace(tzinfo=dt.UTC) - dt.timedelta(days=7)
REASONS = {
    Why.PERMIT: "permesso {number} valido / permit {number} valid",
    Why.ZONE_INACTIVE: (
        "zona {zone} non attiva a quest'ora: nessun permesso richiesto / "
        "zone {zone} not active at this time: no permit needed"
    ),
    Why.OUTSIDE_HOURS: (
        "il permesso {number} non vale a quest'ora / permit {number} does not cover this time"
    ),
    Why.OTHER_ZONE: (
        "il permesso {number} non vale nella zona {zone} / "
        "permit {number} does not cover zone {zone}"
    ),
    Why.NOT_VALID_THEN: (
        "il permesso {number} non è valido in questa data / permit {number} not valid on this date"
    ),
    Why.NO_PERMIT: "nessun permesso per questa targa / no permit for this plate",
}


@dataclass(frozen=True)
class Asker:
    """Who asked: a machine token or a signed-in officer (the label survives their deletion)."""

    label: str
    token_id: int | None = None
    user_id: int | None = None

    @classmethod
    def of_token(cls, token: TokenIdentity) -> Asker:
        return cls(f"token:{token.name}", token_id=token.id)

    @classmethod
    def of_user(cls, user: User) -> Asker:
        return cls(f"user:{user.email}", user_id=user.id)


@dataclass(frozen=True)
class Decision:
    plate: str
    zone: str
    at: dt.datetime
    authorized: bool
    why: Why
    reason: str
    permits: tuple[Grant, ...]
    pending_until: dt.datetime | None = None
    gate: str | None = None  # the gate a transit was read at, recorded with the answer


@dataclass(frozen=True)
class Transit:
    """A camera reading: a plate at a gate (or in a zone) at an instant."""

    plate: str
    at: dt.datetime
    gate: str | None = None
    zone: str | None = None


def parse_plate(raw: str) -> str:
    plate = normalise_plate(raw or "")
    if not plate:
        raise InvalidValue("targa mancante / plate missing")
    return plate


def _require_aware(at: dt.datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidValue("ora senza fuso orario / time without an offset")
    require_in_range(at)


def require_in_range(at: dt.datetime) -> None:
    """Refuse an aware instant too close to the ends of datetime's range to compute with."""
    if not EARLIEST <= at <= LATEST:
        raise InvalidValue(f"ora fuori intervallo / time out of range: {at.isoformat()}")


def _decide(
    index: EnforcementIndex, plate: str, zone: str, at: dt.datetime, now: float
) -> Decision:
    answer = index.check(plate, zone, at.timestamp(), now)
    return _decision(plate, zone, at, answer)


def _decision(plate: str, zone: str, at: dt.datetime, answer: Answer) -> Decision:
    number = answer.grant.number if answer.grant else ""
    pending = (
        dt.datetime.fromtimestamp(answer.pending_until, dt.UTC) if answer.pending_until else None
    )
    return Decision(
        plate=plate,
        zone=zone,
        at=at.astimezone(dt.UTC),
        authorized=answer.authorized,
        why=answer.why,
        reason=REASONS[answer.why].format(number=number, zone=zone),
        permits=answer.grants,
        pending_until=pending,
    )


def authorize(
    raw_plate: str,
    zone: str | None,
    at: dt.datetime | None,
    asker: Asker,
    channel: str = "authorization",
    now: dt.datetime | None = None,
) -> Decision:
    """The answer for one plate (one zone, or the best over all zones), recorded.

    Without a zone the plate is authorized when it is authorized in some zone at that time (an
    officer on foot may not know which zone a street is in); the reason then names that zone.
    """
    plate = parse_plate(raw_plate)
    moment = now or dt.datetime.now(dt.UTC)
    when = at or moment
    _require_aware(when)
    index = current_index(db.session)
    zones = sorted(index.zones)
    if zone is not None:
        if zone.upper() not in index.zones:
            raise InvalidValue(f"zona sconosciuta / unknown zone: {zone!r}")
        zones = [zone.upper()]
    if not zones:
        raise ServiceError("no zones configured", code="no_zones")
    decisions = [_decide(index, plate, z, when, moment.timestamp()) for z in zones]
    chosen = next((d for d in decisions if d.authorized and d.why is Why.PERMIT), None)
    chosen = chosen or next((d for d in decisions if d.authorized), None) or decisions[0]
    _record([chosen], asker, channel, moment)
    return chosen


def gate_zones(session: Any) -> dict[str, str]:
    """Gate code -> zone code (a camera reports its gate; the rules speak of zones)."""
    rows = session.execute(select(Gate.code, Zone.code).join(Zone, Zone.id == Gate.zone_id))
    return {row[0]: row[1] for row in rows}


def resolve_zone(transit: Transit, gates: dict[str, str], index: EnforcementIndex) -> str:
    if transit.gate:
        zone = gates.get(transit.gate.strip().upper())
        if zone is None:
            raise InvalidValue(f"varco sconosciuto / unknown gate: {transit.gate!r}")
        return zone
    if transit.zone and transit.zone.strip().upper() in index.zones:
        return transit.zone.strip().upper()
    raise InvalidValue(f"zona sconosciuta / unknown zone: {transit.zone!r}")


def check_transits(
    transits: Sequence[Transit],
    asker: Asker | None,
    now: dt.datetime | None = None,
    record: bool = True,
) -> list[Decision]:
    """One decision per transit, in order; recorded in one insert when `record` (API calls)."""
    if len(transits) > MAX_BATCH:
        raise InvalidValue(f"al massimo {MAX_BATCH} transiti / at most {MAX_BATCH} transits")
    moment = now or dt.datetime.now(dt.UTC)
    index = current_index(db.session)
    gates = gate_zones(db.session)
    decisions = []
    for transit in transits:
        _require_aware(transit.at)
        zone = resolve_zone(transit, gates, index)
        decision = _decide(index, parse_plate(transit.plate), zone, transit.at, moment.timestamp())
        if transit.gate:
            decision = dataclasses.replace(decision, gate=transit.gate.strip().upper())
        decisions.append(decision)
    if record and asker is not None:
        _record(decisions, asker, "transit", moment)
    return decisions


def _record(decisions: Iterable[Decision], asker: Asker, channel: str, now: dt.datetime) -> None:
    rows = [
        {
            "asked_at": now,
            "token_id": asker.token_id,
            "user_id": asker.user_id,
            "actor_label": asker.label[:100],
            "channel": channel,
            "plate": d.plate,
            "zone": d.zone,
            "gate": d.gate,
            "at": d.at,
            "authorized": d.authorized,
            "pending_until": d.pending_until,
            "reason": d.reason,
        }
        for d in decisions
    ]
    record_lookups(rows)


def local_day(date: dt.date, index: EnforcementIndex) -> tuple[dt.datetime, dt.datetime]:
    """The instants of local midnight at the start and end of `date` (23 or 25 hours on DST days)."""
    zone = index.clock.timezone
    start = dt.datetime.combine(date, dt.time(), zone)
    end = dt.datetime.combine(date + dt.timedelta(days=1), dt.time(), zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


@dataclass(frozen=True)
class WhitelistRow:
    plate: str
    zone: str
    valid_from: dt.datetime
    valid_to: dt.datetime
    windows: str  # "07:30-18:30 19:00-02:00"; empty when at any hour


def whitelist(zone: str, date: dt.date) -> list[WhitelistRow]:
    """Every authorized plate interval in `zone` that touches the local `date`, sorted by plate."""
    index = current_index(db.session)
    code = zone.strip().upper()
    if code not in index.zones:
        raise InvalidValue(f"zona sconosciuta / unknown zone: {zone!r}")
    if not EARLIEST.date() <= date <= LATEST.date():
        raise InvalidValue(f"data fuori intervallo / date out of range: {date}")
    start, end = local_day(date, index)
    rows = [
        WhitelistRow(
            plate,
            code,
            dt.datetime.fromtimestamp(grant.start, dt.UTC),
            dt.datetime.fromtimestamp(grant.end, dt.UTC),
            " ".join(w.text() for w in grant.windows),
        )
        for plate, grant in index.touching(code, start.timestamp(), end.timestamp())
    ]
    return sorted(rows, key=lambda r: (r.plate, r.valid_from))


WHITELIST_HEADER = ("plate", "zone", "valid_from", "valid_to", "windows")


def write_whitelist_csv(rows: Iterable[WhitelistRow], out: TextIO) -> None:
    """The gates' whitelist as CSV: one writer, so the API and the CLI give identical bytes."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(WHITELIST_HEADER)
    for row in rows:
        writer.writerow(
            [
                row.plate,
                row.zone,
                instant_text(row.valid_from),
                instant_text(row.valid_to),
                row.windows,
            ]
        )


def zone_hours_on(zone: str, date: dt.date) -> str:
    """The minutes of a local date in which a zone is restricted ("07:30-20:00", "" for none):
    the gates' whitelist says it, since a plate not on it may still enter outside those hours."""
    index = current_index(db.session)
    policy = index.zones.get(zone.strip().upper())
    if policy is None:
        raise InvalidValue(f"zona sconosciuta / unknown zone: {zone!r}")
    day = date.toordinal() - dt.date(1970, 1, 1).toordinal()
    return minutes_text(policy.intervals(day), separator=" ", empty="")


def permit_json(grant: Grant) -> dict[str, Any]:
    return {
        "number": grant.number,
        "category": grant.category,
        "zones": sorted(grant.zones),
        "valid_from": _iso(grant.start),
        "valid_to": _iso(grant.end),
        "windows": [w.text() for w in grant.windows],
    }


def _iso(ts: float) -> str:
    return instant_text(dt.datetime.fromtimestamp(ts, dt.UTC))


def decision_json(decision: Decision) -> dict[str, Any]:
    return {
        "plate": decision.plate,
        "at": instant_text(decision.at),
        "zone": decision.zone,
        "authorized": decision.authorized,
        "reason": decision.reason,
        "permits": [permit_json(g) for g in decision.permits],
    }


def transit_json(decision: Decision) -> dict[str, Any]:
    pending = decision.pending_until
    return {
        "plate": decision.plate,
        "at": instant_text(decision.at),
        "zone": decision.zone,
        "authorized": decision.authorized,
        "reason": decision.reason,
        "pending_until": instant_text(pending) if pending else None,
    }
