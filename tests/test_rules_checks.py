"""Each check of the catalogue: passing, failing and needs-review cases, with messages and evidence."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from ztl.rules import checks
from ztl.rules.facts import (
    ApplicantFacts,
    BadgeFacts,
    BusinessFacts,
    PermitHistory,
    ResidenceFacts,
    VehicleFacts,
)
from ztl.rules.results import CheckResult, Outcome, Status, Verdict

MARIO = "RSSMRA85T10A562S"
ANNA = "BNCNNA90D45D612C"
FIRM = "01234560048"


def home(status: str = "resident", zones: tuple[str, ...] = ("A",)) -> ResidenceFacts:
    return ResidenceFacts(status, "Via Ricasoli", "12/A", zones, "H1", (MARIO, ANNA))


def car(**changes: object) -> VehicleFacts:
    base = VehicleFacts(
        plate="AB123CD",
        country="IT",
        found=True,
        category="M1",
        fuel="petrol",
        euro_class=6,
        owner_key=MARIO,
        holder_key="",
        usage="owned",
        status="active",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def status_of(result: CheckResult | None) -> Status | None:
    return None if result is None else result.status


@pytest.mark.parametrize(
    ("applicant", "expected"),
    [
        (ApplicantFacts(MARIO, MARIO, True), Status.PASS),
        (ApplicantFacts("RSSMRA85T10A562X", "RSSMRA85T10A562X", False), Status.FAIL),
        (ApplicantFacts(FIRM, FIRM, True, is_firm=True), Status.PASS),
    ],
)
def test_applicant_identity(applicant: ApplicantFacts, expected: Status) -> None:
    result = checks.applicant_identity(applicant)
    assert result.status is expected and result.check_id == "applicant_identity"
    assert applicant.subject_id in result.message.it and applicant.subject_id in result.message.en


@pytest.mark.parametrize(
    ("residence", "zones", "expected"),
    [
        (home(), {"A"}, Status.PASS),
        (home(zones=("B",)), {"A"}, Status.FAIL),
        (home(zones=()), {"A", "B"}, Status.FAIL),
        (home(status="emigrated"), {"A"}, Status.FAIL),
        (home(zones=("A", "B")), {"A"}, Status.REVIEW),
        (None, {"A"}, Status.FAIL),
    ],
)
def test_residence_in_zone(
    residence: ResidenceFacts | None, zones: set[str], expected: Status
) -> None:
    result = checks.residence_in_zone(residence, zones)
    assert result.status is expected
    if residence is not None:
        assert result.evidence["street"] == "Via Ricasoli"


@pytest.mark.parametrize(
    ("used", "expected"), [(0, Status.PASS), (1, Status.PASS), (2, Status.FAIL), (3, Status.FAIL)]
)
def test_household_limit(used: int, expected: Status) -> None:
    result = checks.household_limit(PermitHistory(household_active_permits=used), limit=2)
    assert result.status is expected and result.evidence == {"active_permits": used, "limit": 2}


@pytest.mark.parametrize(
    ("vehicle", "found", "active"),
    [
        (car(), Status.PASS, Status.PASS),
        (car(status="stolen"), Status.PASS, Status.FAIL),
        (car(status="deregistered"), Status.PASS, Status.FAIL),
        (car(found=False), Status.FAIL, None),
        (VehicleFacts("MAB1234", country="DE"), Status.REVIEW, None),
    ],
)
def test_vehicle_found_and_active(
    vehicle: VehicleFacts, found: Status, active: Status | None
) -> None:
    assert checks.vehicle_found(vehicle).status is found
    assert status_of(checks.vehicle_active(vehicle)) is active


def test_foreign_plate_is_never_refused_for_not_being_in_the_register() -> None:
    foreign = VehicleFacts("MAB1234", country="DE")
    results = [
        checks.vehicle_found(foreign),
        checks.vehicle_active(foreign),
        checks.vehicle_tied(foreign, {MARIO}),
        checks.vehicle_category(foreign, {"M1"}),
        checks.emission_floor(foreign, {"petrol": 1}),
    ]
    verdict = Verdict.of(r for r in results if r is not None)
    assert verdict.outcome is Outcome.NEEDS_REVIEW
    assert "DE" in verdict.results[0].message.it


@pytest.mark.parametrize(
    ("vehicle", "expected"),
    [
        (car(), Status.PASS),
        (car(owner_key=ANNA), Status.PASS),  # household member
        (car(owner_key=FIRM, holder_key=MARIO, usage="leasing"), Status.PASS),
        (car(owner_key=FIRM, holder_key=MARIO, usage="company"), Status.PASS),
        (car(owner_key="VRDGPP80A01G999F"), Status.FAIL),
        (car(owner_key=FIRM, holder_key="VRDGPP80A01G999F", usage="leasing"), Status.FAIL),
    ],
)
def test_vehicle_tied_to_applicant_or_household(vehicle: VehicleFacts, expected: Status) -> None:
    assert status_of(checks.vehicle_tied(vehicle, {MARIO, ANNA})) is expected


@pytest.mark.parametrize(
    ("category", "allowed", "expected"),
    [
        ("M1", {"M1", "L"}, Status.PASS),
        ("L3e", {"M1", "L"}, Status.PASS),
        ("N1", {"M1", "L"}, Status.FAIL),
        ("N1", {"N1", "M1"}, Status.PASS),
        ("N2", {"N1", "M1"}, Status.FAIL),
    ],
)
def test_vehicle_category(category: str, allowed: set[str], expected: Status) -> None:
    assert status_of(checks.vehicle_category(car(category=category), allowed)) is expected


FLOOR = {"petrol": 1, "diesel": 2}


@pytest.mark.parametrize(
    ("fuel", "euro", "expected"),
    [
        ("petrol", 0, Status.FAIL),
        ("petrol", 1, Status.PASS),
        ("diesel", 1, Status.FAIL),
        ("diesel", 2, Status.PASS),
        ("diesel", 0, Status.FAIL),
        ("electric", 0, Status.PASS),
        ("lpg", 0, Status.PASS),
    ],
)
def test_emission_floor(fuel: str, euro: int, expected: Status) -> None:
    result = checks.emission_floor(car(fuel=fuel, euro_class=euro), FLOOR)
    assert status_of(result) is expected


ON = dt.date(2026, 11, 25)


@pytest.mark.parametrize(
    ("badges", "expected"),
    [
        ((BadgeFacts("PO1", MARIO, dt.date(2027, 1, 1)),), Status.PASS),
        ((BadgeFacts("PO1", MARIO, ON),), Status.PASS),  # valid through its last day
        ((BadgeFacts("PO1", MARIO, dt.date(2026, 11, 24)),), Status.FAIL),
        (
            (
                BadgeFacts("PO1", MARIO, dt.date(2025, 1, 1)),
                BadgeFacts("PO2", MARIO, dt.date(2028, 1, 1)),
            ),
            Status.PASS,
        ),
        ((), Status.REVIEW),
    ],
)
def test_badge_valid_at_the_date(badges: tuple[BadgeFacts, ...], expected: Status) -> None:
    assert checks.badge_valid(badges, ON).status is expected


@pytest.mark.parametrize(
    ("business", "expected"),
    [
        (BusinessFacts(FIRM, "active", ("A",)), Status.PASS),
        (BusinessFacts(FIRM, "active", ()), Status.FAIL),
        (BusinessFacts(FIRM, "ceased", ("A",)), Status.FAIL),
        (None, Status.FAIL),
    ],
)
def test_business_seat_in_zone(business: BusinessFacts | None, expected: Status) -> None:
    assert checks.business_seat_in_zone(business, {"A"}).status is expected


def test_one_permit_per_plate_and_category() -> None:
    history = PermitHistory(plates_with_active_permit=("AB123CD",))
    assert checks.one_permit_per_plate("AB123CD", history, "1").status is Status.FAIL
    assert checks.one_permit_per_plate("CD456EF", history, "1").status is Status.PASS


@pytest.mark.parametrize(
    ("used", "expected"), [(0, Status.PASS), (2, Status.PASS), (3, Status.FAIL)]
)
def test_daily_monthly_limit(used: int, expected: Status) -> None:
    history = PermitHistory(daily_permits_in_month=(("AB123CD", used), ("ZZ999ZZ", 9)))
    result = checks.daily_monthly_limit("AB123CD", history, limit=3, month="2026-11")
    assert result.status is expected and result.evidence["used"] == used


@pytest.mark.parametrize(
    ("required", "attached", "expected"),
    [((), (), None), (("lease",), (), Status.FAIL), (("lease",), ("lease", "id"), Status.REVIEW)],
)
def test_documents_attached(
    required: tuple[str, ...], attached: tuple[str, ...], expected: Status | None
) -> None:
    assert status_of(checks.documents_attached(required, attached)) is expected


TRANSIT = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("late", "expected"),
    [
        (dt.timedelta(hours=1), Status.PASS),
        (dt.timedelta(hours=48), Status.PASS),
        (dt.timedelta(hours=48, seconds=1), Status.FAIL),
        (dt.timedelta(hours=-2), Status.PASS),
    ],
)
def test_retroactive_window(late: dt.timedelta, expected: Status) -> None:
    assert status_of(checks.retroactive_window(TRANSIT, TRANSIT + late, 48)) is expected
    assert checks.retroactive_window(None, TRANSIT, 48) is None


def test_verdict_outcome_and_serialisation() -> None:
    passing = checks.household_limit(PermitHistory(), 2)
    review = checks.badge_valid((), ON)
    failing = checks.household_limit(PermitHistory(household_active_permits=5), 2)
    assert Verdict.of([passing]).outcome is Outcome.ELIGIBLE
    assert Verdict.of([passing, review]).outcome is Outcome.NEEDS_REVIEW
    assert Verdict.of([passing, review, failing]).outcome is Outcome.NOT_ELIGIBLE
    data = Verdict.of([passing, failing]).to_dict()
    assert data["outcome"] == "not_eligible"
    assert data["checks"][1] == {
        "id": "household_limit",
        "status": "fail",
        "message": {"it": failing.message.it, "en": failing.message.en},
        "evidence": {"active_permits": 5, "limit": 2},
    }
