"""check_eligibility: gather the facts from the registers and the permits, ask the rules, explain.

One code path for the web, the API and the CLI. The registers are read only through a
RegistryAdapter; what the system itself issued (household permits, plates already holding a permit,
daily permits this month) comes from the permit tables. The verdict is stored with the application
together with the facts it was decided on, so a clerk sees exactly what the rules saw.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, func, select

from ztl.city.rules_config import current_rules
from ztl.extensions import db
from ztl.infrastructure.events import record_event
from ztl.infrastructure.unit_of_work import Actor, ServiceError, unit_of_work
from ztl.models import Application, Category, Permit, PermitPlate, UTCDateTime, utcnow
from ztl.models.enums import Fuel, PermitStatus
from ztl.registries.adapter import RegistryAdapter
from ztl.registries.sql import SqlRegistryAdapter
from ztl.rules.checks import CHECKS
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
from ztl.rules.fees import Fee, fee_for
from ztl.rules.municipality import CategoryRules, Municipality
from ztl.rules.registry import Fact
from ztl.rules.results import Outcome, Verdict
from ztl.values import InvalidValue
from ztl.values.fiscal import parse_subject_id, subject_key
from ztl.values.plates import PlateProblem, checked_plate

DAILY_CATEGORIES = ("G/A", "G/B")


class EligibilityInputError(ServiceError):
    """The question itself is malformed (unknown category, unreadable plate): bad input, not a 'no'."""

    code = "bad_input"


# What an applicant may declare of a vehicle outside the register (the rules file's
# `unregistered_vehicles = { decided_by = "declaration" }`): the register's own codes, so the
# checks judge a declaration exactly as they judge the register.
DECLARABLE_CATEGORIES = ("M1", "N1", "L1e", "L3e", "M2", "N2")
DECLARABLE_FUELS = tuple(fuel.value for fuel in Fuel)
DECLARABLE_EURO_CLASSES = tuple(range(7))
# Where an application keeps the declaration (its details), read again by every later check.
DECLARED_KEY = "declared_vehicle"


@dataclass(frozen=True)
class DeclaredVehicle:
    """A vehicle's data as the applicant declared them, on their responsibility.

    A visitor declares the category, fuel and Euro class the checks need. An accommodation
    registering a guest declares the plate alone (the defaults): its category checks no vehicle
    data, and the receptionist has only the plate the guest gave."""

    category: str = ""
    fuel: str = ""
    euro_class: int | None = None

    def stored(self, plate: str) -> dict[str, object]:
        """As kept in an application's details: the plate it was declared for, and the data."""
        return {
            "plate": plate,
            "category": self.category,
            "fuel": self.fuel,
            "euro_class": self.euro_class,
        }


def checked_declaration(category: object, fuel: object, euro_class: object) -> DeclaredVehicle:
    """A vehicle's data as an applicant declares them (as sent: a form's texts, a JSON object's
    values), checked against what may be declared: the one check of a declaration, for the web form
    and the API alike. The Euro class is a whole number, or its digits as a form sends them.
    Refuses with EligibilityInputError, its code naming the first value that cannot be declared
    (declared_category_invalid, declared_fuel_invalid, declared_euro_invalid)."""
    if not isinstance(category, str) or category not in DECLARABLE_CATEGORIES:
        raise EligibilityInputError(
            f"vehicle category {category!r} cannot be declared", code="declared_category_invalid"
        )
    if not isinstance(fuel, str) or fuel not in DECLARABLE_FUELS:
        raise EligibilityInputError(
            f"fuel {fuel!r} cannot be declared", code="declared_fuel_invalid"
        )
    euro: int | None = None
    shown: object = euro_class
    if isinstance(euro_class, str):
        digits = shown = euro_class.strip()
        if digits.isascii() and digits.isdigit():
            euro = int(digits)
    elif isinstance(euro_class, int) and not isinstance(euro_class, bool):
        euro = euro_class
    if euro not in DECLARABLE_EURO_CLASSES:
        raise EligibilityInputError(
            f"Euro class {shown!r} cannot be declared", code="declared_euro_invalid"
        )
    return DeclaredVehicle(category, fuel, euro)


def declared_in(details: dict[str, Any] | None) -> dict[str, DeclaredVehicle]:
    """The declaration kept in an application's details, by plate (empty when there is none)."""
    kept = (details or {}).get(DECLARED_KEY)
    if not isinstance(kept, dict):
        return {}
    euro = kept.get("euro_class")
    return {
        str(kept["plate"]): DeclaredVehicle(
            str(kept.get("category") or ""),
            str(kept.get("fuel") or ""),
            int(euro) if euro is not None else None,
        )
    }


