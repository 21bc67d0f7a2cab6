"""A refusal by the checks that says which checks refused, and why, in the reader's language.

A code alone ("not_eligible") tells a person that something failed, not what: a resident whose
new plate is refused must read that the car is not theirs, or below the emission floor, to know
what to do. The checks already explain themselves in Italian and English (`Message`); this
refusal carries those sentences, so every page, file report and e-mail words it alike.
"""

from __future__ import annotations

from collections.abc import Iterable

from ztl.infrastructure.unit_of_work import ServiceError
from ztl.rules.results import CheckResult, Message, Status


class ChecksRefused(ServiceError):
    """The checks refused: `code` says how (the verdict's outcome, or the caller's own code);
    `reasons`, the sentences of the checks that did not pass, in both languages. The service's
    own text (English, for the people who run it) names the checks."""

    def __init__(self, results: Iterable[CheckResult], code: str) -> None:
        failing = [r for r in results if r.status is not Status.PASS]
        detail = "; ".join(f"{r.check_id}: {r.message.en}" for r in failing)
        super().__init__(f"the checks do not pass ({code}): {detail}", code=code)
        self.reasons: list[Message] = [r.message for r in failing]

    def reasons_in(self, language: str) -> str:
        return " ".join(reason.in_language(language) for reason in self.reasons)
