"""Issuing the permit an approved application asked for: a new permit, or the renewal it names.

Why a module of its own: a renewal replaces a permit (permit_changes), and permit_changes creates
permits through issuance; the use case that chooses between the two sits above both, so neither
imports the other back.

The clerk's approval, automatic approval after payment, the counter and hotel guests' registrations
all end here. Retrying an issuance that already committed returns the permit that exists.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ztl.city.rules_config import current_rules
from ztl.infrastructure.events import record_event
from ztl.infrastructure.unit_of_work import Actor, AnySession, ServiceError, unit_of_work
from ztl.models import Application, Permit, User, utcnow
from ztl.models.enums import ApplicationStatus, Role
from ztl.permits.changes import renew_for_application
from ztl.permits.documents import IssuanceError
from ztl.permits.issuance import (
    IssueResult,
    PermitSpec,
    create_permit,
    issue_result,
    locked_application,
)
from ztl.rules.checks import CHECKS
from ztl.rules.registry import Fact
from ztl.rules.validity import Period, ValidityError, permit_period
from ztl.values import InvalidValue
from ztl.values.fiscal import subject_key


def _existing_permit(session: AnySession, application: Application) -> Permit | None:
    return session.scalars(
        select(Permit).where(Permit.application_id == application.id).order_by(Permit.id.desc())
    ).first()


def application_period(application: Application, now: dt.datetime) -> Period:
    rules = current_rules()
    category = rules.category(application.category.code)
    details = application.details or {}
    duration = details.get("validity") or category.validity[0]
    timezone = ZoneInfo(rules.timezone)
    today = now.astimezone(timezone).date()
    first_day = max(application.requested_from or today, today)
    needs = CHECKS.facts(category.checks)
    if details.get("transit_at") and Fact.TRANSIT in needs:
        # A retroactive registration covers the day of the transit it was made for.
        transit = dt.datetime.fromisoformat(details["transit_at"])
        first_day = min(first_day, transit.astimezone(timezone).date())
    if details.get("days") and duration.endswith("D") and duration[1:-1].isdigit():
        # Hotel guests: the nights of the stay, up to the category's maximum.
        duration = f"P{min(int(details['days']), int(duration[1:-1]))}D"
    start = now
    if duration.startswith("PT") and details.get("starts_at"):
        start = max(dt.datetime.fromisoformat(details["starts_at"]), now)
    badge_until = None
    if Fact.BADGES in needs and application.facts:
        # The permit ends with the badge its checks looked at.
        dates = [b.get("valid_until") for b in application.facts.get("badges", [])]
        valid = [dt.date.fromisoformat(d) for d in dates if d]
        badge_until = max(valid) if valid else None
    try:
        return permit_period(duration, start, timezone, first_day, badge_until)
    except ValidityError as exc:
        raise IssuanceError(f"cannot compute the validity: {exc}", code="validity") from exc


def _holder_key(applicant_id: str) -> str:
    """Permits are held under the canonical id, so household limits see every omocodic variant."""
    try:
        return subject_key(applicant_id)
    except InvalidValue:
        return applicant_id


def holder_account(session: AnySession, application: Application) -> User | None:
    """The resident account a permit's messages go to: whoever applied, if a resident; for an
    application a clerk made at the counter, the account of the person it names, if they have one.

    Why: at the counter the application is the clerk's, and the permit's e-mails (issued, expiring)
    went to the clerk instead of the holder.
    """
    applicant = session.get(User, application.user_id) if application.user_id else None
    if applicant is not None and applicant.role == Role.RESIDENT.value:
        return applicant
    holder = _holder_key(application.applicant_id)
    if len(holder) != 16:  # a firm: its permits' messages go to whoever applied for it
        return None
    return session.scalar(
        select(User)
        .where(
            User.person_key == holder,
            User.role == Role.RESIDENT.value,
            User.active.is_(True),
            User.frozen_at.is_(None),
        )
        .order_by(User.id)
        .limit(1)
    )


def _spec_for(
    application: Application, now: dt.datetime, holder: User | None, holder_name: str
) -> PermitSpec:
    zone_codes = tuple((application.facts or {}).get("zones") or ()) or tuple(
        z.code for z in application.zones
    )
    if not zone_codes:
        zone_codes = tuple(z.code for z in application.category.zones)
    return PermitSpec(
        category=application.category,
        holder_id=_holder_key(application.applicant_id),
        plates=tuple((p.plate, p.country) for p in application.plates),
        zone_codes=zone_codes,
        period=application_period(application, now),
        fee_cents=application.fee_cents,
        stamp_duty_cents=application.stamp_duty_cents,
        holder_user_id=holder.id if holder is not None else None,
        application_id=application.id,
        holder_name=holder_name,
    )


def issue_locked_application(
    session: AnySession, application: Application, actor: Actor, now: dt.datetime
) -> tuple[Permit, bool]:
    """Issue an approved application inside the caller's transaction; (permit, created)."""
    existing = _existing_permit(session, application)
    if application.status == ApplicationStatus.ISSUED.value and existing is not None:
        return existing, False
    if application.status != ApplicationStatus.APPROVED.value:
        raise ServiceError(
            f"application {application.id} is {application.status}, not approved",
            code="not_approved",
        )
    holder = holder_account(session, application)
    # The registers' name comes first on the PDF; the account's is the fallback.
    holder_name = holder.full_name if holder is not None else ""
    renews = (application.details or {}).get("renews")
    if renews:
        permit = renew_for_application(session, str(renews), application, actor, now)
    else:
        spec = _spec_for(application, now, holder, holder_name)
        permit = create_permit(session, spec, actor, now)
    application.status = ApplicationStatus.ISSUED.value
    record_event(
        session, actor, "application", application.id, "issued", data={"permit": permit.number}
    )
    return permit, True