@dataclass(frozen=True)
class PlateInput:
    plate: str
    country: str = "IT"
    # Used only for a vehicle outside the register, in a category that admits declarations.
    declared: DeclaredVehicle | None = None


@dataclass(frozen=True)
class EligibilityRequest:
    category: str
    applicant_id: str
    plates: tuple[PlateInput, ...]
    at: dt.datetime
    zones: tuple[str, ...] = ()
    valid_from: dt.date | None = None
    validity: str | None = None
    documents: tuple[str, ...] = ()
    transit_at: dt.datetime | None = None
    # A permit being re-checked, renewed or replaced does not count against its own limits.
    excluding_permit_id: int | None = None


@dataclass(frozen=True)
class EligibilityResult:
    facts: ApplicationFacts
    verdict: Verdict
    fee: Fee
    validity: str = field(default="")

    def to_dict(self) -> dict[str, object]:
        return {
            **self.verdict.to_dict(),
            "category": self.facts.category,
            "applicant": self.facts.applicant.subject_id,
            "plates": [v.plate for v in self.facts.vehicles],
            "zones": list(self.facts.zones),
            "at": self.facts.at.isoformat(),
            "validity": self.validity,
            "fee_cents": self.fee.fee_cents,
            "stamp_duty_cents": self.fee.stamp_duty_cents,
            "total_cents": self.fee.total_cents,
        }


def check_eligibility(
    request: EligibilityRequest, registers: RegistryAdapter | None = None
) -> EligibilityResult:
    """The verdict on a request, with every check and the fee; reads only, writes nothing."""
    rules = current_rules()
    category = _category(rules, request.category)
    validity = request.validity or category.validity[0]
    if validity not in category.validity:
        raise EligibilityInputError(
            f"validity {validity} not offered by category {category.code}: "
            + ", ".join(category.validity),
            code="validity_unknown",
        )
    facts = gather_facts(rules, category, request, registers or SqlRegistryAdapter())
    verdict = evaluate(rules, facts)
    fuels = [v.fuel for v in facts.vehicles if v.fuel]
    return EligibilityResult(facts, verdict, fee_for(rules, category, validity, fuels), validity)


def _category(rules: Municipality, code: str) -> CategoryRules:
    try:
        return rules.category(code)
    except KeyError as exc:
        known = ", ".join(c.code for c in rules.categories)
        raise EligibilityInputError(
            f"unknown category {code!r}; categories: {known}", code="category_unknown"
        ) from exc


def gather_facts(
    rules: Municipality,
    category: CategoryRules,
    request: EligibilityRequest,
    registers: RegistryAdapter,
) -> ApplicationFacts:
    """Only the facts the category's checks declare they read are looked up (a daily permit reads
    no anagrafe): the registry says which (ztl.rules.checks.CHECKS)."""
    if request.at.tzinfo is None or request.at.utcoffset() is None:
        raise EligibilityInputError(
            "the time must carry an offset (e.g. +01:00 or Z)", code="time_naive"
        )
    needs = CHECKS.facts(category.checks)
    timezone = ZoneInfo(rules.timezone)
    applicant = _applicant(request.applicant_id)
    plates = _plates(request.plates)
    if category.unregistered_vehicles is not None and category.unregistered_vehicles.on_declaration:
        plates = _with_permit_declaration(plates, request.excluding_permit_id)
    else:
        plates = [dataclasses.replace(p, declared=None) for p in plates]
    vehicles = tuple(_vehicle(p, registers) for p in plates)
    residence = _residence(applicant, registers) if Fact.RESIDENCE in needs else None
    zones = request.zones or _default_zones(category, residence)
    badges: tuple[BadgeFacts, ...] = ()
    business: BusinessFacts | None = None
    if Fact.BADGES in needs and applicant.id_valid and not applicant.is_firm:
        badges = tuple(
            BadgeFacts(b.badge_number, b.holder_key, b.valid_until)
            for b in registers.badges_of(applicant.subject_id)
        )
    if Fact.BUSINESS in needs and applicant.id_valid and applicant.is_firm:
        found = registers.business(applicant.subject_id)
        if found is not None:
            seat = registers.zone_of_address(found.street, found.house_number)
            business = BusinessFacts(found.partita_iva, found.status.value, seat.zone_codes)
    valid_from = request.valid_from or request.at.astimezone(timezone).date()
    return ApplicationFacts(
        category=category.code,
        at=request.at,
        valid_from=valid_from,
        zones=tuple(zones),
        applicant=applicant,
        vehicles=vehicles,
        residence=residence,
        badges=badges,
        business=business,
        history=_history(
            needs,
            category.code,
            residence,
            applicant,
            vehicles,
            valid_from,
            timezone,
            request.excluding_permit_id,
        ),
        documents=request.documents,
        transit_at=request.transit_at,
    )


