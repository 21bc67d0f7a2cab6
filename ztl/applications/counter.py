"""Issuing at the counter (`ztl permits issue`): a clerk applies, checks and issues in one step.

The same checks and the same issuance as the online path: an application is stored with its facts
and verdict, approved by the clerk, and issued in one transaction. A "no" stores nothing and says
which checks failed; a verdict that needs a person to look is issued only when the clerk states why
(the reason is kept with the decision and in the audit trail).

The checks run twice: once to refuse at once without locking anything, and again in the issuing
transaction under the locks of the limits they count (household, plate), so that two counters
issuing for one family at the same moment cannot both pass the household limit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import select

from ztl.applications.clerk_queue import applicant_names
from ztl.eligibility.service import (
    EligibilityRequest,
    EligibilityResult,
    PlateInput,
    check_eligibility,
    store_verdict,
)
from ztl.infrastructure.events import record_event
from ztl.infrastructure.unit_of_work import Actor, AnySession, ServiceError, unit_of_work
from ztl.models import (
    Application,
    ApplicationPlate,
    Category,
    PaymentNotification,
    Zone,
    utcnow,
)
from ztl.models.enums import ApplicationStatus, PositionState
from ztl.payments.positions import Debt, create_position
from ztl.permits.from_applications import issue_locked_application
from ztl.permits.issuance import (
    IssueResult,
    checked_under_limit_locks,
)
from ztl.rules.results import Outcome


@dataclass(frozen=True)
class CounterRequest:
    category: str
    applicant_id: str
    plates: tuple[PlateInput, ...]
    zones: tuple[str, ...] = ()
    valid_from: dt.date | None = None
    validity: str | None = None
    starts_at: dt.datetime | None = None  # the two-hour permit's start
    documents: tuple[str, ...] = ()


class RefusedAtCounter(ServiceError):
    """The checks said no (or need a person and no reason was given); carries the verdict."""

    def __init__(self, message: str, code: str, result: EligibilityResult) -> None:
        super().__init__(message, code)
        self.result = result


def _refusal(result: EligibilityResult, review_reason: str | None) -> RefusedAtCounter | None:
    outcome = result.verdict.outcome
    if outcome is Outcome.ELIGIBLE or (outcome is Outcome.NEEDS_REVIEW and review_reason):
        return None
    lines = [
        f"{r.check_id} ({r.status.value}): {r.message.en}"
        for r in result.verdict.results
        if r.status.value != "pass"
    ]
    hint = (
        " (give --approve-review REASON to issue after looking)"
        if outcome.value == "needs_review"
        else ""
    )
    return RefusedAtCounter(f"{outcome.value}{hint}: " + "; ".join(lines), outcome.value, result)


def issue_at_counter(
    request: CounterRequest,
    actor: Actor,
    review_reason: str | None = None,
    at: dt.datetime | None = None,
) -> IssueResult:
    now = at or utcnow()
    question = EligibilityRequest(
        category=request.category,
        applicant_id=request.applicant_id,
        plates=request.plates,
        at=now,
        zones=request.zones,
        valid_from=request.valid_from,
        validity=request.validity,
        documents=request.documents,
    )
    result = check_eligibility(question)
    refusal = _refusal(result, review_reason)
    if refusal is not None:
        raise refusal
    with unit_of_work() as session:
        result = checked_under_limit_locks(session, result, lambda: check_eligibility(question))
        refusal = _refusal(result, review_reason)
        if refusal is not None:
            raise refusal
        category = session.scalars(select(Category).where(Category.code == request.category)).one()
        details: dict[str, str] = {"validity": result.validity, "channel": "counter"}
        if request.starts_at is not None:
            details["starts_at"] = request.starts_at.isoformat()
        application = Application(
            user_id=actor.user_id,
            applicant_id=result.facts.applicant.subject_id,
            category=category,
            status=ApplicationStatus.APPROVED.value,
            requested_from=request.valid_from,
            details=details,
            plates=[
                ApplicationPlate(plate=v.plate, country=v.country, position=i)
                for i, v in enumerate(result.facts.vehicles)
            ],
            zones=list(session.scalars(select(Zone).where(Zone.code.in_(result.facts.zones)))),
            submitted_at=now,
            paid_at=now,
            decided_at=now,
            decided_by_id=actor.user_id,
            decision_reason=review_reason,
        )
        store_verdict(application, result)
        session.add(application)
        session.flush()
        record_event(session, actor, "application", application.id, "submitted", reason="counter")
        record_event(
            session,
            actor,
            "application",
            application.id,
            "approved",
            reason=review_reason or result.verdict.outcome.value,
        )
        _record_counter_payment(session, application, actor, now)
        permit, _ = issue_locked_application(session, application, actor, now)
        issued = IssueResult(
            permit.id,
            permit.number,
            permit.seal_text or "",
            permit.pdf or b"",
            permit.valid_from,
            permit.valid_to,
            True,
        )
    return issued


def _record_counter_payment(
    session: AnySession, application: Application, actor: Actor, now: dt.datetime
) -> None:
    """The fee taken at the counter's desk (the municipality's cashier or its pagoPA POS), kept as
    a paid position with the cashier's receipt, so the accounting office's day counts it with the
    online payments. Free permits leave nothing to count."""
    due = application.fee_cents + application.stamp_duty_cents
    if due <= 0:
        return
    position = create_position(
        session,
        Debt(
            purpose="counter",
            category_code=application.category.code,
            fee_cents=application.fee_cents,
            stamp_duty_cents=application.stamp_duty_cents,
            payer_tax_code=application.applicant_id,
            payer_name=applicant_names({application.applicant_id}).get(
                application.applicant_id, application.applicant_id
            ),
            reason=f"Permesso ZTL {application.category.code} {application.category.name_it}, "
            "allo sportello",
            application_id=application.id,
        ),
        now,
    )
    receipt_id = f"SPORTELLO-{position.iuv}"
    position.provider = "counter"
    position.state = PositionState.PAID.value
    position.paid_at = now
    position.receipt_id = receipt_id
    application.payment_reference = position.iuv
    session.add(
        PaymentNotification(
            receipt_id=receipt_id,
            iuv=position.iuv,
            amount_cents=position.amount_cents,
            paid_at=now,
            received_at=now,
            outcome="accepted",
            code="paid",
            body_sha256=hashlib.sha256(receipt_id.encode()).hexdigest(),
            channel="counter",
            payer_tax_code=application.applicant_id,
            position_id=position.id,
        )
    )
    record_event(
        session,
        actor,
        "payment",
        position.iuv,
        "paid_at_counter",
        data={"amount_cents": position.amount_cents},
    )
