"""Check results and the verdict they add up to."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 (a check status, not a password)
    FAIL = "fail"
    REVIEW = "needs_review"


class Outcome(StrEnum):
    ELIGIBLE = "eligible"
    NOT_ELIGIBLE = "not_eligible"
    NEEDS_REVIEW = "needs_review"


@dataclass(frozen=True)
class Message:
    """A sentence a person understands, in both languages of the service."""

    it: str
    en: str

    def in_language(self, language: str) -> str:
        return self.en if language == "en" else self.it


@dataclass(frozen=True)
class CheckResult:
    check_id: str  # stable: stored with applications, shown to clerks, used by tests
    status: Status
    message: Message
    evidence: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.check_id,
            "status": self.status.value,
            "message": {"it": self.message.it, "en": self.message.en},
            "evidence": dict(self.evidence),
        }


@dataclass(frozen=True)
class Verdict:
    """Every check's result, and the outcome: any fail refuses, else any review asks a person."""

    results: tuple[CheckResult, ...]

    @classmethod
    def of(cls, results: Iterable[CheckResult]) -> Verdict:
        return cls(tuple(results))

    @property
    def outcome(self) -> Outcome:
        statuses = {result.status for result in self.results}
        if Status.FAIL in statuses:
            return Outcome.NOT_ELIGIBLE
        if Status.REVIEW in statuses:
            return Outcome.NEEDS_REVIEW
        return Outcome.ELIGIBLE

    def result(self, check_id: str) -> CheckResult | None:
        return next((r for r in self.results if r.check_id == check_id), None)

    def to_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome.value, "checks": [r.to_dict() for r in self.results]}
