"""An applicant's side of an application: draft, pre-check, submit, pay, withdraw.

The life (permit-catalogue.md): draft -> submitted (payment due) -> paid -> issued at once where the
category decides automatically and every check passes, else under review in the clerks' queue.

Decisions where the catalogue is silent, taken as a municipality's users would expect:
- A person applies for themselves (the account's codice fiscale); a firm's permit (business seat,
  firm vehicles, hotel guests) is applied for by giving the firm's partita IVA, and only by one of
  its legal representatives (business register) or a delegate a clerk approved
  (ztl.accounts.representation), checked when the draft is saved, when it is submitted and when a
  permit is renewed; the events say for which firm and in which capacity the person acted. Nobody
  can apply in another person's name.
- Who may touch an application or renew a permit afterwards is ztl.permissions' ownership rule
  (`owns_application`, `owns_permit`): a person's records are the person's (a permit issued at the
  counter too), a firm's belong to whoever may act for the firm at that moment.
- The checks run on every save of a draft (the applicant sees the pre-check as they go), again on
  submission and again when the payment arrives: registers change, and the monthly limit of daily
  permits must hold at the moment of issue.
- A category decided automatically refuses the submission of an application that fails its checks:
  there is nobody to review it, and taking the fee for a sure refusal would be wrong. Clerk-decided
  categories accept it only when the applicant asks for the office's review and says why (a clerk
  may know better, and explains a rejection): paying for an application the checks refuse must be
  a choice, not a slip; the reason is kept in the "submitted" event for the clerk.
- Payment is due on submission; the application enters the clerks' queue once paid (a free one at
  once), so clerks never review an application that will not be paid.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ztl.accounts.representation import NOT_AUTHORISED, NotAuthorised
from ztl.applications.clerk_queue import applicant_names
from ztl.city.rules_config import current_rules
from ztl.eligibility.service import (
    DECLARED_KEY,
    DeclaredVehicle,
    EligibilityInputError,
    EligibilityRequest,
    EligibilityResult,
    PlateInput,
    check_eligibility,
    checked_declaration,
    declared_in,
    outside_register,
    store_verdict,
)
from ztl.infrastructure.events import record_event
from ztl.infrastructure.unit_of_work import Actor, AnySession, ServiceError, unit_of_work
from ztl.mail import notifications
from ztl.models import Application, ApplicationPlate, Category, User, Zone
from ztl.models.enums import ApplicationStatus, Decider, PermitStatus
from ztl.models.permit import Permit
from ztl.payments.active import payer_word_confirms
from ztl.payments.positions import (
    Debt,
    create_position,
    end_application_payment,
    mark_paid_on_payer_word,
    open_position,
    refund_ends,
    refundable_cents,
    settle_cancellation,
)
from ztl.permissions import (
    Authority,
    authority_for,
    authority_over,
    is_firm_id,
    owned_applications,
    owns_application,
    owns_permit,
)
from ztl.permits.changes import renewable, renewal_opens
from ztl.permits.from_applications import approve_locked_application
from ztl.permits.issuance import (
    checked_under_limit_locks,
    locked_application,
)
from ztl.rules.checks import CHECKS
from ztl.rules.municipality import CategoryRules
from ztl.rules.registry import Fact
from ztl.rules.results import Outcome, Status
from ztl.values import InvalidValue
from ztl.values.fiscal import parse_subject_id
from ztl.values.plates import PlateProblem, plate_and_country

EDITABLE = {ApplicationStatus.DRAFT.value}
WITHDRAWABLE = {
    ApplicationStatus.DRAFT.value,
    ApplicationStatus.SUBMITTED.value,
    ApplicationStatus.UNDER_REVIEW.value,
    ApplicationStatus.DOCUMENTS_REQUESTED.value,
}


class ApplicationInputError(ServiceError):
    """A field of the application is wrong; `field` names it so the form can point at it."""

    code = "bad_input"

    def __init__(self, message: str, field: str, code: str | None = None) -> None:
        super().__init__(message, code)
        self.field = field


@dataclass(frozen=True)
class ApplicationInput:
    """What an applicant fills in; only what the category needs is used."""

    category: str
    applicant_id: str
    plates: tuple[str, ...]
    zones: tuple[str, ...] = ()
    validity: str | None = None
    requested_from: dt.date | None = None
    starts_at: dt.datetime | None = None  # two-hour permits: the chosen start
    transit_at: dt.datetime | None = None  # retroactive registrations (CUDE): the first transit
    details: dict[str, str] = field(default_factory=dict)  # registration number, spaces, notes
    # A vehicle outside the register, where the category admits declarations: its category, fuel
    # and Euro class as the applicant declares them (empty texts: not declared).
    declared_category: str = ""
    declared_fuel: str = ""
    declared_euro_class: str = ""


@dataclass(frozen=True)
class SubmitOutcome:
    status: str
    payment_due_cents: int
    permit_number: str | None


def is_firm_category(category: CategoryRules) -> bool:
    """A category with a check only a firm can pass (as its declaration says) is applied for with
    a partita IVA."""
    return CHECKS.firm_only(category.checks)


def is_retroactive_category(category: CategoryRules) -> bool:
    """A category with a check that reads the transit a registration covers (a disabled badge
    registered after entering): its form asks for the time of that transit."""
    return Fact.TRANSIT in CHECKS.facts(category.checks)


def total_due(application: Application) -> int:
    return application.fee_cents + application.stamp_duty_cents


# --- input -----------------------------------------------------------------------------------------


def _category_rules(code: str) -> CategoryRules:
    try:
        return current_rules().category(code)
    except KeyError as exc:
        raise ApplicationInputError(
            f"unknown category {code!r}", "category", "category_unknown"
        ) from exc


def _applicant(
    session: AnySession, user: User, category: CategoryRules, raw: str
) -> tuple[str, Authority | None]:
    """Whom the permit is for, and for a firm the person's authority to act for it."""
    if not is_firm_category(category):
        if not user.codice_fiscale:
            raise ApplicationInputError(
                "the account has no codice fiscale", "applicant_id", "no_codice_fiscale"
            )
        return user.codice_fiscale, None
    try:
        applicant = parse_subject_id(raw)
    except InvalidValue as exc:
        raise ApplicationInputError(str(exc), "applicant_id", "applicant_invalid") from exc
    if len(applicant) != 11:
        raise ApplicationInputError(
            "a firm applies with its partita IVA (11 digits)", "applicant_id", "not_a_firm"
        )
    authority = authority_for(user, applicant, session)
    if authority is None:
        raise ApplicationInputError(NOT_AUTHORISED, "applicant_id", "not_representative")
    return applicant, authority


