"""The verdict of one application: the category's checks, run on the facts, in the file's order.

Vehicle checks run once per plate (the plate is in each result's evidence). A check that has nothing
to look at (a foreign plate's emission class) is left out rather than passed, so the verdict shows
only what was really checked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ztl.rules import checks
from ztl.rules.facts import ApplicationFacts, VehicleFacts
from ztl.rules.municipality import CategoryRules, CheckSpec, Municipality
from ztl.rules.results import CheckResult, Message, Status, Verdict


def evaluate(municipality: Municipality, facts: ApplicationFacts) -> Verdict:
    """Deterministic: the same rules and facts always give the same verdict."""
    category = municipality.category(facts.category)
    results: list[CheckResult] = []
    results.extend(_shape_checks(category, facts))
    for spec in category.checks:
        results.extend(r for r in _run(spec, municipality, category, facts) if r is not None)
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


def _allowed_keys(spec: CheckSpec, facts: ApplicationFacts) -> set[str]:
    to = spec.params["to"]
    keys = {facts.applicant.subject_key}
    if to == "household" and facts.residence is not None:
        keys |= set(facts.residence.household_keys)
    return keys


def _per_vehicle(
    facts: ApplicationFacts, check: Callable[[VehicleFacts], CheckResult | None]
) -> list[CheckResult | None]:
    return [check(vehicle) for vehicle in facts.vehicles]


def _run(
    spec: CheckSpec, municipality: Municipality, category: CategoryRules, facts: ApplicationFacts
) -> list[CheckResult | None]:
    p: Any = spec.params
    match spec.check_id:
        case "applicant_identity":
            return [checks.applicant_identity(facts.applicant)]
        case "residence_in_zone":
            return [checks.residence_in_zone(facts.residence, facts.zones)]
        case "household_limit":
            return [checks.household_limit(facts.history, p["limit"])]
        case "vehicle_found":
            return _per_vehicle(facts, checks.vehicle_found)
        case "vehicle_active":
            return _per_vehicle(facts, checks.vehicle_active)
        case "vehicle_tied":
            keys = _allowed_keys(spec, facts)
            return _per_vehicle(facts, lambda v: checks.vehicle_tied(v, keys))
        case "vehicle_category":
            return _per_vehicle(facts, lambda v: checks.vehicle_category(v, p["allowed"]))
        case "emission_floor":
            floor = municipality.emission_floor
            return _per_vehicle(facts, lambda v: checks.emission_floor(v, floor))
        case "badge_valid":
            return [checks.badge_valid(facts.badges, facts.valid_from)]
        case "business_seat_in_zone":
            return [checks.business_seat_in_zone(facts.business, facts.zones)]
        case "business_active":
            return [checks.business_active(facts.business)]
        case "one_permit_per_plate":
            return [
                checks.one_permit_per_plate(v.plate, facts.history, category.code)
                for v in facts.vehicles
            ]
        case "daily_monthly_limit":
            month = facts.valid_from.strftime("%Y-%m")
            return [
                checks.daily_monthly_limit(v.plate, facts.history, p["limit"], month)
                for v in facts.vehicles
            ]
        case "documents_attached":
            return [checks.documents_attached(category.documents, facts.documents)]
        case "retroactive_window":
            return [checks.retroactive_window(facts.transit_at, facts.at, p["hours"])]
    raise KeyError(f"check {spec.check_id!r} has no implementation")  # the loader prevents this