def _applicant(raw: str) -> ApplicantFacts:
    try:
        subject = parse_subject_id(raw)
    except InvalidValue:
        cleaned = (raw or "").strip().upper()[:16]
        return ApplicantFacts(cleaned, cleaned, False, is_firm=len(cleaned) == 11)
    return ApplicantFacts(subject, subject_key(subject), True, is_firm=len(subject) == 11)


def _plates(plates: tuple[PlateInput, ...]) -> list[PlateInput]:
    normalised = []
    for item in plates:
        try:
            plate, country = checked_plate(item.plate, item.country)
        except PlateProblem as exc:
            raise EligibilityInputError(str(exc), code=exc.code) from exc
        normalised.append(PlateInput(plate, country, item.declared))
    return normalised


def _with_permit_declaration(plates: list[PlateInput], permit_id: int | None) -> list[PlateInput]:
    """A permit re-checked (daily, or on a plate change) was issued on its application's
    declaration: without it the vehicle would look undeclared, and the permit fail its checks."""
    if permit_id is None or all(p.declared is not None for p in plates):
        return plates
    permit = db.session.get(Permit, permit_id)
    if permit is None or permit.application_id is None:
        return plates
    application = db.session.get(Application, permit.application_id)
    kept = declared_in(application.details if application is not None else None)
    return [
        p if p.declared is not None else dataclasses.replace(p, declared=kept.get(p.plate))
        for p in plates
    ]


def outside_register(
    plates: list[tuple[str, str]], registers: RegistryAdapter | None = None
) -> list[str]:
    """The plates the vehicle register does not describe (foreign, or not in it): those a
    category's `unregistered_vehicles` decides. The same question _vehicle asks."""
    registers = registers or SqlRegistryAdapter()
    return [
        plate for plate, country in plates if country != "IT" or registers.vehicle(plate) is None
    ]


def _declared(item: PlateInput) -> VehicleFacts:
    """A vehicle outside the register, as declared: in circulation is part of the declaration."""
    if item.declared is None:
        return VehicleFacts(item.plate, item.country, found=False)
    return VehicleFacts(
        plate=item.plate,
        country=item.country,
        found=False,
        category=item.declared.category,
        fuel=item.declared.fuel,
        euro_class=item.declared.euro_class,
        status="active",
        declared=True,
    )


def _vehicle(item: PlateInput, registers: RegistryAdapter) -> VehicleFacts:
    if item.country != "IT":
        return _declared(item)
    found = registers.vehicle(item.plate)
    if found is None:
        return _declared(item)
    return VehicleFacts(
        plate=found.plate,
        country="IT",
        found=True,
        category=found.category,
        fuel=found.fuel.value,
        euro_class=found.euro_class,
        owner_key=found.owner_id,
        holder_key=found.holder_id or "",
        usage=found.usage.value,
        status=found.status.value,
    )


def _residence(applicant: ApplicantFacts, registers: RegistryAdapter) -> ResidenceFacts | None:
    if not applicant.id_valid or applicant.is_firm:
        return None
    person = registers.resident(applicant.subject_id)
    if person is None:
        return None
    address = registers.zone_of_address(person.street, person.house_number)
    household = registers.household(person.household_id)
    return ResidenceFacts(
        status=person.status.value,
        street=person.street,
        house_number=person.house_number,
        zone_codes=address.zone_codes,
        household_id=person.household_id,
        household_keys=tuple(sorted({m.person_key for m in household} | {person.person_key})),
    )


def _default_zones(category: CategoryRules, residence: ResidenceFacts | None) -> tuple[str, ...]:
    """Zones not asked: the resident's own zone where it is one of the category's, else all of them."""
    if residence is not None:
        own = tuple(z for z in residence.zone_codes if z in category.zones)
        if own:
            return own
    return category.zones


# Built once (see ztl.registries.sql): construction costs more than running them on their indexes.
_ACTIVE = and_(Permit.status == PermitStatus.ACTIVE.value, Permit.id != bindparam("exclude"))
_HOUSEHOLD_PERMITS = (
    select(func.count())
    .select_from(Permit)
    .join(Category)
    .where(
        _ACTIVE,
        Category.code == bindparam("code"),
        Permit.holder_id.in_(bindparam("holders", expanding=True)),
    )
)
_PLATES_TAKEN = (
    select(PermitPlate.plate)
    .join(Permit)
    .join(Category)
    .where(
        _ACTIVE,
        Category.code == bindparam("code"),
        PermitPlate.plate.in_(bindparam("plates", expanding=True)),
    )
)
_DAILY_IN_MONTH = (
    select(PermitPlate.plate, func.count())
    .join(Permit)
    .join(Category)
    .where(
        Category.code.in_(DAILY_CATEGORIES),
        PermitPlate.plate.in_(bindparam("plates", expanding=True)),
        Permit.status != PermitStatus.REVOKED.value,
        Permit.id != bindparam("exclude"),
        Permit.valid_from >= bindparam("first", type_=UTCDateTime()),
        Permit.valid_from < bindparam("last", type_=UTCDateTime()),
    )
    .group_by(PermitPlate.plate)
)


