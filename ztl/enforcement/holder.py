"""The process's enforcement index, loaded from the database and kept in step with it.

A question first reads the one-row enforcement_state (epoch and version: a primary-key read), at
most every ZTL_ENFORCEMENT_REFRESH_SECONDS (default 0.1 s) and at once after a change committed
by this process. When it differs from what this process applied, the permits logged in
enforcement_change since that version are reloaded, and only those; a first load, a database that
went backwards (restored, emptied) or a long absence rebuilds everything. So a plate check never
queries the database per plate; a change is seen at once by the process that committed it and
within the refresh interval by every other one (the price of not reading the version per request,
which halved the API's throughput; 0 reads it every time). With a shared Redis (ZTL_REDIS_URL), a
committed change is announced to every process at once (ztl.cluster.notices) and the version is
read when a notice arrives, and only every ZTL_ENFORCEMENT_NOTIFIED_REFRESH_SECONDS (5 s) besides, in
case one was lost; while the notices' listener is disconnected, the polling interval applies.

The index keeps permits that ended recently (ZTL_ENFORCEMENT_LOOKBACK_DAYS, default 30) because
transits are often checked after the fact: a permit revoked today still covered yesterday's transit.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from sqlalchemy import select

from ztl.city.rules_config import current_rules
from ztl.cluster.notices import listening
from ztl.enforcement.changes import CONFIGURATION, local_commits, notices_received
from ztl.enforcement.index import EnforcementIndex, Grant, ZonePolicy
from ztl.infrastructure.unit_of_work import AnySession
from ztl.models import (
    Category,
    EnforcementChange,
    EnforcementState,
    Permit,
    PermitPlate,
    PermitWindow,
    PermitZone,
    Zone,
)
from ztl.models.enums import PermitStatus
from ztl.rules.calendar import calendar_from_data
from ztl.rules.checks import CHECKS
from ztl.rules.municipality import Municipality
from ztl.rules.windows import DailyWindow

EXTENSION_KEY = "ztl_enforcement_index"
FULL_RELOAD_ABOVE = 5_000  # changed permits beyond which one full load is cheaper
STILL_COUNTING = {PermitStatus.ACTIVE.value, PermitStatus.EXPIRED.value}


class IndexHolder:
    """One index per app (per database); safe to share between a process's threads."""

    def __init__(self) -> None:
        self._index: EnforcementIndex | None = None
        self._seen: tuple[str, int] | None = None
        self._lock = threading.Lock()
        self._checked_at = float("-inf")
        self._local = -1
        self._notices = -1

    def current(self, session: AnySession) -> EnforcementIndex:
        index = self._index
        moment = time.monotonic()
        setting = (
            "ZTL_ENFORCEMENT_NOTIFIED_REFRESH_SECONDS"
            if listening()
            else "ZTL_ENFORCEMENT_REFRESH_SECONDS"
        )
        interval = float(current_app.config.get(setting, 0.1))
        fresh_enough = (
            moment - self._checked_at < interval
            and self._local == local_commits()
            and self._notices == notices_received()
        )
        if index is not None and fresh_enough:
            return index
        self._local = local_commits()
        self._notices = notices_received()
        self._checked_at = moment
        state = session.execute(
            select(EnforcementState.epoch, EnforcementState.version).where(EnforcementState.id == 1)
        ).first()
        if state is None:  # no version row (an emptied database): nothing can be trusted
            with self._lock:
                self._index, self._seen = self._refresh(session, None, ("", 0)), None
                return self._index
        seen = (state[0], state[1])
        if index is not None and seen == self._seen:
            return index
        with self._lock:
            if self._index is None or self._seen != seen:
                self._index = self._refresh(session, self._index, seen)
                self._seen = seen
            return self._index

    def _refresh(
        self,
        session: AnySession,
        index: EnforcementIndex | None,
        seen: tuple[str, int],
    ) -> EnforcementIndex:
        epoch, version = seen
        same_database = self._seen is not None and self._seen[0] == epoch
        if index is not None and same_database and version > index.version:
            changed = list(
                session.scalars(
                    select(EnforcementChange.permit_id)
                    .where(EnforcementChange.version > index.version)
                    .where(EnforcementChange.version <= version)
                    .distinct()
                )
            )
            if CONFIGURATION not in changed and len(changed) <= FULL_RELOAD_ABOVE:
                for permit_id in changed:
                    index.drop(permit_id)
                for grant, plates in load_grants(session, changed):
                    index.put(grant, plates)
                index.version = version
                return index
        fresh = EnforcementIndex(_timezone(), zone_policies(session, current_rules()))
        for grant, plates in load_grants(session, None):
            fresh.put(grant, plates)
        fresh.version = version
        return fresh


