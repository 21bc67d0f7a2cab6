"""Every category of the catalogue through the evaluator: eligible, not eligible, needs review."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ztl.rules.evaluate import evaluate
from ztl.rules.facts import (
    ApplicantFacts,
    ApplicationFacts,
    BadgeFacts,
    BusinessFacts,
    PermitHistory,
    ResidenceFacts,
    VehicleFacts,
)
from ztl.rules.loader import DEFAULT_RULES, load_rules
from ztl.rules.results import Outcome, Status

PRATO = load_rules()
MARIO = "RSSMRA85T10A562S"
ANNA = "BNCNNA90D45D612C"
FIRM = "01234560048"
AT = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
DAY = dt.date(2026, 11, 25)

PERSON = ApplicantFacts(MARIO, MARIO, True)
COMPANY = ApplicantFacts(FIRM, FIRM, True, is_firm=True)
HOME_A = ResidenceFacts("resident", "Via Ricasoli", "12", ("A",), "H1", (MARIO, ANNA))
CAR = VehicleFacts("AB123CD", "IT", True, "M1", "petrol", 6, MARIO, "", "owned", "active")
VAN = VehicleFacts("VN123AN", "IT", True, "N1", "diesel", 5, FIRM, "", "owned", "active")
FOREIGN = VehicleFacts("MAB1234", country="DE")
SEAT_A = BusinessFacts(FIRM, "active", ("A",))


def facts(category: str, **changes: object) -> ApplicationFacts:
    base = ApplicationFacts(
        category=category,
        at=AT,
        valid_from=DAY,
        zones=("A",),
        applicant=PERSON,
        vehicles=(CAR,),
        residence=HOME_A,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


CASES = [
    # residents
    ("1 eligible", facts("1"), Outcome.ELIGIBLE, None),
    (
        "1 household car",
        facts("1", vehicles=(dataclasses.replace(CAR, owner_key=ANNA),)),
        Outcome.ELIGIBLE,
        None,
    ),
    (
        "1 leased car",
        facts(
            "1",
            vehicles=(dataclasses.replace(CAR, owner_key=FIRM, holder_key=MARIO, usage="leasing"),),
        ),
        Outcome.ELIGIBLE,
        None,
    ),
    (
        "1 moved away",
        facts("1", residence=dataclasses.replace(HOME_A, status="emigrated")),
        Outcome.NOT_ELIGIBLE,
        "residence_in_zone",
    ),
    (
        "1 lives in B asks A",
        facts("1", residence=dataclasses.replace(HOME_A, zone_codes=("B",))),
        Outcome.NOT_ELIGIBLE,
        "residence_in_zone",
    ),
    (
        "1 household full",
        facts("1", history=PermitHistory(household_active_permits=2)),
        Outcome.NOT_ELIGIBLE,
        "household_limit",
    ),
    (
        "1 someone else's car",
        facts("1", vehicles=(dataclasses.replace(CAR, owner_key="VRDGPP80A01G999F"),)),
        Outcome.NOT_ELIGIBLE,
        "vehicle_tied",
    ),
    (
        "1 stolen car",
        facts("1", vehicles=(dataclasses.replace(CAR, status="stolen"),)),
        Outcome.NOT_ELIGIBLE,
        "vehicle_active",
    ),
    (
        "1 old diesel",
        facts("1", vehicles=(dataclasses.replace(CAR, fuel="diesel", euro_class=1),)),
        Outcome.NOT_ELIGIBLE,
        "emission_floor",
    ),
    (
        "1 van",
        facts("1", vehicles=(dataclasses.replace(CAR, category="N1"),)),
        Outcome.NOT_ELIGIBLE,
        "vehicle_category",
    ),
    (
        "1 motorcycle",
        facts("1", vehicles=(dataclasses.replace(CAR, plate="AB12345", category="L3e"),)),
        Outcome.ELIGIBLE,
        None,
    ),
    (
        "1 plate already has one",
        facts("1", history=PermitHistory(plates_with_active_permit=("AB123CD",))),
        Outcome.NOT_ELIGIBLE,
        "one_permit_per_plate",
    ),
    ("1 foreign plate", facts("1", vehicles=(FOREIGN,)), Outcome.NEEDS_REVIEW, "vehicle_found"),
    (
        "1 ambiguous address",
        facts("1", residence=dataclasses.replace(HOME_A, zone_codes=("A", "B"))),
        Outcome.NEEDS_REVIEW,
        "residence_in_zone",
    ),
    (
        "1 two plates",
        facts("1", vehicles=(CAR, dataclasses.replace(CAR, plate="CD456EF"))),
        Outcome.NOT_ELIGIBLE,
        "plates_count",
    ),
    ("1 zone C", facts("1", zones=("C",)), Outcome.NOT_ELIGIBLE, "zones_allowed"),
    (
        "1 invalid cf",
        facts("1", applicant=ApplicantFacts("X", "X", False)),
        Outcome.NOT_ELIGIBLE,
        "applicant_identity",
    ),
    # domiciled
    (
        "15 with lease",
        facts("15", residence=None, documents=("lease_or_deed",)),
        Outcome.NEEDS_REVIEW,
        "documents_attached",
    ),
    ("15 without lease", facts("15", residence=None), Outcome.NOT_ELIGIBLE, "documents_attached"),
    # garages
    (
        "6 with deed",
        facts("6", residence=None, documents=("garage_deed_or_lease",)),
        Outcome.NEEDS_REVIEW,
        "documents_attached",
    ),
    # CUDE
    (
        "H badge in register",
        facts(
            "H",
            residence=None,
            vehicles=(dataclasses.replace(CAR, owner_key="VRDGPP80A01G999F"),),
            badges=(BadgeFacts("PO1", MARIO, dt.date(2028, 1, 1)),),
        ),
        Outcome.ELIGIBLE,
        None,
    ),
    ("H badge not in register", facts("H", residence=None), Outcome.NEEDS_REVIEW, "badge_valid"),
    (
        "H badge expired",
        facts("H", residence=None, badges=(BadgeFacts("PO1", MARIO, dt.date(2026, 1, 1)),)),
        Outcome.NOT_ELIGIBLE,
        "badge_valid",
    ),
    (
        "H two plates",
        facts(
            "H",
            badges=(BadgeFacts("PO1", MARIO, dt.date(2028, 1, 1)),),
            vehicles=(CAR, dataclasses.replace(CAR, plate="CD456EF")),
        ),
        Outcome.ELIGIBLE,
        None,
    ),
    (
        "H retroactive late",
        facts(
            "H",
            badges=(BadgeFacts("PO1", MARIO, dt.date(2028, 1, 1)),),
            transit_at=AT - dt.timedelta(hours=49),
        ),
        Outcome.NOT_ELIGIBLE,
        "retroactive_window",
    ),
    (
        "H retroactive in time",
        facts(
            "H",
            badges=(BadgeFacts("PO1", MARIO, dt.date(2028, 1, 1)),),
            transit_at=AT - dt.timedelta(hours=47),
        ),
        Outcome.ELIGIBLE,
        None,
    ),
    # businesses
    (
        "4 seat in zone",
        facts("4", applicant=COMPANY, business=SEAT_A, vehicles=(VAN,)),
        Outcome.ELIGIBLE,
        None,
    ),
    (
        "4 seat elsewhere",
        facts(
            "4",
            applicant=COMPANY,
            business=dataclasses.replace(SEAT_A, zone_codes=()),
            vehicles=(VAN,),
        ),
        Outcome.NOT_ELIGIBLE,
        "business_seat_in_zone",
    ),
    (
        "4 four vans",
        facts(
            "4",
            applicant=COMPANY,
            business=SEAT_A,
            vehicles=tuple(dataclasses.replace(VAN, plate=f"VN12{i}AN") for i in range(4)),
        ),
        Outcome.NOT_ELIGIBLE,
        "plates_count",
    ),
    (
        "63 craftsman van",
        facts(
            "63",
            applicant=COMPANY,
            business=dataclasses.replace(SEAT_A, zone_codes=()),
            vehicles=(VAN,),
        ),
        Outcome.ELIGIBLE,
        None,
    ),
    (
        "63 ceased",
        facts(
            "63",
            applicant=COMPANY,
            business=dataclasses.replace(SEAT_A, status="ceased"),
            vehicles=(VAN,),
        ),
        Outcome.NOT_ELIGIBLE,
        "business_active",
    ),
    (
        "63 truck",
        facts(
            "63",
            applicant=COMPANY,
            business=SEAT_A,
            vehicles=(dataclasses.replace(VAN, category="N2"),),
        ),
        Outcome.NOT_ELIGIBLE,
        "vehicle_category",
    ),
    # doctors and utilities
    (
        "13 with registration",
        facts("13", residence=None, documents=("medical_registration",)),
        Outcome.NEEDS_REVIEW,
        "documents_attached",
    ),
    (
        "3 with contract",
        facts(
            "3", applicant=COMPANY, business=SEAT_A, vehicles=(VAN,), documents=("works_contract",)
        ),
        Outcome.NEEDS_REVIEW,
        "documents_attached",
    ),
    # hotel guests
    (
        "8A registered hotel, foreign guest",
        facts("8A", applicant=COMPANY, business=SEAT_A, vehicles=(FOREIGN,)),
        Outcome.NEEDS_REVIEW,
        "vehicle_found",
    ),
    (
        "8A registered hotel",
        facts(
            "8A",
            applicant=COMPANY,
            business=SEAT_A,
            vehicles=(dataclasses.replace(CAR, owner_key="VRDGPP80A01G999F"),),
            transit_at=AT - dt.timedelta(hours=30),
        ),
        Outcome.ELIGIBLE,
        None,
    ),
    (
        "8A after 48 h",
        facts(
            "8A",
            applicant=COMPANY,
            business=SEAT_A,
            transit_at=AT - dt.timedelta(hours=48, minutes=1),
        ),
        Outcome.NOT_ELIGIBLE,
        "retroactive_window",
    ),
    (
        "8A hotel outside A",
        facts("8A", applicant=COMPANY, business=dataclasses.replace(SEAT_A, zone_codes=("B",))),
        Outcome.NOT_ELIGIBLE,
        "business_seat_in_zone",
    ),
    # daily and two-hour
    (
        "G/A first of month",
        facts(
            "G/A",
            residence=None,
            vehicles=(dataclasses.replace(CAR, owner_key="VRDGPP80A01G999F"),),
        ),
        Outcome.ELIGIBLE,
        None,
    ),
    (
        "G/A fourth of month",
        facts(
            "G/A", residence=None, history=PermitHistory(daily_permits_in_month=(("AB123CD", 3),))
        ),
        Outcome.NOT_ELIGIBLE,
        "daily_monthly_limit",
    ),
    (
        # G/A decides a vehicle outside the register on the visitor's declaration: none given
        # (at the counter), the office checks it.
        "G/A unknown plate, nothing declared",
        facts("G/A", residence=None, vehicles=(dataclasses.replace(CAR, found=False),)),
        Outcome.NEEDS_REVIEW,
        "vehicle_found",
    ),
    ("G/B zone B", facts("G/B", zones=("B",), residence=None), Outcome.ELIGIBLE, None),
    (
        "G/B asks zone A",
        facts("G/B", zones=("A",), residence=None),
        Outcome.NOT_ELIGIBLE,
        "zones_allowed",
    ),
    ("T two hours", facts("T", residence=None), Outcome.ELIGIBLE, None),
    (
        "T petrol euro 0",
        facts("T", residence=None, vehicles=(dataclasses.replace(CAR, euro_class=0),)),
        Outcome.NOT_ELIGIBLE,
        "emission_floor",
    ),
]


@pytest.mark.parametrize(
    ("name", "application", "outcome", "deciding"), CASES, ids=[c[0] for c in CASES]
)
def test_category_verdicts(
    name: str, application: ApplicationFacts, outcome: Outcome, deciding: str | None
) -> None:
    verdict = evaluate(PRATO, application)
    assert verdict.outcome is outcome, [(r.check_id, r.status.value) for r in verdict.results]
    if deciding is not None:
        statuses = {r.status for r in verdict.results if r.check_id == deciding}
        wanted = Status.FAIL if outcome is Outcome.NOT_ELIGIBLE else Status.REVIEW
        assert wanted in statuses, (
            deciding,
            [(r.check_id, r.status.value) for r in verdict.results],
        )
    for result in verdict.results:
        assert result.message.it and result.message.en and result.message.it != result.message.en


def test_every_category_has_cases() -> None:
    covered = {case[1].category for case in CASES}
    assert covered == {c.code for c in PRATO.categories}


def test_the_other_municipality_decides_differently() -> None:
    other = load_rules(DEFAULT_RULES.parent / "esempio.toml")
    third = facts("1", history=PermitHistory(household_active_permits=2))
    assert evaluate(PRATO, third).outcome is Outcome.NOT_ELIGIBLE
    assert evaluate(other, third).outcome is Outcome.ELIGIBLE


plates = st.sampled_from(["AB123CD", "CD456EF", "MAB1234"])
vehicle = st.builds(
    VehicleFacts,
    plate=plates,
    country=st.sampled_from(["IT", "DE"]),
    found=st.booleans(),
    category=st.sampled_from(["M1", "N1", "L3e"]),
    fuel=st.sampled_from(["petrol", "diesel", "electric"]),
    euro_class=st.integers(0, 6),
    owner_key=st.sampled_from([MARIO, ANNA, FIRM]),
    holder_key=st.sampled_from(["", MARIO]),
    usage=st.sampled_from(["owned", "leasing"]),
    status=st.sampled_from(["active", "stolen"]),
)


@given(
    category=st.sampled_from([c.code for c in PRATO.categories]),
    vehicles=st.lists(vehicle, min_size=0, max_size=3).map(tuple),
    zones=st.sampled_from([("A",), ("B",), ("A", "B")]),
    used=st.integers(0, 4),
)
def test_verdicts_are_deterministic(
    category: str, vehicles: tuple[VehicleFacts, ...], zones: tuple[str, ...], used: int
) -> None:
    application = facts(
        category,
        vehicles=vehicles,
        zones=zones,
        history=PermitHistory(used, (), (("AB123CD", used),)),
    )
    first = evaluate(PRATO, application)
    again = evaluate(PRATO, dataclasses.replace(application))
    assert first == again and first.to_dict() == again.to_dict()
    assert first.outcome in set(Outcome)