def _firm_data(authority: Authority | None, **data: Any) -> dict[str, Any] | None:
    """An event's data, with the firm and capacity when the person acted for a firm."""
    merged = {**(authority.event_data() if authority else {}), **data}
    return merged or None


def _plates(category: CategoryRules, raw: tuple[str, ...]) -> list[tuple[str, str]]:
    plates: list[tuple[str, str]] = []
    for text in (p for p in raw if p and p.strip()):
        try:
            normalised, country = plate_and_country(text)
        except PlateProblem as exc:
            # The form shows one message for a plate it cannot take, whatever the reason.
            code = "country_invalid" if exc.code == "country_invalid" else "plate_invalid"
            raise ApplicationInputError(str(exc), "plates", code) from exc
        if normalised in {p for p, _ in plates}:
            raise ApplicationInputError(f"plate {normalised} twice", "plates", "plate_twice")
        plates.append((normalised, country))
    if not plates:
        raise ApplicationInputError("at least one plate", "plates", "plate_missing")
    if len(plates) > category.max_plates:
        raise ApplicationInputError(
            f"at most {category.max_plates} plates", "plates", "too_many_plates"
        )
    return plates


def _declaration(
    category: CategoryRules, plates: list[tuple[str, str]], data: ApplicationInput
) -> dict[str, Any] | None:
    """The declaration to keep: for a vehicle outside the register, in a category that decides
    such vehicles on the applicant's declaration (then it is required before the draft is saved:
    this is the step that asks for it). A declaration for a registered vehicle is not kept: the
    register's data are the ones judged."""
    policy = category.unregistered_vehicles
    if policy is None or not policy.on_declaration:
        return None
    outside = outside_register(plates)
    if not outside:
        return None
    if not (data.declared_category or data.declared_fuel or data.declared_euro_class):
        raise ApplicationInputError(
            f"plate {outside[0]} is not in the vehicle register: declare its category, fuel "
            "and Euro class",
            "declared_category",
            "vehicle_declaration_needed",
        )
    try:
        declared = checked_declaration(
            data.declared_category, data.declared_fuel, data.declared_euro_class
        )
    except EligibilityInputError as exc:
        # The same refusal, pointing at the form's field it is about.
        if exc.code == "declared_category_invalid":
            raise ApplicationInputError(
                str(exc), "declared_category", "declared_category_invalid"
            ) from exc
        if exc.code == "declared_fuel_invalid":
            raise ApplicationInputError(str(exc), "declared_fuel", "declared_fuel_invalid") from exc
        raise ApplicationInputError(
            str(exc), "declared_euro_class", "declared_euro_invalid"
        ) from exc
    return declared.stored(outside[0])


