"""The clerks' queue and the application page's data: filtered, sorted, paginated, searchable.

Why SQL does the work: a municipality keeps every application it ever received (100,000 and more),
and the queue must answer in well under a tenth of a second. Filters become WHERE clauses on
indexed columns (status and submission time share an index), plates and zones are EXISTS
sub-queries, only one page of rows is loaded, with its plates and category in two extra queries.
"""

from __future__ import annotations

import datetime as dt
import math
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select, union
from sqlalchemy.orm import selectinload

from ztl.extensions import db
from ztl.infrastructure.unit_of_work import ServiceError
from ztl.models import (
    Application,
    ApplicationPlate,
    ApplicationZone,
    Business,
    Category,
    Event,
    Permit,
    PermitPlate,
    Resident,
    User,
    Zone,
)
from ztl.models.enums import ApplicationStatus
from ztl.permits.from_applications import failed_checks
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
    names: dict[str, str]  # applicant id (codice fiscale, partita IVA) -> the name to show


def applicant_names(applicant_ids: set[str]) -> dict[str, str]:
    """Who each applicant is, for people to read: the anagrafe's name (any omocodic variant),
    else the account's, and a firm's name from the business register. Three indexed queries for
    one page of the queue; an applicant found nowhere has no entry (the page shows the id)."""
    people = {i for i in applicant_ids if len(i) == 16}
    firms = applicant_ids - people
    keys: dict[str, str] = {}
    for cf in people:
        try:
            keys[cf] = subject_key(cf)
        except InvalidValue:
            keys[cf] = cf
    names: dict[str, str] = {}
    by_key: dict[str, str] = {}
    if people:
        for resident in db.session.scalars(
            select(Resident).where(Resident.person_key.in_(set(keys.values())))
        ):
            by_key.setdefault(resident.person_key, f"{resident.given_name} {resident.family_name}")
        missing = {k for k in keys.values() if k not in by_key}
        if missing:
            accounts = db.session.execute(
                select(User.person_key, User.full_name)
                .where(User.person_key.in_(missing))
                .order_by(User.id)
            )
            for key, full_name in accounts:
                if key is not None and full_name:
                    by_key.setdefault(key, full_name)
        names.update({cf: by_key[key] for cf, key in keys.items() if key in by_key})
    if firms:
        rows = db.session.execute(
            select(Business.partita_iva, Business.name).where(Business.partita_iva.in_(firms))
        )
        names.update(dict(rows.all()))  # Row pairs (the Result itself would be read as a mapping)
    return names


SURNAME_CHARACTERS = frozenset(" '’-")  # besides letters, accented ones included


def _application_ids_with_plate(plate: str) -> Any:
    """Applications naming the plate, and those whose permit carries it now: a plate change
    issues a replacement permit (same application) with the new plate."""
    asked = select(ApplicationPlate.application_id).where(ApplicationPlate.plate == plate)
    on_permit = (
        select(Permit.application_id)
        .join(PermitPlate, PermitPlate.permit_id == Permit.id)
        .where(PermitPlate.plate == plate, Permit.application_id.is_not(None))
    )
    return union(asked, on_permit)


def _applicant_ids_with_surname(prefix: str) -> Any:
    """Codici fiscali of residents whose surname starts with the text (any case), and of accounts
    whose name does (someone who is not in the anagrafe), and partite IVA of firms by name."""
    pattern = prefix.lower().replace("\\", "").replace("%", "").replace("_", "") + "%"
    residents = select(Resident.codice_fiscale).where(
        func.lower(Resident.family_name).like(pattern)
    )
    accounts = select(User.codice_fiscale).where(
        User.codice_fiscale.is_not(None), func.lower(User.full_name).like("% " + pattern)
    )
    firms = select(Business.partita_iva).where(func.lower(Business.name).like(pattern))
    return union(residents, accounts, firms)


def _search_clause(statement: Select[Any], text: str) -> tuple[Select[Any], bool]:
    """The search as a WHERE clause, and whether it ignores the status filter (a permit number:
    a clerk who types one wants that application, whatever the queue shows)."""
    raw = text.strip().upper()
    if raw.isdigit() and len(raw) <= 9:  # an application number
        return statement.where(Application.id == int(raw)), False
    if raw.count("-") >= 2 and raw[:2].isalpha():  # a permit number, PO-2026-000123
        permit_app = select(Permit.application_id).where(Permit.number == raw)
        return statement.where(Application.id.in_(permit_app.scalar_subquery())), True
    compact = raw.replace(" ", "")
    if (len(compact) == 16 and compact.isalnum()) or (len(compact) == 11 and compact.isdigit()):
        keys = {compact}
        if len(compact) == 16:
            with suppress(InvalidValue):  # omocodic variants are one person
                keys.add(subject_key(compact))
        return statement.where(Application.applicant_id.in_(keys)), False
    conditions = []
    try:
        # IN over the plate indexes, not a correlated EXISTS: SQLite would probe once per row.
        with_plate = _application_ids_with_plate(normalise_plate(raw))
        conditions.append(Application.id.in_(select(with_plate.subquery().c[0])))
    except InvalidValue:
        pass
    if len(raw.strip()) >= 2 and all(c.isalpha() or c in SURNAME_CHARACTERS for c in raw):
        named = _applicant_ids_with_surname(raw.strip())
        conditions.append(Application.applicant_id.in_(select(named.subquery().c[0])))
    if not conditions:
        return statement.where(Application.id == -1), False  # unreadable text matches nothing
    return statement.where(or_(*conditions)), False


def _filtered(query: QueueQuery, now: dt.datetime) -> Select[Any]:
    statement = select(Application)
    any_status = False
    if query.search.strip():
        statement, any_status = _search_clause(statement, query.search)
    if any_status or (query.search.strip() and not query.status):
        # A search looks across statuses (the default filter only shapes the bare queue).
        statement = statement.where(Application.status != ApplicationStatus.DRAFT.value)
    elif query.status == "all":
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
    names = applicant_names({a.applicant_id for a in rows})
    return QueuePage(list(rows), total, page, pages, query, names)


@dataclass(frozen=True)
class ApplicationFile:
    """Everything a clerk sees about one application."""

    application: Application
    events: list[Event]
    permits: list[Permit]
    failed_checks: list[str]  # an approval overrules them, so it needs a reason


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
    return ApplicationFile(application, list(events), list(permits), failed_checks(application))


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
