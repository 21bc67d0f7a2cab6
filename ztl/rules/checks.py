"""Every check of the permit catalogue, one small pure function each, and its declaration.

Each returns a CheckResult with a stable id, pass / fail / needs review, a message in Italian and
English, and the evidence it looked at. Parameters (limits, allowed categories, hours) come from the
municipality's rules file, never from constants here.

Each function is registered in CHECKS by the decorator above it, which declares its id, its
parameters, where its arguments come from, the facts it reads and the locks it takes
(ztl.rules.registry says why). Adding a check is adding one decorated function here, and its tests:
the loader, the evaluator and the services learn of it from the declaration.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from types import MappingProxyType
from typing import Any

from ztl.rules.facts import (
    ApplicantFacts,
    BadgeFacts,
    BusinessFacts,
    PermitHistory,
    ResidenceFacts,
    VehicleFacts,
)
from ztl.rules.municipality import UnregisteredVehicles
from ztl.rules.registry import (
    CheckContext,
    CheckRegistry,
    Fact,
    Lock,
    Param,
    Params,
    Scope,
    When,
)
from ztl.rules.results import CheckResult, Message, Status
from ztl.rules.wording import DOCUMENT_KINDS, FUELS, RESIDENT_STATUS, name_of, names_of

# The checks the engine knows: the rules file may switch on these and no other.
CHECKS = CheckRegistry()
# Whose vehicle vehicle_tied accepts: the applicant's, their household's, or their firm's.
TIED_TO = ("applicant", "household", "firm")


def _result(check_id: str, status: Status, it: str, en: str, /, **evidence: Any) -> CheckResult:
    return CheckResult(check_id, status, Message(it, en), MappingProxyType(evidence))


@CHECKS.check("applicant_identity", inputs=lambda c: (c.facts.applicant,))
def applicant_identity(applicant: ApplicantFacts) -> CheckResult:
    kind_it, kind_en = (
        ("partita IVA", "partita IVA")
        if applicant.is_firm
        else ("codice fiscale", "codice fiscale")
    )
    if applicant.id_valid:
        return _result(
            "applicant_identity",
            Status.PASS,
            f"Il {kind_it} {applicant.subject_id} è valido.",
            f"The {kind_en} {applicant.subject_id} is valid.",
            subject_id=applicant.subject_id,
            canonical=applicant.subject_key,
        )
    return _result(
        "applicant_identity",
        Status.FAIL,
        f"Il {kind_it} {applicant.subject_id} non è valido.",
        f"The {kind_en} {applicant.subject_id} is not valid.",
        subject_id=applicant.subject_id,
    )


@CHECKS.check(
    "residence_in_zone",
    needs={Fact.RESIDENCE},
    inputs=lambda c: (c.facts.residence, c.facts.zones),
)
def residence_in_zone(residence: ResidenceFacts | None, zones: Collection[str]) -> CheckResult:
    wanted = sorted(zones)
    if residence is None:
        return _result(
            "residence_in_zone",
            Status.FAIL,
            "Il richiedente non risulta residente nell'anagrafe del Comune.",
            "The applicant is not in the municipality's residency register.",
            zones_requested=wanted,
        )
    evidence = {
        "status": residence.status,
        "street": residence.street,
        "house_number": residence.house_number,
        "address_zones": list(residence.zone_codes),
        "zones_requested": wanted,
    }
    if residence.status != "resident":
        return _result(
            "residence_in_zone",
            Status.FAIL,
            "Nell'anagrafe il richiedente risulta "
            f"«{name_of(RESIDENT_STATUS, residence.status, 'it')}», non residente.",
            "The residency register lists the applicant as "
            f"'{name_of(RESIDENT_STATUS, residence.status, 'en')}', not resident.",
            **evidence,
        )
    if len(residence.zone_codes) > 1:
        return _result(
            "residence_in_zone",
            Status.REVIEW,
            "L'indirizzo ricade in più zone nello stradario: serve una verifica dell'ufficio.",
            "The street register puts the address in more than one zone: the office must check.",
            **evidence,
        )
    if residence.zone_codes and residence.zone_codes[0] in zones:
        return _result(
            "residence_in_zone",
            Status.PASS,
            f"Residente in {residence.street} {residence.house_number}, zona {residence.zone_codes[0]}.",
            f"Resident at {residence.street} {residence.house_number}, zone {residence.zone_codes[0]}.",
            **evidence,
        )
    return _result(
        "residence_in_zone",
        Status.FAIL,
        f"L'indirizzo {residence.street} {residence.house_number} non è nella zona richiesta.",
        f"The address {residence.street} {residence.house_number} is not in the zone requested.",
        **evidence,
    )


@CHECKS.check(
    "household_limit",
    params=[Param("limit", int)],
    needs={Fact.RESIDENCE, Fact.HOUSEHOLD_PERMITS},
    locks={Lock.HOUSEHOLD},
    inputs=lambda c: (c.facts.history, c.params["limit"]),
)
def household_limit(history: PermitHistory, limit: int) -> CheckResult:
    used = history.household_active_permits
    evidence = {"active_permits": used, "limit": limit}
    if used < limit:
        return _result(
            "household_limit",
            Status.PASS,
            f"Il nucleo familiare ha {used} permessi attivi su {limit}.",
            f"The household holds {used} active permits out of {limit}.",
            **evidence,
        )
    return _result(
        "household_limit",
        Status.FAIL,
        f"Il nucleo familiare ha già {used} permessi attivi: il massimo è {limit}.",
        f"The household already holds {used} active permits: the maximum is {limit}.",
        **evidence,
    )


# What every sentence about declared data starts with: the applicant's word, not the register's.
DECLARED_IT = "Veicolo dichiarato dal richiedente: "
DECLARED_EN = "Vehicle declared by the applicant: "


def _said(vehicle: VehicleFacts, it: str, en: str, *, named: bool = False) -> tuple[str, str]:
    """A sentence about a vehicle's data, saying when the data are the applicant's declaration
    (after the colon the sentence goes on in lower case, unless it starts with a name: `named`)."""
    if not vehicle.declared:
        return it, en
    if not named:
        it, en = it[0].lower() + it[1:], en[0].lower() + en[1:]
    return DECLARED_IT + it, DECLARED_EN + en


def _judged(vehicle: VehicleFacts, **evidence: Any) -> dict[str, Any]:
    """A vehicle check's evidence, with `declared` when the data are the applicant's word."""
    return {**evidence, "declared": True} if vehicle.declared else evidence


@CHECKS.check(
    "vehicle_found",
    scope=Scope.VEHICLE,
    inputs=lambda c: (c.vehicle, c.category.unregistered_vehicles),
)
def vehicle_found(
    vehicle: VehicleFacts, unregistered: UnregisteredVehicles | None = None
) -> CheckResult:
    """A vehicle outside the register (a foreign plate, or one not in the Italian register) is
    decided as the category's `unregistered_vehicles` says: on the applicant's declaration (none
    given: the office checks), by a clerk within the stated hours, or, without the key, refused
    (a foreign plate: to the office, as nobody can read it in the register)."""
    if vehicle.country == "IT" and vehicle.found:
        return _result(
            "vehicle_found",
            Status.PASS,
            f"Il veicolo {vehicle.plate} è nel registro dei veicoli.",
            f"Vehicle {vehicle.plate} is in the vehicle register.",
            plate=vehicle.plate,
        )
    foreign = vehicle.country != "IT"
    where_it = (
        f"Targa estera ({vehicle.country}) {vehicle.plate}"
        if foreign
        else f"La targa {vehicle.plate} non è nel registro dei veicoli"
    )
    where_en = (
        f"Foreign plate ({vehicle.country}) {vehicle.plate}"
        if foreign
        else f"Plate {vehicle.plate} is not in the vehicle register"
    )
    evidence = {"plate": vehicle.plate, "country": vehicle.country}
    if unregistered is not None and unregistered.on_declaration:
        if vehicle.declared:
            return _result(
                "vehicle_found",
                Status.PASS,
                f"{DECLARED_IT}{where_it[0].lower()}{where_it[1:]}; valgono i dati dichiarati, "
                "sotto la sua responsabilità.",
                f"{DECLARED_EN}{where_en[0].lower()}{where_en[1:]}; the declared data apply, on "
                "the applicant's responsibility.",
                **evidence,
                declared=True,
            )
        # No declaration (at the counter, where the clerk sees the registration document): as a
        # foreign plate always was, for the office to check.
        return _result(
            "vehicle_found",
            Status.REVIEW,
            f"{where_it}: senza dati dichiarati dal richiedente, lo verifica l'ufficio permessi.",
            f"{where_en}: with no data declared by the applicant, the permit office checks it.",
            **evidence,
        )
    if unregistered is not None:
        hours = unregistered.within_hours
        return _result(
            "vehicle_found",
            Status.REVIEW,
            f"{where_it}: decide l'ufficio permessi entro {hours} ore dal pagamento.",
            f"{where_en}: the permit office decides within {hours} hours of the payment.",
            **evidence,
            within_hours=hours,
        )
    if foreign:
        return _result(
            "vehicle_found",
            Status.REVIEW,
            f"Targa estera ({vehicle.country}) {vehicle.plate}: non verificabile nel registro, "
            "la controlla l'ufficio.",
            f"Foreign plate ({vehicle.country}) {vehicle.plate}: it cannot be checked in the "
            "register, the office checks it.",
            **evidence,
        )
    return _result(
        "vehicle_found",
        Status.FAIL,
        f"La targa {vehicle.plate} non è nel registro dei veicoli.",
        f"Plate {vehicle.plate} is not in the vehicle register.",
        plate=vehicle.plate,
    )


@CHECKS.check("vehicle_active", scope=Scope.VEHICLE, inputs=lambda c: (c.vehicle,))
def vehicle_active(vehicle: VehicleFacts) -> CheckResult | None:
    """None when there is nothing to check (foreign or unknown plate, not declared: vehicle_found
    says so)."""
    if not vehicle.described:
        return None
    evidence = _judged(vehicle, plate=vehicle.plate, status=vehicle.status)
    if vehicle.status == "active":
        return _result(
            "vehicle_active",
            Status.PASS,
            *_said(
                vehicle,
                f"Il veicolo {vehicle.plate} è in circolazione.",
                f"Vehicle {vehicle.plate} is in circulation.",
            ),
            **evidence,
        )
    return _result(
        "vehicle_active",
        Status.FAIL,
        *_said(
            vehicle,
            f"Il veicolo {vehicle.plate} risulta «{vehicle.status}».",
            f"Vehicle {vehicle.plate} is recorded as '{vehicle.status}'.",
        ),
        **evidence,
    )


def _tied_needs(params: Params) -> set[Fact]:
    """Tied to the household: the household is read from the anagrafe."""
    return {Fact.RESIDENCE} if params["to"] == "household" else set()


def _allowed_keys(context: CheckContext) -> set[str]:
    """Whose vehicle counts: the applicant (a person or a firm), or anyone in their household."""
    keys = {context.facts.applicant.subject_key}
    residence = context.facts.residence
    if context.params["to"] == "household" and residence is not None:
        keys |= set(residence.household_keys)
    return keys


@CHECKS.check(
    "vehicle_tied",
    params=[Param("to", str, choices=TIED_TO)],
    scope=Scope.VEHICLE,
    needs=_tied_needs,
    firm_only=lambda params: params["to"] == "firm",
    inputs=lambda c: (c.vehicle, _allowed_keys(c)),
)
def vehicle_tied(vehicle: VehicleFacts, allowed_keys: Collection[str]) -> CheckResult | None:
    """The vehicle is owned or held (leasing, company car) by the applicant or their household."""
    if vehicle.country != "IT" or not vehicle.found:
        return None
    evidence = {
        "plate": vehicle.plate,
        "owner": vehicle.owner_key,
        "holder": vehicle.holder_key,
        "usage": vehicle.usage,
    }
    if vehicle.owner_key in allowed_keys or (
        vehicle.holder_key and vehicle.holder_key in allowed_keys
    ):
        return _result(
            "vehicle_tied",
            Status.PASS,
            f"Il veicolo {vehicle.plate} è intestato o in uso esclusivo al richiedente o al suo nucleo.",
            f"Vehicle {vehicle.plate} is owned or exclusively used by the applicant or their household.",
            **evidence,
        )
    return _result(
        "vehicle_tied",
        Status.FAIL,
        f"Il veicolo {vehicle.plate} non è intestato né in uso al richiedente o al suo nucleo.",
        f"Vehicle {vehicle.plate} is neither owned nor used by the applicant or their household.",
        **evidence,
    )


@CHECKS.check(
    "vehicle_category",
    params=[Param("allowed", list)],
    scope=Scope.VEHICLE,
    inputs=lambda c: (c.vehicle, c.params["allowed"]),
)
def vehicle_category(vehicle: VehicleFacts, allowed: Collection[str]) -> CheckResult | None:
    """Allowed categories by prefix: "L" allows L1e..L7e, "M1" only M1."""
    if not vehicle.described:
        return None
    ok = any(
        vehicle.category == a or (len(a) == 1 and vehicle.category.startswith(a)) for a in allowed
    )
    evidence = _judged(
        vehicle, plate=vehicle.plate, category=vehicle.category, allowed=sorted(allowed)
    )
    if ok:
        return _result(
            "vehicle_category",
            Status.PASS,
            *_said(
                vehicle,
                f"La categoria {vehicle.category} è ammessa.",
                f"Category {vehicle.category} is allowed.",
            ),
            **evidence,
        )
    return _result(
        "vehicle_category",
        Status.FAIL,
        *_said(
            vehicle,
            f"La categoria {vehicle.category} non è ammessa per questo permesso.",
            f"Category {vehicle.category} is not allowed for this permit.",
        ),
        **evidence,
    )


@CHECKS.check(
    "emission_floor",
    scope=Scope.VEHICLE,
    inputs=lambda c: (c.vehicle, c.municipality.emission_floor),
)
def emission_floor(vehicle: VehicleFacts, minimum_euro: Mapping[str, int]) -> CheckResult | None:
    """minimum_euro: fuel -> lowest Euro class admitted (petrol 1, diesel 2 in Prato)."""
    if not vehicle.described or vehicle.euro_class is None:
        return None
    floor = minimum_euro.get(vehicle.fuel)
    evidence = _judged(
        vehicle,
        plate=vehicle.plate,
        fuel=vehicle.fuel,
        euro_class=vehicle.euro_class,
        minimum=floor,
    )
    fuel_it, fuel_en = (name_of(FUELS, vehicle.fuel, language) for language in ("it", "en"))
    if floor is None or vehicle.euro_class >= floor:
        return _result(
            "emission_floor",
            Status.PASS,
            *_said(
                vehicle,
                f"Euro {vehicle.euro_class} ({fuel_it}) rispetta i limiti di emissione.",
                f"Euro {vehicle.euro_class} ({fuel_en}) meets the emission floor.",
                named=True,
            ),
            **evidence,
        )
    return _result(
        "emission_floor",
        Status.FAIL,
        *_said(
            vehicle,
            f"Euro {vehicle.euro_class} ({fuel_it}) è sotto il minimo Euro {floor}.",
            f"Euro {vehicle.euro_class} ({fuel_en}) is below the minimum Euro {floor}.",
            named=True,
        ),
        **evidence,
    )


@CHECKS.check(
    "badge_valid",
    needs={Fact.BADGES},
    inputs=lambda c: (c.facts.badges, c.facts.valid_from),
)
def badge_valid(badges: Collection[BadgeFacts], on: dt.date) -> CheckResult:
    valid = sorted((b for b in badges if b.valid_until >= on), key=lambda b: b.valid_until)
    if valid:
        badge = valid[-1]
        return _result(
            "badge_valid",
            Status.PASS,
            # Dates as every page writes them (ztl.values.display): dd/mm/yyyy in both languages.
            f"Contrassegno {badge.badge_number} valido fino al {badge.valid_until:%d/%m/%Y} "
            "compreso.",
            f"Badge {badge.badge_number} valid until {badge.valid_until:%d/%m/%Y} inclusive.",
            badge=badge.badge_number,
            valid_until=badge.valid_until.isoformat(),
            on=on.isoformat(),
        )
    if badges:
        latest = max(badges, key=lambda b: b.valid_until)
        return _result(
            "badge_valid",
            Status.FAIL,
            f"Il contrassegno {latest.badge_number} era valido fino al "
            f"{latest.valid_until:%d/%m/%Y} compreso.",
            f"Badge {latest.badge_number} was valid until {latest.valid_until:%d/%m/%Y} inclusive.",
            badge=latest.badge_number,
            valid_until=latest.valid_until.isoformat(),
            on=on.isoformat(),
        )
    return _result(
        "badge_valid",
        Status.REVIEW,
        "Il contrassegno non è nel registro: l'ufficio lo verifica sul documento.",
        "The badge is not in the register: the office checks the document.",
        on=on.isoformat(),
    )


@CHECKS.check(
    "business_seat_in_zone",
    needs={Fact.BUSINESS},
    firm_only=True,
    inputs=lambda c: (c.facts.business, c.facts.zones),
)
def business_seat_in_zone(business: BusinessFacts | None, zones: Collection[str]) -> CheckResult:
    if business is None:
        return _result(
            "business_seat_in_zone",
            Status.FAIL,
            "L'impresa non è nel registro delle imprese.",
            "The firm is not in the business register.",
        )
    evidence = {
        "partita_iva": business.partita_iva,
        "status": business.status,
        "seat_zones": list(business.zone_codes),
        "zones_requested": sorted(zones),
    }
    if business.status != "active":
        return _result(
            "business_seat_in_zone",
            Status.FAIL,
            "L'impresa risulta cessata.",
            "The firm has ceased trading.",
            **evidence,
        )
    if set(business.zone_codes) & set(zones):
        return _result(
            "business_seat_in_zone",
            Status.PASS,
            "La sede dell'impresa è nella zona.",
            "The firm's seat is in the zone.",
            **evidence,
        )
    return _result(
        "business_seat_in_zone",
        Status.FAIL,
        "La sede dell'impresa non è nella zona richiesta.",
        "The firm's seat is not in the zone requested.",
        **evidence,
    )


@CHECKS.check(
    "one_permit_per_plate",
    scope=Scope.VEHICLE,
    needs={Fact.PLATE_PERMITS},
    locks={Lock.PLATE},
    inputs=lambda c: (c.vehicle.plate, c.facts.history, c.category.code),
)
def one_permit_per_plate(plate: str, history: PermitHistory, category: str) -> CheckResult:
    if plate in history.plates_with_active_permit:
        return _result(
            "one_permit_per_plate",
            Status.FAIL,
            f"La targa {plate} ha già un permesso attivo della categoria {category}.",
            f"Plate {plate} already holds an active permit of category {category}.",
            plate=plate,
            category=category,
        )
    return _result(
        "one_permit_per_plate",
        Status.PASS,
        f"La targa {plate} non ha altri permessi attivi della categoria {category}.",
        f"Plate {plate} holds no other active permit of category {category}.",
        plate=plate,
        category=category,
    )


@CHECKS.check(
    "daily_monthly_limit",
    params=[Param("limit", int)],
    scope=Scope.VEHICLE,
    when=When.APPLICATION_TIME,
    needs={Fact.DAILY_PERMITS},
    # Counts both daily categories per plate, so the lock is the plate's.
    locks={Lock.PLATE},
    inputs=lambda c: (
        c.vehicle.plate,
        c.facts.history,
        c.params["limit"],
        c.facts.valid_from.strftime("%Y-%m"),
    ),
)
def daily_monthly_limit(plate: str, history: PermitHistory, limit: int, month: str) -> CheckResult:
    used = history.daily_count(plate)
    evidence = {"plate": plate, "month": month, "used": used, "limit": limit}
    if used < limit:
        return _result(
            "daily_monthly_limit",
            Status.PASS,
            f"Permessi giornalieri per {plate} nel mese: {used} su {limit}.",
            f"Daily permits for {plate} this month: {used} of {limit}.",
            **evidence,
        )
    return _result(
        "daily_monthly_limit",
        Status.FAIL,
        f"La targa {plate} ha già {used} permessi giornalieri nel mese {month}: il massimo è {limit}.",
        f"Plate {plate} already has {used} daily permits in {month}: the maximum is {limit}.",
        **evidence,
    )


@CHECKS.check(
    "documents_attached",
    when=When.APPLICATION_TIME,
    inputs=lambda c: (c.category.documents, c.facts.documents),
)
def documents_attached(required: Collection[str], attached: Collection[str]) -> CheckResult | None:
    """Missing documents fail; attached ones need a person to read them (needs review)."""
    if not required:
        return None
    missing = sorted(set(required) - set(attached))
    evidence = {"required": sorted(required), "attached": sorted(set(attached))}
    if missing:
        return _result(
            "documents_attached",
            Status.FAIL,
            f"Mancano documenti obbligatori: {names_of(DOCUMENT_KINDS, missing, 'it')}.",
            f"Required documents are missing: {names_of(DOCUMENT_KINDS, missing, 'en')}.",
            missing=missing,
            **evidence,
        )
    return _result(
        "documents_attached",
        Status.REVIEW,
        "Documenti allegati: l'ufficio li verifica.",
        "Documents attached: the office checks them.",
        **evidence,
    )


@CHECKS.check(
    "retroactive_window",
    params=[Param("hours", int)],
    when=When.APPLICATION_TIME,
    needs={Fact.TRANSIT},
    retroactive_hours=lambda params: int(params["hours"]),
    inputs=lambda c: (c.facts.transit_at, c.facts.at, c.params["hours"]),
)
def retroactive_window(
    transit_at: dt.datetime | None, registered_at: dt.datetime, hours: int
) -> CheckResult | None:
    """A registration after the transit (hotel guests, CUDE) is accepted within `hours`."""
    if transit_at is None:
        return None
    late = registered_at - transit_at
    evidence = {
        "transit_at": transit_at.isoformat(),
        "registered_at": registered_at.isoformat(),
        "hours_allowed": hours,
    }
    if late <= dt.timedelta(hours=hours):
        return _result(
            "retroactive_window",
            Status.PASS,
            f"Registrazione entro {hours} ore dal transito.",
            f"Registered within {hours} hours of the transit.",
            **evidence,
        )
    return _result(
        "retroactive_window",
        Status.FAIL,
        f"Registrazione oltre {hours} ore dal transito: non più ammessa.",
        f"Registered more than {hours} hours after the transit: no longer allowed.",
        **evidence,
    )


@CHECKS.check(
    "business_active",
    needs={Fact.BUSINESS},
    firm_only=True,
    inputs=lambda c: (c.facts.business,),
)
def business_active(business: BusinessFacts | None) -> CheckResult:
    """The firm is registered and trading (craftsmen and utilities serve the zone from anywhere)."""
    if business is None:
        return _result(
            "business_active",
            Status.FAIL,
            "L'impresa non è nel registro delle imprese.",
            "The firm is not in the business register.",
        )
    if business.status == "active":
        return _result(
            "business_active",
            Status.PASS,
            f"L'impresa {business.partita_iva} è attiva.",
            f"Firm {business.partita_iva} is trading.",
            partita_iva=business.partita_iva,
            status=business.status,
        )
    return _result(
        "business_active",
        Status.FAIL,
        f"L'impresa {business.partita_iva} risulta cessata.",
        f"Firm {business.partita_iva} has ceased trading.",
        partita_iva=business.partita_iva,
        status=business.status,
    )
