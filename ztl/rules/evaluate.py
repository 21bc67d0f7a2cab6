"""The verdict of one application: the category's checks, run on the facts, in the file's order.

Vehicle checks run once per plate (the plate is in each result's evidence). A check that has nothing
to look at (a foreign plate's emission class) is left out rather than passed, so the verdict shows
only what was really checked. Which function a check id runs, and on what, is the check's own
declaration in the registry (ztl.rules.checks.CHECKS); only the two checks of the application's
shape, `zones_allowed` and `plates_count`, are part of every verdict and built in here.
"""

from __future__ import annotations

from collections.abc import Iterator

from ztl.rules.checks import CHECKS
from ztl.rules.facts import ApplicationFacts
from ztl.rules.municipality import CategoryRules, Municipality
from ztl.rules.results import CheckResult, Message, Status, Verdict


def evaluate(municipality: Municipality, facts: ApplicationFacts) -> Verdict:
    """Deterministic: the same rules and facts always give the same verdict."""
    category = municipality.category(facts.category)
    results: list[CheckResult] = []
    results.extend(_shape_checks(category, facts))
    for spec in category.checks:
        # The loader admits only registered checks, so the lookup cannot fail on a loaded file.
        check = CHECKS[spec.check_id]
        results.extend(check.results(municipality, category, facts, spec.params))
    return Verdict.of(results)


def _shape_checks(category: CategoryRules, facts: ApplicationFacts) -> Iterator[CheckResult]:
    """What the application itself asks for: zones of the category, number of plates."""
    unknown = sorted(set(facts.zones) - set(category.zones))
    if unknown or not facts.zones:
        yield CheckResult(
            "zones_allowed",
            Status.FAIL,
            Message(
                f"La categoria {category.code} vale per le zone {', '.join(category.zones)}.",
                f"Category {category.code} is valid for zones {', '.join(category.zones)}.",
            ),
            {"requested": list(facts.zones), "allowed": list(category.zones)},
        )
    if not 1 <= len(facts.vehicles) <= category.max_plates:
        yield CheckResult(
            "plates_count",
            Status.FAIL,
            Message(
                f"Indicare da 1 a {category.max_plates} targhe per questa categoria.",
                f"Give 1 to {category.max_plates} plates for this category.",
            ),
            {"plates": len(facts.vehicles), "max_plates": category.max_plates},
        )
