"""E-mail to applicants: submitted, documents requested, decision, permit issued, expiry reminders;
and the daily job that marks permits past their end as expired.

Why these functions never raise: they run after the business transaction has committed (the permit
exists whether or not the e-mail leaves), so a mail server that is down must not turn a successful
approval into an error page. Every attempt is a `Notification` row: claimed before sending, then
marked sent or given the error, so a clerk can answer "I never got the e-mail" and the reminder job
sends each reminder once (the unique constraint on (kind, permit) makes a second claim fail).
The messages about one application or permit are jobs (ztl.cluster.queue): sent by the queue's
workers with retries when the nodes share a Redis, at once in the request otherwise; each carries
an idempotency key chosen when it was decided, so a job run twice sends it once.

Messages are plain-text templates in templates/email/ (first line the subject, then the body),
rendered in the recipient's language; Italian is the source text, English comes from gettext.
The municipality signing them and the time zone of their dates are the rules file's (the same
identity as the pages, the PDF and the seal), never configuration of their own. So is the office's
contact at the foot of every message, and the appeal a rejection states (ztl.city.public_info, the
same words as the public pages). Each message links to the page it is about on the portal, at
ZTL_PUBLIC_URL: a job has no request to take the host from.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from ztl.city import public_info
from ztl.city.rules_config import current_rules
from ztl.cluster.queue import dispatch
from ztl.infrastructure.events import record_event
from ztl.infrastructure.unit_of_work import Actor, AnySession, unit_of_work
from ztl.mail import Attachment, MailError, OutgoingMessage, send_message
from ztl.models import Application, Category, Notification, Permit, User, utcnow
from ztl.models.enums import ApplicationStatus, PermitStatus
from ztl.values import display

logger = logging.getLogger(__name__)

KIND_SUBMITTED = "application_submitted"
KIND_DOCUMENTS = "documents_requested"
KIND_APPROVED = "application_approved"
KIND_REJECTED = "application_rejected"
KIND_ISSUED = "permit_issued"
KIND_DECISION = "decision"  # approved or rejected: the draft says which
# Expiry reminders, most urgent first: (days before valid_to, kind).
REMINDERS: tuple[tuple[int, str], ...] = ((7, "expiry_7"), (30, "expiry_30"), (60, "expiry_60"))
REMINDER_KINDS = tuple(kind for _, kind in REMINDERS)
_LONGEST_NOTICE = dt.timedelta(days=max(days for days, _ in REMINDERS))
# A claim neither sent nor failed after this long was left by a run killed while sending (one
# message takes seconds); the next run sends it (see _abandoned_before).
ABANDONED_AFTER = dt.timedelta(minutes=15)
_SUBJECT_MAX = 300  # the column's length
_CHUNK = 500  # ids per IN (...) query

SENT, FAILED, DUPLICATE = "sent", "failed", "duplicate"


@dataclass(frozen=True)
class ReminderSummary:
    """What one run of the reminder job did; (kind, permit number) pairs."""

    sent: tuple[tuple[str, str], ...] = ()
    failed: tuple[tuple[str, str], ...] = ()
    already_sent: int = 0  # permits in a reminder window whose reminder went out before


@dataclass(frozen=True)
class _Draft:
    """A rendered message and what its Notification row records."""

    kind: str
    language: str
    message: OutgoingMessage
    application_id: int | None = None
    permit_id: int | None = None
    key: str | None = None  # the message's idempotency key (Notification.idempotency_key)


# --- public functions ------------------------------------------------------------------------


def notify_application_submitted(application_id: int) -> None:
    """Confirm receipt of an application to the account that submitted it."""
    _notify(KIND_SUBMITTED, application_id)


def notify_documents_requested(application_id: int, message: str) -> None:
    """Pass the clerk's request for documents on to the applicant, word for word."""
    _notify(KIND_DOCUMENTS, application_id, message)


def notify_decision(application_id: int) -> None:
    """Tell the applicant the outcome: approved (or already issued), or rejected with the reason."""
    _notify(KIND_DECISION, application_id)


def notify_permit_issued(permit_id: int) -> None:
    """Send the signed PDF to the holder; once per permit (a retried issuance sends nothing)."""
    _notify(KIND_ISSUED, permit_id)


