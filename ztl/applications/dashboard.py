"""What an applicant's dashboard shows: their applications and permits, and what needs doing.

Which applications and permits are theirs is ztl.permissions' one rule (`owned_applications`,
`owned_permits`, `owns_application`, `owns_permit`): the same the data export lists, so a permit
issued at the counter for the person's codice fiscale is on the dashboard, and its pages open.

Why "what needs doing" is computed here and not in the template: the same list drives the reminder
of the dashboard, the e-mails and the tests, and it is a rule (renewal opens 60 days before expiry,
"expiring soon" is 30 days), not presentation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ztl.applications.applicant import total_due
from ztl.city.rules_config import current_rules
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import ServiceError
from ztl.models import Application, Event, Permit, User
from ztl.models.enums import ApplicationStatus, PermitStatus
from ztl.permissions import owned_applications, owned_permits, owns_application, owns_permit
from ztl.permits.changes import renewable, renewal_opens

EXPIRING_SOON_DAYS = 30


@dataclass(frozen=True)
class Todo:
    """One thing the applicant should do: kind (for the wording), and what it is about."""

    kind: str  # documents_requested, payment_due, draft, renewal_open, expiring_soon
    application_id: int | None = None
    permit_number: str | None = None
    message: str | None = None
    amount_cents: int = 0
    until: dt.datetime | None = None


@dataclass(frozen=True)
class Dashboard:
    todos: list[Todo]
    applications: list[Application]
    permits: list[Permit]


def _last_request(application_id: int) -> str | None:
    return db.session.scalars(
        select(Event.reason)
        .where(
            Event.subject_type == "application",
            Event.subject_id == str(application_id),
            Event.action == "documents_requested",
        )
        .order_by(Event.id.desc())
        .limit(1)
    ).first()


def can_renew(permit: Permit, now: dt.datetime) -> bool:
    if permit.status != PermitStatus.ACTIVE.value or now < renewal_opens(permit.valid_to):
        return False
    try:
        offered = current_rules().category(permit.category.code).validity
    except KeyError:
        return False
    return renewable(offered[0])


def dashboard(user: User, now: dt.datetime | None = None) -> Dashboard:
    moment = now or dt.datetime.now(dt.UTC)
    applications = list(
        db.session.scalars(
            select(Application)
            .where(owned_applications(user))
            .options(selectinload(Application.plates), selectinload(Application.category))
            .order_by(Application.id.desc())
            .limit(200)
        )
    )
    permits = list(
        db.session.scalars(
            select(Permit)
            .where(owned_permits(user))
            .options(selectinload(Permit.plates), selectinload(Permit.category))
            .order_by(Permit.id.desc())
            .limit(200)
        )
    )
    todos: list[Todo] = []
    for a in applications:
        if a.status == ApplicationStatus.DOCUMENTS_REQUESTED.value:
            todos.append(Todo("documents_requested", a.id, message=_last_request(a.id)))
        elif a.status == ApplicationStatus.SUBMITTED.value and a.paid_at is None and total_due(a):
            todos.append(Todo("payment_due", a.id, amount_cents=total_due(a)))
        elif a.status == ApplicationStatus.DRAFT.value:
            todos.append(Todo("draft", a.id))
    for p in permits:
        if p.status != PermitStatus.ACTIVE.value:
            continue
        if can_renew(p, moment):
            todos.append(Todo("renewal_open", permit_number=p.number, until=p.valid_to))
        elif p.valid_to - moment <= dt.timedelta(days=EXPIRING_SOON_DAYS):
            todos.append(Todo("expiring_soon", permit_number=p.number, until=p.valid_to))
    return Dashboard(todos, applications, permits)


def own_application(application_id: int, user: User) -> Application:
    application = db.session.get(Application, application_id)
    if application is None or not owns_application(user, application):
        raise ServiceError(f"no application {application_id}", code="not_found")
    return application


def own_permit(number: str, user: User) -> Permit:
    permit = db.session.scalars(select(Permit).where(Permit.number == number)).first()
    if permit is None or not owns_permit(user, permit):
        raise ServiceError(f"no permit {number}", code="not_found")
    return permit


def application_events(application_id: int) -> list[Event]:
    return list(
        db.session.scalars(
            select(Event)
            .where(Event.subject_type == "application", Event.subject_id == str(application_id))
            .order_by(Event.occurred_at, Event.id)
        )
    )