def holder_for(app: Flask | None = None) -> IndexHolder:
    target = app or current_app
    holder = target.extensions.get(EXTENSION_KEY)
    if holder is None:
        holder = target.extensions.setdefault(EXTENSION_KEY, IndexHolder())
    return holder


def current_index(session: AnySession) -> EnforcementIndex:
    """The index, up to date with every committed permit change."""
    return holder_for().current(session)


def _timezone() -> ZoneInfo:
    return ZoneInfo(current_rules().timezone)


def zone_policies(session: AnySession, rules: Municipality) -> dict[str, ZonePolicy]:
    """Each zone's calendar (from the database, kept in step with the rules file by
    ztl.city.sync, so every process answers from the same one) and retroactive allowance."""
    rows = session.execute(
        select(Zone.code, Zone.calendar).where(Zone.active.is_(True)).order_by(Zone.code)
    )
    return {
        code: ZonePolicy(
            calendar_from_data(json.loads(calendar)), retroactive_hours(rules, code) * 3600.0
        )
        for code, calendar in rows
    }


def retroactive_hours(rules: Municipality, zone: str) -> int:
    """The longest time after a transit in which a registration may still authorize it there:
    what the checks of the zone's categories accept, as each declares (retroactive_window's
    `hours`)."""
    hours = [
        CHECKS.retroactive_hours(category.checks)
        for category in rules.categories
        if zone in category.zones
    ]
    return max((h for h in hours if h is not None), default=0)


def lookback() -> dt.timedelta:
    return dt.timedelta(days=int(current_app.config.get("ZTL_ENFORCEMENT_LOOKBACK_DAYS", 30)))


def load_grants(
    session: AnySession, permit_ids: Iterable[int] | None
) -> list[tuple[Grant, tuple[str, ...]]]:
    """Grants of the permits that count (active, or ended within the look-back), with plates."""
    cutoff = dt.datetime.now(dt.UTC) - lookback()
    statement = (
        select(
            Permit.id,
            Permit.number,
            Category.code,
            Permit.status,
            Permit.valid_from,
            Permit.valid_to,
            Permit.ended_at,
        )
        .join(Category, Category.id == Permit.category_id)
        .where(Permit.valid_to > cutoff)
    )
    wanted = None if permit_ids is None else sorted(set(permit_ids))
    if wanted is not None:
        if not wanted:
            return []
        statement = statement.where(Permit.id.in_(wanted))
    permits = session.execute(statement).all()
    if not permits:
        return []
    scope = [p[0] for p in permits] if wanted is not None else None
    plates = _children(session, select(PermitPlate.permit_id, PermitPlate.plate), scope)
    zones = _children(
        session,
        select(PermitZone.permit_id, Zone.code).join(Zone, Zone.id == PermitZone.zone_id),
        scope,
    )
    windows = _children(
        session,
        select(
            PermitWindow.permit_id,
            PermitWindow.start_minute,
            PermitWindow.end_minute,
            PermitWindow.weekdays,
        ),
        scope,
    )
    grants = []
    for permit_id, number, category, status, valid_from, valid_to, ended_at in permits:
        end = valid_to
        if status not in STILL_COUNTING:
            if ended_at is None:
                continue
            end = min(valid_to, ended_at)
        if end <= cutoff or end <= valid_from:
            continue
        grant = Grant(
            permit_id=permit_id,
            number=number,
            category=category,
            zones=frozenset(z[0] for z in zones.get(permit_id, ())),
            start=valid_from.timestamp(),
            end=end.timestamp(),
            windows=tuple(DailyWindow(*w) for w in windows.get(permit_id, ())),
        )
        grants.append((grant, tuple(p[0] for p in plates.get(permit_id, ()))))
    return grants


def _children(
    session: AnySession, statement: object, scope: list[int] | None
) -> dict[int, list[tuple[Any, ...]]]:
    """Rows of a permit's child table grouped by permit id (all of them, or those of `scope`)."""
    found: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    chunks = [scope[i : i + 500] for i in range(0, len(scope), 500)] if scope else [None]
    for chunk in chunks:
        query = statement
        if chunk is not None:
            query = query.where(query.selected_columns[0].in_(chunk))  # type: ignore[attr-defined]
        for row in session.execute(query):  # type: ignore[call-overload]
            found[row[0]].append(tuple(row[1:]))
    return found
