"""The clerks' queue and the application page's data: filtered, sorted, paginated, searchable.

Why SQL does the work: a municipality keeps every application it ever received (100,000 and more),
and the queue must answer in well under a tenth of a second. Filters become WHERE clauses on
indexed columns (status and submission time share an index), plates and zones are EXISTS
sub-queries, only one page of rows is loaded, with its plates and category in two extra queries.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from ztl.extensions import db
from ztl.infrastructure.unit_of_work import ServiceError
from ztl.models import Application, ApplicationPlate, ApplicationZone, Category, Event, Permit, Zone
from ztl.models.enums import ApplicationStatus
from ztl.values import InvalidValue
from ztl.values.fiscal import subject_key
from ztl.values.plates import normalise_plate

# What waits for a clerk; the filter can widen it to any status.
WAITING = (ApplicationStatus.UNDER_REVIEW.value, ApplicationStatus.DOCUMENTS_REQUESTED.value)
SORTS = ("oldest", "newest", "category")
PER_PAGE = 25


@dataclass(frozen=True)
class QueueQuery:
    status: str = ""  # "" = waiting for a clerk; "all"; or one status
    category: str = ""
    zone: str = ""
    min_age_days: int | None = None
    search: str = ""
    sort: str = "oldest"
    page: int = 1


@dataclass(frozen=True)
class QueuePage:
    applications: list[Application]
    total: int
    page: int
    pages: int
    query: QueueQuery


def _search_clause(statement: Select[Any], text: str) -> Select[Any]:
    raw = text.strip().upper()
    if raw.isdigit() and len(raw) <= 9:  # an application number
        return statement.where(Application.id == int(raw))
    if raw.count("-") >= 2 and raw[:2].isalpha():  # a permit number, PO-2026-000123
        permit_app = select(Permit.application_id).where(Permit.number == raw)
        return statement.where(Application.id.in_(permit_app.scalar_subquery()))
    compact = raw.replace(" ", "")
    if (len(compact) == 16 and compact.isalnum()) or (len(compact) == 11 and compact.isdigit()):
        keys = {compact}
        if len(compact) == 16:
            keys.add(subject_key(compact))  # omocodic variants are one person
        return statement.where(Application.applicant_id.in_(keys))
    try:
        plate = normalise_plate(raw)
    except InvalidValue:
        return statement.where(Application.id == -1)  # nothing matches unreadable text
    # IN over the plate index, not a correlated EXISTS: SQLite would probe it once per application.
    with_plate = select(ApplicationPlate.application_id).where(ApplicationPlate.plate == plate)
    return statement.where(Application.id.in_(with_plate.scalar_subquery()))


def _filtered(query: QueueQuery, now: dt.datetime) -> Select[Any]:
    statement = select(Application)
    if query.status == "all":
        statement = statement.where(Application.status != ApplicationStatus.DRAFT.value)
    elif query.status:
        statement = statement.where(Application.status == query.status)
    else:
        statement = statement.where(Application.status.in_(WAITING))
    if query.category:
        category_id = select(Category.id).where(Category.code == query.category).scalar_subquery()
        statement = statement.where(Application.category_id == category_id)
    if query.zone:
        in_zone = (
            select(ApplicationZone.application_id)
            .join(Zone, Zone.id == ApplicationZone.zone_id)
            .where(Zone.code == query.zone)
            .where(ApplicationZone.application_id == Application.id)
            .exists()
        )
        statement = statement.where(in_zone)
    if query.min_age_days:
        statement = statement.where(
            Application.submitted_at <= now - dt.timedelta(days=query.min_age_days)
        )
    if query.search.strip():
        statement = _search_clause(statement, query.search)
    return statement


def queue_page(query: QueueQuery, now: dt.datetime | None = None) -> QueuePage:
    if query.sort not in SORTS:
        raise ServiceError(f"unknown sort {query.sort!r}", code="bad_input")
    moment = now or dt.datetime.now(dt.UTC)
    statement = _filtered(query, moment)
    total = db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    pages = max(1, math.ceil(total / PER_PAGE))
    page = min(max(1, query.page), pages)
    order: tuple[Any, ...] = {
        "oldest": (Application.submitted_at.asc(), Application.id.asc()),
        "newest": (Application.submitted_at.desc(), Application.id.desc()),
        "category": (Application.category_id.asc(), Application.submitted_at.asc()),
    }[query.sort]
    rows = db.session.scalars(
        statement.options(selectinload(Application.plates), selectinload(Application.category))
        .order_by(*order)
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE)
    ).all()
    return QueuePage(list(rows), total, page, pages, query)


@dataclass(frozen=True)
class ApplicationFile:
    """Everything a clerk sees about one application."""

    application: Application
    events: list[Event]
    permits: list[Permit]


def application_file(application_id: int) -> ApplicationFile:
    application = db.session.get(Application, application_id)
    if application is None:
        raise ServiceError(f"no application {application_id}", code="not_found")
    events = db.session.scalars(
        select(Event)
        .where(Event.subject_type == "application", Event.subject_id == str(application_id))
        .order_by(Event.occurred_at, Event.id)
    ).all()
    permits = db.session.scalars(
        select(Permit).where(Permit.application_id == application_id).order_by(Permit.id)
    ).all()
    return ApplicationFile(application, list(events), list(permits))


def permit_history(permit: Permit) -> list[Event]:
    return list(
        db.session.scalars(
            select(Event)
            .where(Event.subject_type == "permit", Event.subject_id == str(permit.id))
            .order_by(Event.occurred_at, Event.id)
        )
    )


def permit_by_number(number: str) -> Permit:
    permit = db.session.scalars(
        select(Permit).where(Permit.number == number.strip().upper())
    ).first()
    if permit is None:
        raise ServiceError(f"no permit {number}", code="not_found")
    return permit
