"""Where an applicant is in the guided application: the steps the step indicator shows.

Why computed here and not in the pages: the current step follows from the application's state and
its checks (a draft whose only failing check is a missing document is at the documents step, one
ready to send at the last step), and the form, the application page and the tests must agree on
it. The steps are the real order of the portal: choose a category, fill in vehicles and data, read
the checks, attach the documents, send and pay.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ztl.eligibility.applicant_view import (
    WAITING_FOR_DOCUMENTS,
    applicant_outcome,
)
from ztl.models import Application
from ztl.models.enums import ApplicationStatus

CATEGORY = "category"
DETAILS = "details"
CHECKS = "checks"
DOCUMENTS = "documents"
SEND_AND_PAY = "send_and_pay"
STEPS = (CATEGORY, DETAILS, CHECKS, DOCUMENTS, SEND_AND_PAY)
# Every step done: the application was sent and, where due, paid.
DONE = "done"


def current_step(application: Application | None) -> str:
    """The step the applicant is at: DETAILS while filling in the form (no application yet, or a
    draft being changed is passed as None by the form), then from the application's state."""
    if application is None:
        return DETAILS
    if application.status == ApplicationStatus.DRAFT.value:
        return _draft_step(application.outcome, application.verdict)
    if application.status == ApplicationStatus.SUBMITTED.value and application.paid_at is None:
        return SEND_AND_PAY
    return DONE


def _draft_step(outcome: str | None, verdict: Iterable[Mapping[str, Any]] | None) -> str:
    shown = applicant_outcome(outcome, verdict)
    if shown == WAITING_FOR_DOCUMENTS:
        return DOCUMENTS
    if shown == "not_eligible" or shown is None:
        return CHECKS
    return SEND_AND_PAY


def step_states(current: str) -> list[tuple[str, str]]:
    """Each step with its state for the indicator: "done", "current" or "todo"."""
    position = STEPS.index(current) if current in STEPS else len(STEPS)
    return [
        (step, "done" if i < position else ("current" if i == position else "todo"))
        for i, step in enumerate(STEPS)
    ]