def declared_vehicle(application: Application) -> DeclaredVehicle | None:
    """What the applicant declared of the vehicle, for the pages that show it was declared."""
    return next(iter(declared_in(application.details).values()), None)


@dataclass(frozen=True)
class ClerkPromise:
    """When the permit office decides a vehicle outside the register: `hours` from the payment
    (the category's `unregistered_vehicles`), and once paid the instant `by`."""

    hours: int
    by: dt.datetime | None


def clerk_promise(application: Application) -> ClerkPromise | None:
    """The office's promise, as the verdict stored with the application states it, told the
    applicant before paying and while waiting; None when no such promise applies."""
    for result in application.verdict or ():
        hours = (result.get("evidence") or {}).get("within_hours")
        if result.get("status") == Status.REVIEW.value and isinstance(hours, int):
            paid = application.paid_at
            return ClerkPromise(hours, paid + dt.timedelta(hours=hours) if paid else None)
    return None


def _zones(session: AnySession, category: CategoryRules, raw: tuple[str, ...]) -> list[Zone]:
    codes = tuple(dict.fromkeys(c.strip().upper() for c in raw if c.strip())) or category.zones
    unknown = [c for c in codes if c not in category.zones]
    if unknown:
        raise ApplicationInputError(f"zones {unknown} not in this category", "zones", "zone")
    return list(session.scalars(select(Zone).where(Zone.code.in_(codes)).order_by(Zone.code)))


def _validate_dates(data: ApplicationInput, category: CategoryRules, now: dt.datetime) -> None:
    if data.validity is not None and data.validity not in category.validity:
        raise ApplicationInputError(
            f"validity {data.validity} not offered", "validity", "validity_unknown"
        )
    today = now.astimezone(dt.UTC).date()
    if data.requested_from is not None and data.requested_from < today - dt.timedelta(days=1):
        raise ApplicationInputError("a start date in the past", "requested_from", "date_past")
    if data.requested_from is not None and data.requested_from > today + dt.timedelta(days=366):
        raise ApplicationInputError("a start date too far ahead", "requested_from", "date_far")
    if data.starts_at is not None and data.starts_at < now - dt.timedelta(minutes=5):
        raise ApplicationInputError("a start time in the past", "starts_at", "time_past")
    if data.transit_at is not None and data.transit_at > now + dt.timedelta(minutes=5):
        raise ApplicationInputError("a transit in the future", "transit_at", "transit_future")


def _fill(
    session: AnySession,
    application: Application,
    user: User,
    data: ApplicationInput,
    now: dt.datetime,
) -> Authority | None:
    category_rules = _category_rules(data.category)
    with session.no_autoflush:  # the new application is complete only at the end
        category = session.scalars(
            select(Category).where(Category.code == category_rules.code)
        ).one()
        applicant, authority = _applicant(session, user, category_rules, data.applicant_id)
        plates = _plates(category_rules, data.plates)
        zones = _zones(session, category_rules, data.zones)
        declared = _declaration(category_rules, plates, data)
    _validate_dates(data, category_rules, now)
    details: dict[str, Any] = {k: v.strip()[:200] for k, v in data.details.items() if v.strip()}
    details["validity"] = data.validity or category_rules.validity[0]
    if declared is not None:
        details[DECLARED_KEY] = declared
    for kept in ("renews", "renews_id"):  # a renewal stays the renewal of its permit
        if kept in (application.details or {}):
            details[kept] = application.details[kept]
    if data.starts_at is not None:
        details["starts_at"] = data.starts_at.astimezone(dt.UTC).isoformat()
    if data.transit_at is not None:
        details["transit_at"] = data.transit_at.astimezone(dt.UTC).isoformat()
    application.category = category
    application.applicant_id = applicant
    application.requested_from = data.requested_from
    application.details = details
    application.zones = zones
    application.plates.clear()
    session.flush()
    application.plates.extend(
        ApplicationPlate(plate=plate, country=country, position=i)
        for i, (plate, country) in enumerate(plates)
    )
    return authority


