"""Figures for the supervisors' dashboard, each one aggregate query (GROUP BY) in the database.

Why in SQL: a city has hundreds of thousands of permits; counting them in Python would load every
row on every visit of the dashboard. Each function returns every group, zeros included, so a chart
shows a category or a status with no permits instead of leaving it out.

"Active" means status active and not yet ended (valid_to in the future): a permit whose validity
has run out but that the expiry job has not yet marked is no longer in force on the street.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select

from ztl.extensions import db
from ztl.models import Application, Category, Permit, PermitZone, Zone, utcnow
from ztl.models.enums import ApplicationStatus, PermitStatus
from ztl.registries.schemas import registry_kind

# Applications that wait for the office (or for the applicant's documents).
WAITING_STATUSES: tuple[str, ...] = (
    ApplicationStatus.SUBMITTED.value,
    ApplicationStatus.UNDER_REVIEW.value,
    ApplicationStatus.DOCUMENTS_REQUESTED.value,
)
# Age groups in whole days since submission: (key, last day of the group); None is open-ended.
AGE_GROUPS: tuple[tuple[str, int | None], ...] = (("0-7", 7), ("8-30", 30), ("31+", None))


@dataclass(frozen=True)
class CategoryCount:
    code: str
    name_it: str
    name_en: str
    count: int


@dataclass(frozen=True)
class ZoneCount:
    code: str
    name: str
    count: int


@dataclass(frozen=True)
class Dashboard:
    at: dt.datetime
    permits_by_category: list[CategoryCount]
    permits_by_zone: list[ZoneCount]
    waiting_by_status: dict[str, int]
    waiting_by_age: dict[str, int]
    flagged: int

    @property
    def active_permits(self) -> int:
        return sum(c.count for c in self.permits_by_category)

    @property
    def waiting(self) -> int:
        return sum(self.waiting_by_status.values())


def _in_force(now: dt.datetime) -> ColumnElement[bool]:
    return and_(Permit.status == PermitStatus.ACTIVE.value, Permit.valid_to > now)


def active_permits_by_category(now: dt.datetime) -> list[CategoryCount]:
    """Permits in force per category; categories no longer offered appear only if they have some."""
    count = func.count(Permit.id)
    rows = db.session.execute(
        select(Category.code, Category.name_it, Category.name_en, count)
        .outerjoin(Permit, and_(Permit.category_id == Category.id, _in_force(now)))
        .group_by(Category.id, Category.code, Category.name_it, Category.name_en, Category.active)
        .having(or_(Category.active.is_(True), count > 0))
        .order_by(Category.id)
    ).all()
    return [CategoryCount(code, name_it, name_en, n) for code, name_it, name_en, n in rows]


def active_permits_by_zone(now: dt.datetime) -> list[ZoneCount]:
    """Permits in force per zone; a permit valid in two zones counts in each."""
    in_force = (
        select(PermitZone.zone_id, Permit.id.label("permit_id"))
        .join(Permit, Permit.id == PermitZone.permit_id)
        .where(_in_force(now))
        .subquery()
    )
    rows = db.session.execute(
        select(Zone.code, Zone.name, func.count(in_force.c.permit_id))
        .outerjoin(in_force, in_force.c.zone_id == Zone.id)
        .group_by(Zone.id, Zone.code, Zone.name)
        .order_by(Zone.code)
    ).all()
    return [ZoneCount(code, name, n) for code, name, n in rows]


def waiting_by_status() -> dict[str, int]:
    """Applications waiting, per status (every waiting status, zeros included)."""
    rows = db.session.execute(
        select(Application.status, func.count())
        .where(Application.status.in_(WAITING_STATUSES))
        .group_by(Application.status)
    ).all()
    counts = dict.fromkeys(WAITING_STATUSES, 0)
    counts.update(dict(rows))
    return counts


def waiting_by_age(now: dt.datetime) -> dict[str, int]:
    """Applications waiting, per age group in days since submission (creation if never submitted).

    Day n covers the n-th 24 hours after submission: submitted 7 days and 23 hours ago is day 7.
    """
    since = func.coalesce(Application.submitted_at, Application.created_at)
    whens = [
        (since > now - dt.timedelta(days=last + 1), literal(key))
        for key, last in AGE_GROUPS
        if last is not None
    ]
    open_ended = next(key for key, last in AGE_GROUPS if last is None)
    grouped = (
        select(case(*whens, else_=literal(open_ended)).label("age_group"))
        .where(Application.status.in_(WAITING_STATUSES))
        .subquery()
    )
    rows = db.session.execute(
        select(grouped.c.age_group, func.count()).group_by(grouped.c.age_group)
    ).all()
    counts = {key: 0 for key, _last in AGE_GROUPS}
    counts.update(dict(rows))
    return counts


def flagged_permits_count(now: dt.datetime) -> int:
    """Permits in force that the registry re-check flagged: they wait for a clerk's decision."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Permit)
            .where(_in_force(now), Permit.flagged_at.is_not(None))
        )
        or 0
    )


def dashboard(now: dt.datetime | None = None) -> Dashboard:
    now = now or utcnow()
    return Dashboard(
        at=now,
        permits_by_category=active_permits_by_category(now),
        permits_by_zone=active_permits_by_zone(now),
        waiting_by_status=waiting_by_status(),
        waiting_by_age=waiting_by_age(now),
        flagged=flagged_permits_count(now),
    )


def registry_rows(kind: str) -> int:
    """How many rows a register holds (residents, vehicles, ...).

    Counted before and after an upload import, the difference is the rows the file added; the rest
    of the rows it imported matched a key already present (the importer itself counts them together).
    """
    table = registry_kind(kind, {}).table
    return db.session.scalar(select(func.count()).select_from(table)) or 0
