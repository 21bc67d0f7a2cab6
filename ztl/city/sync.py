"""Bringing the database in step with the rules file: one transaction, idempotent, logged, refusable.

Why this shape:
- The file is the only place a municipality edits; the tables are a copy so that permits,
  applications, gates and plate lookups can refer to zones and categories by key. A copy edited by
  hand, or left behind by an old file, would make two answers to one question.
- A digest of everything synced is kept with the municipality's row: when it matches, start-up
  costs one primary-key read and writes nothing, so several workers starting at once do not queue
  for the write lock.
- A change that would orphan data is refused, with what holds it named, and the whole transaction
  rolls back: nothing is silently deleted. A zone that permits still name, or a category that
  applications or permits still name, is retired (kept, marked inactive) rather than deleted.
- Every applied change is logged ("zone B: 07:30-18:30 -> 08:00-20:00") and recorded as one event,
  so the audit trail says when the rules in force changed and how.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import delete, func, inspect, select
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from ztl.infrastructure.events import record_event
from ztl.infrastructure.unit_of_work import Actor, AnySession, ServiceError, unit_of_work
from ztl.models import (
    Application,
    ApplicationZone,
    Category,
    CategoryWindow,
    City,
    Gate,
    Permit,
    PermitZone,
    PlateLookup,
    Zone,
    utcnow,
)
from ztl.models.enums import ApplicationStatus, PermitStatus
from ztl.rules.calendar import ZoneCalendar, calendar_data, calendar_from_data
from ztl.rules.municipality import CategoryRules, Municipality
from ztl.rules.windows import DailyWindow

log = logging.getLogger("ztl.city")

OPEN_APPLICATIONS = (
    ApplicationStatus.DRAFT.value,
    ApplicationStatus.SUBMITTED.value,
    ApplicationStatus.UNDER_REVIEW.value,
    ApplicationStatus.DOCUMENTS_REQUESTED.value,
    ApplicationStatus.APPROVED.value,
)
SQLITE_RETRIES = 6  # another process holding SQLite's write lock: wait and look again
SYNC_LOCK_KEY = 0x7A746C_C17  # PostgreSQL advisory lock serialising concurrent syncs


class CityConflict(ServiceError):
    """The rules file would orphan data; the message names each thing that holds it."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__(
            "the rules file cannot be applied: " + "; ".join(problems), code="city_conflict"
        )
        self.problems = tuple(problems)


@dataclass(frozen=True)
class SyncReport:
    changes: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def _category_data(rules: CategoryRules) -> dict[str, Any]:
    """What the tables keep of a category; fees are left out on purpose (never copied)."""
    return {
        "name_it": rules.name_it,
        "name_en": rules.name_en,
        "validity": rules.validity[0],
        "decided_by": rules.decided_by,
        "max_plates": rules.max_plates,
        "zones": sorted(rules.zones),
        "windows": [w.text() for w in rules.windows],
    }


def _canonical(rules: Municipality) -> dict[str, Any]:
    patron = rules.patron_saint
    return {
        "code": rules.code,
        "name": rules.name,
        "timezone": rules.timezone,
        "patron_saint": f"{patron[0]:02d}-{patron[1]:02d}" if patron else None,
        "zones": {
            z.code: {"name": z.name, "calendar": calendar_data(z.calendar)} for z in rules.zones
        },
        "gates": {g.code: [g.name, g.zone, g.direction] for g in rules.gates},
        "categories": {c.code: _category_data(c) for c in rules.categories},
    }