def eligibility_request(application: Application, at: dt.datetime) -> EligibilityRequest:
    """The question the rules answer for a stored application (what a re-check asks again)."""
    details = application.details or {}
    transit = details.get("transit_at")
    declared = declared_in(details)
    return EligibilityRequest(
        category=application.category.code,
        applicant_id=application.applicant_id,
        plates=tuple(
            PlateInput(p.plate, p.country, declared.get(p.plate)) for p in application.plates
        ),
        at=at,
        zones=tuple(z.code for z in application.zones),
        valid_from=application.requested_from,
        validity=details.get("validity"),
        documents=tuple(sorted({d.kind for d in application.documents})),
        transit_at=dt.datetime.fromisoformat(transit) if transit else None,
        excluding_permit_id=details.get("renews_id"),
    )


def assess(application: Application, at: dt.datetime) -> EligibilityResult:
    """Run the checks and keep facts, verdict and fee with the application (inside a transaction)."""
    result = check_eligibility(eligibility_request(application, at))
    store_verdict(application, result)
    return result


# --- use cases ----------------------------------------------------------------------------------------


def owned_application(session: AnySession, application_id: int, user: User) -> Application:
    """The user's own application (ztl.permissions.owns_application), locked; another's is "not
    found" (ids are not a secret to keep)."""
    application = locked_application(session, application_id)
    if not owns_application(user, application, session):
        if application.user_id == user.id and is_firm_id(application.applicant_id):
            # They made it for a firm they may no longer act for: they know it exists, so they are
            # told why (its pages answer 404 all the same: it is the firm's, not theirs).
            raise NotAuthorised(NOT_AUTHORISED)
        raise ServiceError(f"no application {application_id}", code="not_found")
    return application


def create_draft(user: User, data: ApplicationInput, at: dt.datetime | None = None) -> int:
    now = at or dt.datetime.now(dt.UTC)
    with unit_of_work() as session:
        application = Application(user_id=user.id, status=ApplicationStatus.DRAFT.value)
        session.add(application)
        authority = _fill(session, application, user, data, now)
        session.flush()
        assess(application, now)
        record_event(
            session,
            _actor(user),
            "application",
            application.id,
            "drafted",
            data=_firm_data(authority),
        )
        application_id = application.id
    return application_id


def update_draft(
    application_id: int, user: User, data: ApplicationInput, at: dt.datetime | None = None
) -> None:
    now = at or dt.datetime.now(dt.UTC)
    with unit_of_work() as session:
        application = owned_application(session, application_id, user)
        if application.status not in EDITABLE:
            raise ServiceError("only a draft can be changed", code="not_editable")
        authority = _fill(session, application, user, data, now)
        session.flush()
        assess(application, now)
        record_event(
            session,
            _actor(user),
            "application",
            application.id,
            "edited",
            data=_firm_data(authority),
        )


REVIEW_REASON_MAX = 1000


def submit_application(
    application_id: int,
    user: User,
    at: dt.datetime | None = None,
    review_reason: str | None = None,
) -> SubmitOutcome:
    """Submit a draft: checks again, then payment due (a notice), or straight on when it is free.

    `review_reason`: the applicant asks for the office's review and says why; required when the
    checks say "not eligible" (see the module's docstring), kept in the "submitted" event.
    """
    now = at or dt.datetime.now(dt.UTC)
    reason = (review_reason or "").strip()[:REVIEW_REASON_MAX]
    with unit_of_work() as session:
        application = owned_application(session, application_id, user)
        if application.status != ApplicationStatus.DRAFT.value:
            raise ServiceError("the application was already submitted", code="not_a_draft")
        authority = authority_over(session, user, application.applicant_id)
        result = assess(application, now)
        decider = application.category.decided_by
        refused = result.verdict.outcome is Outcome.NOT_ELIGIBLE
        if refused and decider == Decider.AUTOMATIC.value:
            raise ServiceError("the checks refuse this application", code="not_eligible_automatic")
        if refused and not reason:
            raise ServiceError(
                "the checks are not passed: sending it anyway needs a request for review with a "
                "reason",
                code="review_reason_required",
            )
        application.status = ApplicationStatus.SUBMITTED.value
        application.submitted_at = now
        actor = _actor(user)
        record_event(
            session,
            actor,
            "application",
            application.id,
            "submitted",
            data=_firm_data(authority, **({"review_reason": reason} if refused else {})),
        )
        due = total_due(application)
        permit: Permit | None = None
        position_id: int | None = None
        if due > 0:
            position = create_position(session, _debt(application), now)
            application.payment_reference = position.iuv
            position_id = position.id
            record_event(
                session,
                actor,
                "application",
                application.id,
                "payment_requested",
                data=_firm_data(authority, iuv=position.iuv, amount_cents=due),
            )
        else:
            permit = _route_after_payment(session, application, actor, now)
        outcome = SubmitOutcome(
            application.status, due if due > 0 else 0, permit.number if permit else None
        )
    if position_id is not None:
        open_position(position_id)
    _notify_submitted(application_id, permit)
    return outcome


