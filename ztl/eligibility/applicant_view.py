"""What an applicant reads of the checks: every verdict and sentence, never another person.

Why one place: the evidence the checks keep is for clerks (who owns a car, the person a leased or
company car is assigned to, a firm's registered id, a codice fiscale as the register spells it).
The same results reach applicants through the eligibility API, the pre-check and their data
export; each of those passes them through here, so a check added tomorrow with a new personal
field is hidden everywhere by adding its name once. The sentences never name anyone: a car that is
not the applicant's reads "not owned or used by the applicant or their household".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

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