def send_notification(what: str, args: list[Any], key: str) -> str:
    """The job that sends one message: built now from the database, delivered once under `key`.

    Raises MailError when the message could not be sent, so that the queue tries again later (a
    retry finds the failed row by its key and takes it over); SENT, DUPLICATE (sent before, by an
    earlier run of this job) or "nothing" (no recipient) otherwise.
    """
    with unit_of_work() as session:
        draft = _BUILDERS[what](session, *args)
    if draft is None:
        return "nothing"
    outcome = _deliver(replace(draft, key=key))
    if outcome == FAILED:
        raise MailError(f"{what} message {key} not sent; retried later")
    if outcome == DUPLICATE and not _was_sent(key, draft):
        # Claimed by an earlier run of this job that a dead worker left half-way: once the claim
        # is abandoned (ABANDONED_AFTER), a later retry takes it over and sends it.
        raise MailError(f"{what} message {key} claimed by an unfinished attempt; retried later")
    return outcome


def _was_sent(key: str, draft: _Draft) -> bool:
    same = Notification.idempotency_key == key
    if draft.permit_id is not None:
        same = or_(
            same,
            (Notification.kind == draft.kind) & (Notification.permit_id == draft.permit_id),
        )
    with unit_of_work() as session:
        return (
            session.scalar(select(Notification.id).where(same, Notification.sent_at.is_not(None)))
            is not None
        )


def send_expiry_reminders(now: dt.datetime) -> ReminderSummary:
    """Remind holders of active permits ending within 60, 30 or 7 days, each reminder once.

    Only the most urgent threshold a permit has reached is considered (a permit first seen 5 days
    before its end gets the 7-day reminder, not three messages). A permit shorter than a notice
    period gets no reminder of it (a day permit is not "expiring in 7 days"). A reminder whose
    sending failed is tried again by the next run; one that went out is never sent again.
    """
    _require_aware(now)
    due = _due_reminders(now)
    done = _claimed_reminders([permit_id for permit_id, _, _ in due])
    sent: list[tuple[str, str]] = []
    failed: list[tuple[str, str]] = []
    already = 0
    for permit_id, number, kind in due:
        if (permit_id, kind) in done:
            already += 1
            continue
        draft = _reminder_draft_safely(permit_id, kind)
        if draft is None:
            continue
        outcome = _deliver(draft)
        if outcome == SENT:
            sent.append((kind, number))
        elif outcome == FAILED:
            failed.append((kind, number))
        else:
            already += 1
    return ReminderSummary(tuple(sent), tuple(failed), already)


def expire_permits(now: dt.datetime) -> int:
    """Mark active permits whose validity has ended as expired, one event each, one transaction.

    Why a job and not only a date comparison: lists, pages and the clerks' queue filter on status,
    and the audit trail should say when a permit stopped being active. No seal is revoked: an
    expired seal already fails verification by its own dates.
    """
    _require_aware(now)
    actor = Actor.system()
    with unit_of_work() as session:
        permits = session.scalars(
            select(Permit)
            .where(Permit.status == PermitStatus.ACTIVE.value, Permit.valid_to <= now)
            .order_by(Permit.id)
            .with_for_update()
        ).all()
        for permit in permits:
            permit.status = PermitStatus.EXPIRED.value
            permit.ended_at = permit.valid_to
            permit.end_reason = "validity ended"
            permit.flagged_at = None
            record_event(
                session,
                actor,
                "permit",
                permit.id,
                PermitStatus.EXPIRED.value,
                data={"number": permit.number, "valid_to": permit.valid_to.isoformat()},
            )
        count = len(permits)
    return count


# --- one notification: build, claim, send, record ---------------------------------------------


def _notify(what: str, *args: Any) -> None:
    """Hand one message to the job queue (or send it now, on one machine), under a key of its own;
    any failure is logged, never raised to the caller."""
    key = f"{what}:{secrets.token_hex(12)}"
    try:
        dispatch(send_notification, what, list(args), key, key=f"mail-{key}", timeout=120)
    except MailError as exc:
        logger.warning("notification %s not sent: %s", what, exc)
    except Exception:
        logger.exception("notification %s not sent", what)


def _deliver(draft: _Draft) -> str:
    """Claim a Notification row, send, record the outcome: SENT, FAILED or DUPLICATE."""
    notification_id = _claim(draft)
    if notification_id is None:
        return DUPLICATE
    error: str | None = None
    try:
        send_message(draft.message)
    except MailError as exc:
        error = str(exc)
    except Exception as exc:  # a bug must still leave a trace on the row, not a "pending" forever
        logger.exception("notification %s (%s): unexpected error", notification_id, draft.kind)
        error = f"{type(exc).__name__}: {exc}"[:500]
    _finish(notification_id, error)
    if error is not None:
        logger.warning("notification %s (%s) not sent: %s", notification_id, draft.kind, error)
        return FAILED
    logger.info("notification %s (%s) sent", notification_id, draft.kind)
    return SENT