def city_digest(rules: Municipality) -> str:
    """SHA-256 of everything the tables hold of the rules, in a canonical JSON form."""
    text = json.dumps(_canonical(rules), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class _DryRun(Exception):
    def __init__(self, report: SyncReport) -> None:
        super().__init__("dry run")
        self.report = report


def planned_changes(rules: Municipality) -> SyncReport:
    """What `sync_city` would change, without writing (CityConflict when it would refuse)."""
    try:
        _sync_once(rules, Actor.system(), dry_run=True)
    except _DryRun as done:
        return done.report
    return SyncReport(())


def sync_city(
    rules: Municipality, actor: Actor | None = None, say: Callable[[str], None] | None = None
) -> SyncReport:
    """Bring the tables in step with `rules`; CityConflict (nothing written) when it cannot."""
    for attempt in range(SQLITE_RETRIES):
        try:
            report = _sync_once(rules, actor or Actor.system())
        except (OperationalError, IntegrityError) as exc:
            # SQLite: another process is writing (or has just written the same rows); PostgreSQL
            # serialises syncs with an advisory lock and never gets here for that reason.
            from ztl.extensions import db

            busy = isinstance(exc, IntegrityError) or "locked" in str(exc)
            if db.engine.dialect.name != "sqlite" or not busy or attempt == SQLITE_RETRIES - 1:
                raise
            time.sleep(0.1 * 2**attempt)
            continue
        for line in report.changes:
            log.info("rules file applied: %s", line)
            if say is not None:
                say(line)
        return report
    raise AssertionError("unreachable")  # pragma: no cover


def _sync_once(rules: Municipality, actor: Actor, dry_run: bool = False) -> SyncReport:
    digest = city_digest(rules)
    with unit_of_work() as session:
        city = session.get(City, 1)
        if city is not None and city.digest == digest:
            return SyncReport(())
        if session.get_bind().dialect.name == "postgresql":
            session.execute(select(func.pg_advisory_xact_lock(SYNC_LOCK_KEY)))
            city = session.get(City, 1, populate_existing=True)
            if city is not None and city.digest == digest:
                return SyncReport(())
        changes: list[str] = []
        problems: list[str] = []
        city = _identity(session, city, rules, digest, changes, problems)
        zones = _zones(session, rules, changes, problems)
        _gates(session, rules, zones, changes, problems)
        _categories(session, rules, zones, changes, problems)
        if problems:
            raise CityConflict(problems)
        if dry_run:
            raise _DryRun(SyncReport(tuple(changes)))
        if changes:
            record_event(
                session, actor, "city", rules.code, "rules_applied", data={"changes": changes}
            )
        return SyncReport(tuple(changes))


def _identity(
    session: AnySession,
    city: City | None,
    rules: Municipality,
    digest: str,
    changes: list[str],
    problems: list[str],
) -> City:
    patron = rules.patron_saint
    patron_text = f"{patron[0]:02d}-{patron[1]:02d}" if patron else None
    now = utcnow()
    if city is None:
        city = City(id=1, code=rules.code, name=rules.name, timezone=rules.timezone)
        city.patron_saint, city.digest, city.synced_at = patron_text, digest, now
        session.add(city)
        changes.append(f"municipality: {rules.name} ({rules.code}), time zone {rules.timezone}")
        return city
    if city.code != rules.code:
        issued = session.scalar(select(func.count()).select_from(Permit)) or 0
        if issued:
            problems.append(
                f"municipality code {city.code} -> {rules.code}: {issued} permits were issued "
                f"and sealed as {city.code}; a database serves one municipality"
            )
    for label, old, new in (
        ("code", city.code, rules.code),
        ("name", city.name, rules.name),
        ("time zone", city.timezone, rules.timezone),
        ("patron saint", city.patron_saint or "none", patron_text or "none"),
    ):
        if old != new:
            changes.append(f"municipality {label}: {old} -> {new}")
    city.code, city.name, city.timezone = rules.code, rules.name, rules.timezone
    city.patron_saint, city.digest, city.synced_at = patron_text, digest, now
    return city


def _calendar_text(stored: str) -> str:
    try:
        return calendar_from_data(json.loads(stored)).text()
    except (ValueError, TypeError, KeyError):
        return "unreadable"


def _entries(stored: str) -> object:
    try:
        return json.loads(stored).get("entries")
    except (ValueError, AttributeError):
        return None


def _calendar_json(calendar: ZoneCalendar) -> str:
    return json.dumps(calendar_data(calendar), sort_keys=True)


def _zones(
    session: AnySession, rules: Municipality, changes: list[str], problems: list[str]
) -> dict[str, Zone]:
    zones = {z.code: z for z in session.scalars(select(Zone))}
    for zone_rules in rules.zones:
        wanted = _calendar_json(zone_rules.calendar)
        zone = zones.get(zone_rules.code)
        if zone is None:
            zone = zones[zone_rules.code] = Zone(
                code=zone_rules.code, name=zone_rules.name, calendar=wanted, active=True
            )
            session.add(zone)
            changes.append(
                f"zone {zone_rules.code}: added ({zone_rules.name}; {zone_rules.calendar.text()})"
            )
            continue
        if zone.name != zone_rules.name:
            changes.append(f"zone {zone.code}: name {zone.name} -> {zone_rules.name}")
            zone.name = zone_rules.name
        if zone.calendar != wanted:
            # A new patron saint alone changes every zone's data but no zone's hours as written:
            # the municipality's line says it once.
            if _entries(zone.calendar) != _entries(wanted):
                before = _calendar_text(zone.calendar)
                changes.append(f"zone {zone.code}: {before} -> {zone_rules.calendar.text()}")
            zone.calendar = wanted
        if not zone.active:
            changes.append(f"zone {zone.code}: in force again")
            zone.active = True
    wanted_codes = {z.code for z in rules.zones}
    for code, zone in sorted(zones.items()):
        if code in wanted_codes or not zone.active:
            continue
        active = _count(
            session,
            select(func.count())
            .select_from(PermitZone)
            .join(Permit, Permit.id == PermitZone.permit_id)
            .where(PermitZone.zone_id == zone.id, Permit.status == PermitStatus.ACTIVE.value),
        )
        waiting = _count(
            session,
            select(func.count())
            .select_from(ApplicationZone)
            .join(Application, Application.id == ApplicationZone.application_id)
            .where(ApplicationZone.zone_id == zone.id, Application.status.in_(OPEN_APPLICATIONS)),
        )
        if active or waiting:
            problems.append(
                f"zone {code} is no longer in the file but {active} active permits and "
                f"{waiting} open applications name it"
            )
            continue
        named = _count(
            session,
            select(func.count()).select_from(PermitZone).where(PermitZone.zone_id == zone.id),
        ) + _count(
            session,
            select(func.count())
            .select_from(ApplicationZone)
            .where(ApplicationZone.zone_id == zone.id),
        )
        if named:
            zone.active = False
            changes.append(f"zone {code}: withdrawn (kept for the history of ended permits)")
        else:
            session.execute(
                delete(Zone).where(Zone.id == zone.id).execution_options(synchronize_session=False)
            )
            changes.append(f"zone {code}: removed")
    session.flush()
    return {code: zone for code, zone in zones.items() if code in wanted_codes}


def _gates(
    session: AnySession,
    rules: Municipality,
    zones: dict[str, Zone],
    changes: list[str],
    problems: list[str],
) -> None:
    gates = {g.code: g for g in session.scalars(select(Gate))}
    for gate_rules in rules.gates:
        zone = zones[gate_rules.zone]
        gate = gates.get(gate_rules.code)
        if gate is None:
            session.add(
                Gate(
                    code=gate_rules.code,
                    name=gate_rules.name,
                    zone=zone,
                    direction=gate_rules.direction,
                )
            )
            changes.append(
                f"gate {gate_rules.code}: added ({gate_rules.name}, zone {gate_rules.zone}, "
                f"{gate_rules.direction})"
            )
            continue
        for label, old, new in (
            ("name", gate.name, gate_rules.name),
            ("zone", gate.zone.code if gate.zone else "", gate_rules.zone),
            ("direction", gate.direction, gate_rules.direction),
        ):
            if old != new:
                changes.append(f"gate {gate.code}: {label} {old} -> {new}")
        gate.name, gate.zone, gate.direction = gate_rules.name, zone, gate_rules.direction
    wanted = {g.code for g in rules.gates}
    for code, gate in sorted(gates.items()):
        if code in wanted:
            continue
        recorded = _count(
            session, select(func.count()).select_from(PlateLookup).where(PlateLookup.gate == code)
        )
        if recorded:
            problems.append(
                f"gate {code} is no longer in the file but {recorded} recorded transits were "
                "read at it (they are kept until the retention purge)"
            )
            continue
        session.delete(gate)
        changes.append(f"gate {code}: removed")


def _categories(
    session: AnySession,
    rules: Municipality,
    zones: dict[str, Zone],
    changes: list[str],
    problems: list[str],
) -> None:
    categories = {c.code: c for c in session.scalars(select(Category))}
    for category_rules in rules.categories:
        category = categories.get(category_rules.code)
        wanted = _category_data(category_rules)
        if category is None:
            category = Category(code=category_rules.code)
            session.add(category)
            changes.append(f"category {category_rules.code}: added ({category_rules.name_en})")
        else:
            old = _stored_category(category)
            for key, value in wanted.items():
                if old[key] != value:
                    changes.append(
                        f"category {category.code}: {key.replace('_', ' ')} "
                        f"{_show(old[key])} -> {_show(value)}"
                    )
            if not category.active:
                changes.append(f"category {category.code}: in force again")
        category.name_it, category.name_en = category_rules.name_it, category_rules.name_en
        category.validity = category_rules.validity[0]
        category.decided_by = category_rules.decided_by
        category.max_plates = category_rules.max_plates
        category.active = True
        category.zones = [zones[code] for code in category_rules.zones]
        windows = [(w.start_minute, w.end_minute, w.weekdays) for w in category_rules.windows]
        if [(w.start_minute, w.end_minute, w.weekdays) for w in category.windows] != windows:
            category.windows.clear()
            session.flush()
            category.windows.extend(
                CategoryWindow(start_minute=s, end_minute=e, weekdays=d) for s, e, d in windows
            )
    wanted_codes = {c.code for c in rules.categories}
    for code, category in sorted(categories.items()):
        if code in wanted_codes or not category.active:
            continue
        waiting = _count(
            session,
            select(func.count())
            .select_from(Application)
            .where(
                Application.category_id == category.id, Application.status.in_(OPEN_APPLICATIONS)
            ),
        )
        if waiting:
            problems.append(
                f"category {code} is no longer in the file but {waiting} open applications "
                "are for it: decide or withdraw them first"
            )
            continue
        category.active = False
        changes.append(f"category {code}: withdrawn (its permits stay valid until they end)")


def _stored_category(category: Category) -> dict[str, Any]:
    return {
        "name_it": category.name_it,
        "name_en": category.name_en,
        "validity": category.validity,
        "decided_by": category.decided_by,
        "max_plates": category.max_plates,
        "zones": [z.code for z in category.zones],
        "windows": [
            DailyWindow(w.start_minute, w.end_minute, w.weekdays).text() for w in category.windows
        ],
    }


def _show(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "always"
    return str(value)


def _count(session: AnySession, statement: Any) -> int:
    return int(session.scalar(statement) or 0)


def sync_on_start(app: Flask) -> None:
    """Start-up: bring the tables in step, unless the database is not migrated yet (or away).

    A database without the city table is waiting for `ztl db upgrade`, which syncs after
    migrating; an unreachable one is the health check's business, not a reason to refuse to
    start. A conflict (or a broken rules file, raised earlier) does stop start-up.
    """
    if not app.config.get("ZTL_SYNC_CITY_ON_START", True):
        return
    from ztl.city.rules_config import current_rules
    from ztl.extensions import db

    with app.app_context():
        try:
            if not inspect(db.engine).has_table(City.__tablename__):
                log.warning("the database is not migrated: run `ztl db upgrade`")
                return
            sync_city(current_rules(app))
        except (OperationalError, ProgrammingError) as exc:
            log.warning("the city was not brought in step at start-up: %s", exc.orig or exc)
        finally:
            db.session.remove()