def issue_for_application(
    application_id: int, actor: Actor, at: dt.datetime | None = None
) -> IssueResult:
    """Issue an approved application's permit; a retry returns the permit already issued."""
    now = at or utcnow()
    with unit_of_work() as session:
        application = locked_application(session, application_id)
        permit, created = issue_locked_application(session, application, actor, now)
        result = issue_result(permit, created)
    return result


def approve_locked_application(
    session: AnySession,
    application: Application,
    actor: Actor,
    now: dt.datetime,
    reason: str | None,
    overruled: list[str] | None = None,
) -> tuple[Permit, bool]:
    """Approve and issue inside the caller's transaction (payment, clerk): (permit, created)."""
    if application.status == ApplicationStatus.ISSUED.value:
        return issue_locked_application(session, application, actor, now)
    decidable = {
        ApplicationStatus.SUBMITTED.value,
        ApplicationStatus.UNDER_REVIEW.value,
        ApplicationStatus.DOCUMENTS_REQUESTED.value,
        ApplicationStatus.APPROVED.value,
    }
    if application.status not in decidable:
        raise ServiceError(
            f"application {application.id} is {application.status}: it cannot be approved",
            code="not_decidable",
        )
    application.status = ApplicationStatus.APPROVED.value
    application.decided_at = now
    application.decided_by_id = actor.user_id
    application.decision_reason = reason
    data = {"overruled_checks": overruled} if overruled else None
    record_event(
        session, actor, "application", application.id, "approved", reason=reason, data=data
    )
    return issue_locked_application(session, application, actor, now)


def failed_checks(application: Application) -> list[str]:
    """The checks the stored verdict says the application fails (their stable ids)."""
    return [
        str(result.get("id", ""))
        for result in application.verdict or []
        if result.get("status") == "fail"
    ]


def approve_application(
    application_id: int, actor: Actor, reason: str | None = None, at: dt.datetime | None = None
) -> IssueResult:
    """The clerk's approval: approve and issue in one transaction (one decision, one permit).

    Approving against a failing check is a person overruling the rules: it needs a reason, which
    the approval's event keeps with the checks it overruled. A retried approval needs nothing."""
    now = at or utcnow()
    with unit_of_work() as session:
        application = locked_application(session, application_id)
        failing = failed_checks(application)
        if failing and not reason and application.status != ApplicationStatus.ISSUED.value:
            raise ServiceError(
                f"application {application_id} fails {', '.join(failing)}: a reason is required",
                code="override_reason_missing",
            )
        permit, created = approve_locked_application(
            session, application, actor, now, reason, overruled=failing
        )
        result = issue_result(permit, created)
    return result