def _claim(draft: _Draft) -> int | None:
    """The row for this attempt; None when the (kind, permit) message was already sent or claimed."""
    fields: dict[str, Any] = {
        "recipient": draft.message.to,
        "language": draft.language,
        "subject": draft.message.subject[:_SUBJECT_MAX],
    }
    try:
        with unit_of_work() as session:
            if draft.permit_id is not None or draft.key is not None:
                found, retried = _reclaim_failed(session, draft, fields)
                if found:
                    return retried
            row = Notification(
                kind=draft.kind,
                application_id=draft.application_id,
                permit_id=draft.permit_id,
                idempotency_key=draft.key,
                **fields,
            )
            session.add(row)
            session.flush()
            notification_id = row.id
    except IntegrityError:
        return None
    return notification_id


def _reclaim_failed(
    session: AnySession, draft: _Draft, fields: dict[str, Any]
) -> tuple[bool, int | None]:
    """(found, id): a failed earlier attempt, or one abandoned (claimed, never finished: the job
    was killed), is taken over atomically, so two runs cannot both."""
    same = (
        Notification.idempotency_key == draft.key
        if draft.key is not None
        else (Notification.kind == draft.kind) & (Notification.permit_id == draft.permit_id)
    )
    existing = session.scalar(select(Notification.id).where(same))
    if existing is None and draft.key is not None and draft.permit_id is not None:
        existing = session.scalar(  # the permit's one message, sent under another key
            select(Notification.id).where(
                Notification.kind == draft.kind, Notification.permit_id == draft.permit_id
            )
        )
    if existing is None:
        return False, None
    result = session.execute(
        update(Notification)
        .where(
            Notification.id == existing,
            Notification.sent_at.is_(None),
            or_(Notification.error.is_not(None), Notification.created_at < _abandoned_before()),
        )
        .values(error=None, created_at=utcnow(), **fields)
        .execution_options(synchronize_session=False)
    )
    claimed = result.rowcount == 1  # type: ignore[attr-defined]
    return True, existing if claimed else None


def _finish(notification_id: int, error: str | None) -> None:
    with unit_of_work() as session:
        row = session.get(Notification, notification_id)
        if row is None:
            return
        if error is None:
            row.sent_at = utcnow()
        else:
            row.error = error


# --- drafts -----------------------------------------------------------------------------------


# What happened to an application by the time its receipt is written (it is built after the
# submission committed): each case says what comes next, and never "the office will examine it" of
# an application the checks let through and issued in the same second.
SUBMITTED_ISSUED = "issued"  # free, decided automatically, checks passed: the permit exists
SUBMITTED_APPROVED = "approved"  # approved, the permit not yet issued
SUBMITTED_PAYMENT = "payment"  # a pagoPA notice to pay first
SUBMITTED_REVIEW = "review"  # with the office (a clerk decides, or a check needs one)
SUBMITTED_OTHER = "other"  # already withdrawn or decided: only the receipt


def submitted_case(application: Application) -> str:
    """Which receipt an application gets, from its state right after the submission."""
    status = application.status
    if status == ApplicationStatus.ISSUED.value:
        return SUBMITTED_ISSUED
    if status == ApplicationStatus.APPROVED.value:
        return SUBMITTED_APPROVED
    if status == ApplicationStatus.SUBMITTED.value and application.paid_at is None:
        return SUBMITTED_PAYMENT
    if status in {
        ApplicationStatus.SUBMITTED.value,
        ApplicationStatus.UNDER_REVIEW.value,
        ApplicationStatus.DOCUMENTS_REQUESTED.value,
    }:
        return SUBMITTED_REVIEW
    return SUBMITTED_OTHER


def _submitted_draft(session: AnySession, application_id: int) -> _Draft | None:
    application = _application(session, application_id)
    user = _recipient(session, application.user_id if application else None)
    if application is None or user is None:
        return None
    language = _language(user)
    submitted = application.submitted_at or application.created_at
    return _draft(
        KIND_SUBMITTED,
        "application_submitted",
        user,
        application_id=application.id,
        number=application.id,
        category=_category_name(application.category, language),
        submitted_on=display.date_text(submitted, _timezone()),
        case=submitted_case(application),
        by_clerk=application.category.decided_by == "clerk",
        link=_application_link(application.id),
    )


