"""A clerk's decisions on an application: approve (and issue), reject, ask for documents.

Each is one transaction with its event (who and why): the history a clerk reads and the audit trail
are the same rows. The applicant is told by e-mail after the commit; a failed e-mail never undoes a
decision. A reason is required to reject and a message to ask for documents: the applicant must
know what to do.
"""

from __future__ import annotations

import datetime as dt

from ztl.infrastructure.events import record_event
from ztl.infrastructure.unit_of_work import Actor, AnySession, ServiceError, unit_of_work
from ztl.mail import notifications
from ztl.models import Application
from ztl.models.enums import ApplicationStatus
from ztl.payments.positions import end_application_payment, settle_cancellation
from ztl.permits.from_applications import approve_application
from ztl.permits.issuance import IssueResult, locked_application

OPEN_FOR_DECISION = {
    ApplicationStatus.SUBMITTED.value,
    ApplicationStatus.UNDER_REVIEW.value,
    ApplicationStatus.DOCUMENTS_REQUESTED.value,
}
MAX_TEXT = 2000


def _text(value: str, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ServiceError(f"a {what} is required", code=f"{what}_missing")
    return text[:MAX_TEXT]


def approve(
    application_id: int, actor: Actor, reason: str | None = None, at: dt.datetime | None = None
) -> IssueResult:
    """Approve and issue in one transaction; an approval retried returns the same permit."""
    result = approve_application(application_id, actor, (reason or "").strip() or None, at)
    if result.created:
        notifications.notify_decision(application_id)
        notifications.notify_permit_issued(result.permit_id)
    return result


def _open_for_decision(session: AnySession, application_id: int) -> Application:
    """The application, locked, while a clerk may still decide on it; "not_decidable" after."""
    application = locked_application(session, application_id)
    if application.status not in OPEN_FOR_DECISION:
        raise ServiceError(
            f"application {application_id} is {application.status}", code="not_decidable"
        )
    return application


def reject(application_id: int, actor: Actor, reason: str, at: dt.datetime | None = None) -> None:
    text = _text(reason, "reason")
    now = at or dt.datetime.now(dt.UTC)
    with unit_of_work() as session:
        application = _open_for_decision(session, application_id)
        application.status = ApplicationStatus.REJECTED.value
        application.decided_at = now
        application.decided_by_id = actor.user_id
        application.decision_reason = text
        record_event(session, actor, "application", application.id, "rejected", reason=text)
        cancelling = end_application_payment(session, application.id, "rejected", actor, now)
    if cancelling is not None:
        settle_cancellation(cancelling, "domanda respinta")
    notifications.notify_decision(application_id)


def request_documents(
    application_id: int, actor: Actor, message: str, at: dt.datetime | None = None
) -> None:
    text = _text(message, "message")
    with unit_of_work() as session:
        application = _open_for_decision(session, application_id)
        application.status = ApplicationStatus.DOCUMENTS_REQUESTED.value
        record_event(
            session, actor, "application", application.id, "documents_requested", reason=text
        )
    notifications.notify_documents_requested(application_id, text)
