"""What an applicant reads of the checks: every verdict and sentence, never another person.

Why one place: the evidence the checks keep is for clerks (who owns a car, the person a leased or
company car is assigned to, a firm's registered id, a codice fiscale as the register spells it).
The same results reach applicants through the eligibility API, the pre-check and their data
export; each of those passes them through here, so a check added tomorrow with a new personal
field is hidden everywhere by adding its name once. The sentences never name anyone: a car that is
not the applicant's reads "not owned or used by the applicant or their household".

The outcome is worded for the applicant too: a verdict that fails only because a required document
is not attached yet is not a refusal but a step still to do, so the applicant reads "waiting for a
document" (WAITING_FOR_DOCUMENTS) where a clerk reads "not eligible". The rules keep their one
verdict (a missing document fails `documents_attached`); this is only how it is told.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# The applicant's reading of a verdict that fails only for documents not attached yet.
WAITING_FOR_DOCUMENTS = "waiting_for_documents"
# The checks whose failure an applicant cures by attaching a document (ztl/rules/checks.py).
DOCUMENT_CHECKS = frozenset({"documents_attached"})

# Evidence fields that identify a person or a firm other than what the applicant typed.
PERSONAL_EVIDENCE = frozenset({"owner", "holder", "subject_id", "canonical", "partita_iva"})


def checks_for_applicant(checks: Iterable[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """The check results without their personal evidence."""
    shown = []
    for check in checks or ():
        evidence = check.get("evidence") or {}
        shown.append(
            {
                **check,
                "evidence": {k: v for k, v in evidence.items() if k not in PERSONAL_EVIDENCE},
            }
        )
    return shown


def result_for_applicant(result: Mapping[str, Any]) -> dict[str, Any]:
    """An eligibility answer (EligibilityResult.to_dict) as the applicant may read it."""
    return {**result, "checks": checks_for_applicant(result.get("checks"))}


def failing_checks(checks: Iterable[Mapping[str, Any]] | None) -> set[str]:
    """The ids of the checks that failed (a stored verdict names them "id"; older ones
    "check_id")."""
    return {
        str(c.get("id") or c.get("check_id")) for c in checks or () if c.get("status") == "fail"
    }


def applicant_outcome(
    outcome: str | None, checks: Iterable[Mapping[str, Any]] | None
) -> str | None:
    """The outcome as the applicant reads it: "not eligible" only for a failure the applicant
    cannot cure by attaching a document; WAITING_FOR_DOCUMENTS when documents are all that fail."""
    if outcome != "not_eligible":
        return outcome
    failing = failing_checks(checks)
    if failing and failing <= DOCUMENT_CHECKS:
        return WAITING_FOR_DOCUMENTS
    return outcome