def _documents_draft(session: AnySession, application_id: int, message: str) -> _Draft | None:
    application = _application(session, application_id)
    user = _recipient(session, application.user_id if application else None)
    if application is None or user is None:
        return None
    return _draft(
        KIND_DOCUMENTS,
        "documents_requested",
        user,
        application_id=application.id,
        number=application.id,
        category=_category_name(application.category, _language(user)),
        message=(message or "").strip(),
        link=_application_link(application.id),
    )


def _decision_draft(session: AnySession, application_id: int) -> _Draft | None:
    application = _application(session, application_id)
    user = _recipient(session, application.user_id if application else None)
    if application is None or user is None:
        return None
    approved = {ApplicationStatus.APPROVED.value, ApplicationStatus.ISSUED.value}
    if application.status in approved:
        kind = KIND_APPROVED
    elif application.status == ApplicationStatus.REJECTED.value:
        kind = KIND_REJECTED
    else:
        logger.warning(
            "application %s is %s: no decision to notify", application.id, application.status
        )
        return None
    return _draft(
        kind,
        kind,
        user,
        application_id=application.id,
        number=application.id,
        category=_category_name(application.category, _language(user)),
        reason=(application.decision_reason or "").strip() if kind == KIND_REJECTED else "",
        link=_application_link(application.id),
    )


def _issued_draft(session: AnySession, permit_id: int) -> _Draft | None:
    permit = _permit(session, permit_id)
    user = _recipient(session, permit.holder_user_id if permit else None)
    if permit is None or user is None:
        return None
    if not permit.pdf:
        logger.warning("permit %s has no document: nothing to send", permit.id)
        return None
    language = _language(user)
    return _draft(
        KIND_ISSUED,
        "permit_issued",
        user,
        application_id=permit.application_id,
        permit_id=permit.id,
        attachments=(Attachment(f"{permit.number}.pdf", "application/pdf", permit.pdf),),
        link=_permit_link(permit.number),
        **_permit_context(permit, language),
        **_period_context(permit, language),
    )


def _reminder_draft(session: AnySession, permit_id: int, kind: str) -> _Draft | None:
    permit = _permit(session, permit_id)
    user = _recipient(session, permit.holder_user_id if permit else None)
    if permit is None or user is None:
        return None
    language = _language(user)
    return _draft(
        kind,
        "expiry_reminder",
        user,
        application_id=permit.application_id,
        permit_id=permit.id,
        until=display.validity_end_text(permit.valid_to, _timezone(), language),
        link=_permit_link(permit.number),
        **_permit_context(permit, language),
    )


def _reminder_draft_safely(permit_id: int, kind: str) -> _Draft | None:
    """One permit's reminder; a broken one is logged and skipped, the others still go out."""
    try:
        with unit_of_work() as session:
            draft = _reminder_draft(session, permit_id, kind)
    except Exception:
        logger.exception("reminder %s for permit %s not built", kind, permit_id)
        return None
    return draft


# The messages a job can send, by the name `_notify` queues them under.
_BUILDERS: dict[str, Callable[..., _Draft | None]] = {
    KIND_SUBMITTED: _submitted_draft,
    KIND_DOCUMENTS: _documents_draft,
    KIND_DECISION: _decision_draft,
    KIND_ISSUED: _issued_draft,
}


def _draft(
    kind: str,
    template: str,
    user: User,
    *,
    application_id: int | None = None,
    permit_id: int | None = None,
    attachments: tuple[Attachment, ...] = (),
    **context: Any,
) -> _Draft:
    language = _language(user)
    subject, body = _render(template, language, name=user.full_name, **context)
    message = OutgoingMessage(user.email.strip(), subject, body, attachments)
    return _Draft(kind, language, message, application_id, permit_id)


def _render(template: str, language: str, **context: Any) -> tuple[str, str]:
    """(subject, body) of templates/email/<template>.txt in the language.

    Through the Jinja environment, not render_template: the page context processors need a request
    (the signed-in user, the URL), and a message rendered by the daily job has none.
    """
    rules = current_rules()
    with force_locale(language):
        text = current_app.jinja_env.get_template(f"email/{template}.txt").render(
            municipality=rules.name,
            office_lines=public_info.office_contact_lines(rules),
            appeal=public_info.appeal_text(rules, language),
            decision_term=public_info.decision_days_text(rules, language),
            **context,
        )
    subject, _, body = text.strip().partition("\n")
    lines = (line.rstrip() for line in body.strip().splitlines())
    return subject.strip(), re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


# --- reminders: which permits, which kind -----------------------------------------------------