def _debt(application: Application) -> Debt:
    """What the application's notice asks, of whom, and the reason the payer will read on it:
    the permit's category by its name and the day of the application (no internal number)."""
    category = application.category
    renewal = bool((application.details or {}).get("renews"))
    day = (application.submitted_at or dt.datetime.now(dt.UTC)).astimezone(
        ZoneInfo(current_rules().timezone)
    )
    kind = "Rinnovo permesso ZTL" if renewal else "Permesso ZTL"
    return Debt(
        purpose="renewal" if renewal else "application",
        category_code=category.code,
        fee_cents=application.fee_cents,
        stamp_duty_cents=application.stamp_duty_cents,
        payer_tax_code=application.applicant_id,
        payer_name=applicant_names({application.applicant_id}).get(
            application.applicant_id, application.applicant_id
        ),
        reason=f"{kind} {category.code} {category.name_it}, domanda del {day:%d/%m/%Y}",
        application_id=application.id,
    )


def confirm_payment(
    application_id: int, iuv: str, actor: Actor, at: dt.datetime | None = None
) -> SubmitOutcome:
    """Record the payment of the application's notice and move it on; a repeat changes nothing."""
    now = at or dt.datetime.now(dt.UTC)
    with unit_of_work() as session:
        application = locked_application(session, application_id)
        if application.payment_reference is None or application.payment_reference != iuv:
            raise ServiceError("no such payment notice for this application", code="not_found")
        if application.paid_at is not None:
            return SubmitOutcome(application.status, 0, _permit_number(session, application))
        mark_paid_on_payer_word(session, application.payment_reference, now)
        permit = record_payment(session, application, actor, now)
        outcome = SubmitOutcome(application.status, 0, permit.number if permit else None)
    _notify_after_routing(application_id, permit)
    return outcome


def record_payment(
    session: AnySession, application: Application, actor: Actor, now: dt.datetime
) -> Permit | None:
    """In the caller's transaction, with the application locked: paid, then routed (issued at once
    or queued for a clerk). The one place a payment takes effect, whoever reported it."""
    if application.status != ApplicationStatus.SUBMITTED.value:
        raise ServiceError("the application is not waiting for payment", code="not_payable")
    application.paid_at = now
    record_event(
        session,
        actor,
        "application",
        application.id,
        "paid",
        data={"iuv": application.payment_reference, "amount_cents": total_due(application)},
    )
    return _route_after_payment(session, application, actor, now)


def notify_after_payment(application_id: int, permit: Permit | None) -> None:
    """The e-mails a payment causes, after its commit."""
    _notify_after_routing(application_id, permit)


def pay_own_application(
    application_id: int, user: User, at: dt.datetime | None = None
) -> SubmitOutcome:
    """The payer's "I have paid": a payment only with the development stand-in provider; with a
    real one the payment system's notification confirms it, and the click just says so."""
    with unit_of_work() as session:
        application = owned_application(session, application_id, user)
        iuv = application.payment_reference or ""
        paid = application.paid_at is not None
    if not paid and not payer_word_confirms():
        raise ServiceError(
            "the payment is confirmed by the payment system's receipt", code="awaiting_receipt"
        )
    return confirm_payment(application_id, iuv, _actor(user), at)