def _history(
    needs: frozenset[Fact],
    code: str,
    residence: ResidenceFacts | None,
    applicant: ApplicantFacts,
    vehicles: tuple[VehicleFacts, ...],
    day: dt.date,
    timezone: ZoneInfo,
    excluding: int | None,
) -> PermitHistory:
    """What was already issued, asked only for the limits the category's checks count."""
    connection = db.session.connection()
    exclude = excluding if excluding is not None else -1
    plates = [v.plate for v in vehicles]
    household_count = 0
    if Fact.HOUSEHOLD_PERMITS in needs:
        holders = sorted(set(residence.household_keys) if residence else {applicant.subject_key})
        household_count = connection.execute(
            _HOUSEHOLD_PERMITS, {"code": code, "holders": holders, "exclude": exclude}
        ).scalar_one()
    taken: list[str] = []
    if Fact.PLATE_PERMITS in needs and plates:
        taken = list(
            connection.execute(
                _PLATES_TAKEN, {"code": code, "plates": plates, "exclude": exclude}
            ).scalars()
        )
    daily: tuple[tuple[str, int], ...] = ()
    if Fact.DAILY_PERMITS in needs and plates:
        # The calendar month of the day, in the municipality's time.
        first = dt.datetime(day.year, day.month, 1, tzinfo=timezone)
        following = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        last = dt.datetime(following.year, following.month, 1, tzinfo=timezone)
        rows = connection.execute(
            _DAILY_IN_MONTH, {"plates": plates, "first": first, "last": last, "exclude": exclude}
        )
        daily = tuple((plate, count) for plate, count in rows)
    return PermitHistory(household_count, tuple(sorted(set(taken))), daily)


def assess_application(
    application_id: int, actor: Actor, at: dt.datetime | None = None
) -> EligibilityResult:
    """Run the checks for a stored application and keep, with it, the facts, verdict and fee.

    One transaction with an event: the clerk's page and the audit trail show the same verdict.
    """
    with unit_of_work() as session:
        application = session.get(Application, application_id)
        if application is None:
            raise ServiceError(f"no application {application_id}", code="not_found")
        declared = declared_in(application.details)
        request = EligibilityRequest(
            category=application.category.code,
            applicant_id=application.applicant_id,
            plates=tuple(
                PlateInput(p.plate, p.country, declared.get(p.plate)) for p in application.plates
            ),
            at=at or utcnow(),
            zones=tuple(z.code for z in application.zones),
            valid_from=application.requested_from,
            validity=application.details.get("validity") if application.details else None,
            documents=tuple(sorted({d.kind for d in application.documents})),
        )
        result = check_eligibility(request)
        store_verdict(application, result)
        record_event(
            session,
            actor,
            "application",
            application.id,
            "checked",
            reason=result.verdict.outcome.value,
            data={
                "failing": [r.check_id for r in result.verdict.results if r.status.value != "pass"]
            },
        )
    return result


def store_verdict(application: Application, result: EligibilityResult) -> None:
    """Keep the facts, the verdict and the fee with the application: what the clerk will see."""
    application.facts = _jsonable(dataclasses.asdict(result.facts))
    application.verdict = [r.to_dict() for r in result.verdict.results]
    application.outcome = result.verdict.outcome.value
    application.checked_at = result.facts.at
    application.fee_cents = result.fee.fee_cents
    application.stamp_duty_cents = result.fee.stamp_duty_cents


def _jsonable(value: Any) -> Any:
    """Facts as JSON: dates and times as ISO 8601 text, tuples as lists."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def record_question(user_id: int, label: str, result: EligibilityResult, now: dt.datetime) -> None:
    """An eligibility question joins the plate lookups' record (one row a plate, channel
    "eligibility"): who asked about which plate is kept, and purged, as a police lookup is."""
    from ztl.lookups.log import ELIGIBILITY
    from ztl.lookups.recorder import record_lookups

    outcome = result.verdict.outcome
    record_lookups(
        [
            {
                "asked_at": now,
                "token_id": None,
                "user_id": user_id,
                "actor_label": label[:100],
                "channel": ELIGIBILITY,
                "plate": vehicle.plate,
                "zone": None,
                "gate": None,
                "at": result.facts.at,
                "authorized": outcome is Outcome.ELIGIBLE,
                "pending_until": None,
                "reason": outcome.value,
            }
            for vehicle in result.facts.vehicles
        ]
    )