def reminder_kind(valid_from: dt.datetime, valid_to: dt.datetime, now: dt.datetime) -> str | None:
    """The most urgent reminder a permit has reached at `now`, or None."""
    left = valid_to - now
    if left <= dt.timedelta(0):
        return None
    for days, kind in REMINDERS:
        notice = dt.timedelta(days=days)
        if left <= notice:
            return kind if valid_to - valid_from > notice else None
    return None


def _due_reminders(now: dt.datetime) -> list[tuple[int, str, str]]:
    """(permit id, number, kind) for active permits with a holder account, ending within the notice."""
    with unit_of_work() as session:
        rows = session.execute(
            select(Permit.id, Permit.number, Permit.valid_from, Permit.valid_to)
            .where(
                Permit.status == PermitStatus.ACTIVE.value,
                Permit.holder_user_id.is_not(None),
                Permit.valid_to > now,
                Permit.valid_to <= now + _LONGEST_NOTICE,
            )
            .order_by(Permit.valid_to, Permit.id)
        ).all()
    due = []
    for permit_id, number, valid_from, valid_to in rows:
        kind = reminder_kind(valid_from, valid_to, now)
        if kind is not None:
            due.append((permit_id, number, kind))
    return due


def _abandoned_before() -> dt.datetime:
    """A claim older than this, neither sent nor failed, belongs to a run that was killed while
    sending: the next run takes it over. A message handed to the mail server in the instant
    before the kill may then go twice; without the takeover it would never go."""
    return utcnow() - ABANDONED_AFTER


def _claimed_reminders(permit_ids: Sequence[int]) -> set[tuple[int, str]]:
    """Reminders sent or being sent; a failed one (error, not sent) or an abandoned claim is not
    here: it is retried."""
    claimed: set[tuple[int, str]] = set()
    with unit_of_work() as session:
        for chunk in _chunks(permit_ids, _CHUNK):
            rows = session.execute(
                select(Notification.permit_id, Notification.kind).where(
                    Notification.permit_id.in_(chunk),
                    Notification.kind.in_(REMINDER_KINDS),
                    (Notification.sent_at.is_not(None))
                    | (
                        Notification.error.is_(None)
                        & (Notification.created_at >= _abandoned_before())
                    ),
                )
            ).all()
            claimed.update((permit_id, kind) for permit_id, kind in rows if permit_id is not None)
    return claimed


def _chunks(items: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- small helpers ----------------------------------------------------------------------------


def portal_link(endpoint: str, **values: Any) -> str | None:
    """The absolute address of a portal page, at ZTL_PUBLIC_URL; None when it is not set (the
    message then names the personal area without a link). Built from the URL map, not a
    request, because the reminder job has none."""
    base = current_app.config.get("ZTL_PUBLIC_URL")
    if not base:
        return None
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return str(base).rstrip("/") + path


def _application_link(application_id: int) -> str | None:
    return portal_link("resident.application", application_id=application_id)


def _permit_link(number: str) -> str | None:
    return portal_link("resident.permit", number=number)


def _application(session: AnySession, application_id: int) -> Application | None:
    application = session.get(Application, application_id)
    if application is None:
        logger.warning("no application %s: nothing to notify", application_id)
    return application


def _permit(session: AnySession, permit_id: int) -> Permit | None:
    permit = session.get(Permit, permit_id)
    if permit is None:
        logger.warning("no permit %s: nothing to notify", permit_id)
    return permit


def _recipient(session: AnySession, user_id: int | None) -> User | None:
    """The account to write to; None (and nothing recorded) without an account or an address."""
    if user_id is None:
        return None
    user = session.get(User, user_id)
    if user is None or not (user.email or "").strip():
        return None
    return user


def _language(user: User) -> str:
    languages = current_app.config["ZTL_LANGUAGES"]
    if user.language in languages:
        return user.language
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def _category_name(category: Category, language: str) -> str:
    return category.name_en if language == "en" and category.name_en else category.name_it


def _permit_context(permit: Permit, language: str) -> dict[str, Any]:
    return {
        "number": permit.number,
        "category": _category_name(permit.category, language),
        "plates": ", ".join(plate.plate for plate in permit.plates),
    }


def _period_context(permit: Permit, language: str) -> dict[str, Any]:
    """The period as every page, the PDF and the seal verifiers write it: "dal 01/03/2026 al
    28/02/2027 compreso" for whole days, with the times otherwise (a two-hour permit)."""
    return {
        "validity": display.validity_text(permit.valid_from, permit.valid_to, _timezone(), language)
    }


def _timezone() -> str:
    """The municipality's time zone: the wall clock its permits and hours are read in."""
    return current_rules().timezone


def _require_aware(now: dt.datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("naive datetime: pass the time with an offset (UTC)")