def start_renewal(number: str, user: User, at: dt.datetime | None = None) -> int:
    """A renewal is an application like the first one (checks re-run, fee paid), prefilled from
    the permit; once issued it replaces the old permit (renewal opens 60 days before expiry)."""
    now = at or dt.datetime.now(dt.UTC)
    with unit_of_work() as session:
        permit = session.scalars(
            select(Permit).where(Permit.number == number).with_for_update()
        ).first()
        if permit is None or not owns_permit(user, permit, session):
            raise ServiceError(f"no permit {number}", code="not_found")
        if permit.status != PermitStatus.ACTIVE.value:
            raise ServiceError("only an active permit can be renewed", code="not_active")
        authority = authority_over(session, user, permit.holder_id)
        offered = current_rules().category(permit.category.code).validity
        if not renewable(offered[0]) or now < renewal_opens(permit.valid_to):
            raise ServiceError("renewal is not open for this permit", code="too_early")
        # A renewal already asked for by anyone who owns it (for a firm: a colleague) is reused.
        pending = session.scalars(
            select(Application.id).where(
                owned_applications(user, session),
                Application.status.in_(WITHDRAWABLE),
                Application.details["renews"].as_string() == number,
            )
        ).first()
        if pending is not None:
            return int(pending)
        application = Application(
            user_id=user.id,
            status=ApplicationStatus.DRAFT.value,
            category=permit.category,
            applicant_id=permit.holder_id,
            details={
                "validity": offered[0],
                "renews": number,
                "renews_id": permit.id,
            },
            zones=list(permit.zones),
            plates=[
                ApplicationPlate(plate=p.plate, country=p.country, position=p.position)
                for p in permit.plates
            ],
        )
        session.add(application)
        session.flush()
        assess(application, now)
        record_event(
            session,
            _actor(user),
            "application",
            application.id,
            "drafted",
            data=_firm_data(authority, renews=number),
        )
        application_id = application.id
    return application_id


def withdraw_application(application_id: int, user: User, at: dt.datetime | None = None) -> None:
    now = at or dt.datetime.now(dt.UTC)
    with unit_of_work() as session:
        application = owned_application(session, application_id, user)
        if application.status not in WITHDRAWABLE:
            raise ServiceError(
                "this application can no longer be withdrawn", code="not_withdrawable"
            )
        application.status = ApplicationStatus.WITHDRAWN.value
        application.decided_at = now
        record_event(session, _actor(user), "application", application.id, "withdrawn")
        cancelling = end_application_payment(
            session, application.id, "withdrawn", _actor(user), now
        )
    if cancelling is not None:
        settle_cancellation(cancelling, "domanda ritirata")


@dataclass(frozen=True)
class WithdrawalMoney:
    """What withdrawing does to the money, said before the applicant confirms.

    `kept_cents`: paid and not given back; `refunded_cents`: given back, when the rules file's
    `[payments] refund_on` lists "withdrawn" (the fee and the permit's stamp duty); and
    `notice_cancelled`: a pagoPA notice still unpaid, which the withdrawal cancels (a receipt for
    it is refused and refunded, see payment_receipts).
    """

    kept_cents: int
    notice_cancelled: bool
    refunded_cents: int = 0


def withdrawal_money(application: Application) -> WithdrawalMoney:
    if application.paid_at is not None:
        paid = total_due(application)
        refunded = 0
        if "withdrawn" in refund_ends():
            refunded = refundable_cents(application.fee_cents, application.stamp_duty_cents)
        return WithdrawalMoney(paid - refunded, False, refunded)
    return WithdrawalMoney(0, application.payment_reference is not None)


def _route_after_payment(
    session: AnySession, application: Application, actor: Actor, now: dt.datetime
) -> Permit | None:
    """Issue at once where the category decides automatically and every check passes.

    Before issuing, the checks run again under the locks of the limits they count (household,
    plate): several members of a family paying at the same moment would otherwise all pass the
    household limit. A renewal needs none: it replaces one permit by one, no count grows.
    """
    result = assess(application, now)
    decider = application.category.decided_by
    automatic = decider in {Decider.AUTOMATIC.value, Decider.AUTOMATIC_IF_REGISTERED.value}
    renewal = bool((application.details or {}).get("renews"))
    if automatic and result.verdict.outcome is Outcome.ELIGIBLE and not renewal:
        result = checked_under_limit_locks(session, result, lambda: assess(application, now))
    if automatic and result.verdict.outcome is Outcome.ELIGIBLE:
        return approve_locked_application(session, application, Actor.system(), now, None)[0]
    application.status = ApplicationStatus.UNDER_REVIEW.value
    record_event(
        session,
        actor,
        "application",
        application.id,
        "queued",
        reason=result.verdict.outcome.value,
    )
    return None


def _permit_number(session: AnySession, application: Application) -> str | None:
    return session.scalars(
        select(Permit.number).where(Permit.application_id == application.id)
    ).first()


def _actor(user: User) -> Actor:
    return Actor.of_user(user)


def _notify_submitted(application_id: int, permit: Permit | None) -> None:
    notifications.notify_application_submitted(application_id)
    _notify_after_routing(application_id, permit)


def _notify_after_routing(application_id: int, permit: Permit | None) -> None:
    if permit is not None:
        notifications.notify_permit_issued(permit.id)
