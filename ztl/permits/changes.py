"""After issuance: revoke, give up, change plate, renew. Each ends the old seal in the same transaction.

A plate change and a renewal replace the permit with a new one (new number, new seal) and revoke the
old seal; the revocation list's sequence grows in the same commit, so a verifier can never see the
new permit without the old seal being revoked. Decisions (where the spec is silent):
- plate change is free, takes effect at once and keeps the old end date;
- a renewal takes effect at once and runs for the category's duration from the old end date, so
  the holder loses no paid day and is never without a valid permit;
- both re-run the category's checks (excluding the permit being replaced) and are refused when the
  verdict is not eligible or needs a person to look: a clerk handles those as a new application.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select

from ztl.city.rules_config import current_rules
from ztl.eligibility.refusals import ChecksRefused
from ztl.eligibility.service import (
    EligibilityRequest,
    EligibilityResult,
    PlateInput,
    check_eligibility,
)
from ztl.infrastructure.events import record_event
from ztl.infrastructure.unit_of_work import Actor, AnySession, ServiceError, unit_of_work
from ztl.models import Application, GuestNight, Permit, User, utcnow
from ztl.models.enums import PermitStatus
from ztl.permissions import Authority, authority_over, owns_permit
from ztl.permits.issuance import (
    IssueResult,
    PermitSpec,
    create_permit,
    lock_limit_keys,
    plate_lock_key,
)
from ztl.rules.fees import Fee, Purpose, fee_for
from ztl.rules.plate_changes import plate_change_refusal
from ztl.rules.results import Outcome
from ztl.rules.validity import Period, permit_period
from ztl.seals.trust_lists import bump_revocation_sequence
from ztl.values import InvalidValue
from ztl.values.plates import normalise_plate

RENEWAL_OPENS_DAYS = 60
# How a plate change is written in the replaced permit's end reason ("plate AB123CD -> XY987ZW"):
# the plate-change limit counts the permits of a chain that ended this way.
PLATE_CHANGE_REASON = "plate "


def earlier_plate_changes(session: AnySession, permit: Permit) -> list[dt.datetime]:
    """When the permits this one replaced (back along the chain: plate changes and renewals)
    were ended by a plate change."""
    changes: list[dt.datetime] = []
    current_id = permit.id
    for _ in range(1000):  # a chain is a few links long; the bound only guards against a loop
        previous = session.execute(
            select(Permit.id, Permit.ended_at, Permit.end_reason).where(
                Permit.replaced_by_id == current_id
            )
        ).first()
        if previous is None:
            break
        current_id, ended_at, reason = previous
        if ended_at is not None and (reason or "").startswith(PLATE_CHANGE_REASON):
            changes.append(ended_at)
    return changes


def _check_plate_change_limit(session: AnySession, permit: Permit, now: dt.datetime) -> None:
    rules = current_rules()
    try:
        limit = rules.category(permit.category.code).plate_changes
    except KeyError:
        return
    refusal = plate_change_refusal(
        limit,
        permit.valid_from,
        now,
        earlier_plate_changes(session, permit),
        ZoneInfo(rules.timezone),
    )
    if refusal is not None:
        raise ServiceError(refusal.message_en, code="plate_change_limit")


def _locked_active(session: AnySession, number: str, owner: User | None = None) -> Permit:
    """The active permit, locked. With `owner` (a person acting on their own permit, not the
    office), only a permit they own now (ztl.permissions) is found: anyone else's is "not found"."""
    permit = session.execute(
        select(Permit).where(Permit.number == number).with_for_update()
    ).scalar_one_or_none()
    if permit is None or (owner is not None and not owns_permit(owner, permit, session)):
        raise ServiceError(f"no permit {number}", code="not_found")
    if permit.status != PermitStatus.ACTIVE.value:
        raise ServiceError(f"permit {number} is {permit.status}, not active", code="not_active")
    return permit


def end_permit(
    session: AnySession,
    permit: Permit,
    status: PermitStatus,
    actor: Actor,
    reason: str,
    now: dt.datetime,
    replaced_by: Permit | None = None,
    acting: Authority | None = None,
) -> None:
    permit.status = status.value
    permit.ended_at = now
    permit.end_reason = reason
    permit.flagged_at = None
    if replaced_by is not None:
        permit.replaced_by_id = replaced_by.id
    # A hotel guest's registration that ends early frees its nights for a new registration.
    session.execute(delete(GuestNight).where(GuestNight.permit_id == permit.id))
    sequence = bump_revocation_sequence(session)
    record_event(
        session,
        actor,
        "permit",
        permit.id,
        status.value,
        reason=reason,
        data={
            "number": permit.number,
            "seal_kid": permit.seal_kid,
            "revocation_list": sequence,
            **({"replaced_by": replaced_by.number} if replaced_by else {}),
            **(acting.event_data() if acting else {}),
        },
    )


def revoke_permit(number: str, actor: Actor, reason: str, at: dt.datetime | None = None) -> None:
    """A clerk's revocation: the reason is required, the seal goes on the revocation list."""
    if not (reason or "").strip():
        raise ServiceError("a revocation needs a reason", code="reason_required")
    with unit_of_work() as session:
        permit = _locked_active(session, number)
        end_permit(session, permit, PermitStatus.REVOKED, actor, reason.strip(), at or utcnow())


def surrender_permit(
    number: str, actor: Actor, at: dt.datetime | None = None, *, owner: User | None = None
) -> None:
    """The holder gives the permit up; its seal is revoked like any other. `owner`: the person
    doing it from the portal, who must own the permit now (for a firm: act for it)."""
    with unit_of_work() as session:
        permit = _locked_active(session, number, owner)
        acting = authority_over(session, owner, permit.holder_id) if owner else None
        end_permit(
            session,
            permit,
            PermitStatus.SURRENDERED,
            actor,
            "given up by the holder",
            at or utcnow(),
            acting=acting,
        )


def recheck_for_replacement(
    permit: Permit, plates: tuple[tuple[str, str], ...], now: dt.datetime
) -> EligibilityResult:
    """The category's checks again for the replacement (the permit itself not counted)."""
    result = check_eligibility(
        EligibilityRequest(
            category=permit.category.code,
            applicant_id=permit.holder_id,
            plates=tuple(PlateInput(p, c) for p, c in plates),
            at=now,
            zones=tuple(z.code for z in permit.zones),
            excluding_permit_id=permit.id,
        )
    )
    if result.verdict.outcome is not Outcome.ELIGIBLE:
        raise ChecksRefused(result.verdict.results, code=result.verdict.outcome.value)
    return result


def replacement_spec(
    old: Permit, plates: tuple[tuple[str, str], ...], period: Period, fee: Fee
) -> PermitSpec:
    return PermitSpec(
        category=old.category,
        holder_id=old.holder_id,
        plates=plates,
        zone_codes=tuple(z.code for z in old.zones),
        period=period,
        fee_cents=fee.fee_cents,
        stamp_duty_cents=fee.stamp_duty_cents,
        holder_user_id=old.holder_user_id,
        application_id=old.application_id,
        replaces_id=old.id,
    )


def _replace(
    session: AnySession,
    old: Permit,
    plates: tuple[tuple[str, str], ...],
    period: Period,
    fee: Fee,
    actor: Actor,
    reason: str,
    now: dt.datetime,
    acting: Authority | None = None,
) -> IssueResult:
    new = create_permit(session, replacement_spec(old, plates, period, fee), actor, now)
    end_permit(
        session, old, PermitStatus.REPLACED, actor, reason, now, replaced_by=new, acting=acting
    )
    return IssueResult(
        new.id, new.number, new.seal_text or "", new.pdf or b"", new.valid_from, new.valid_to, True
    )


def change_plate(
    number: str,
    old_plate: str,
    new_plate: str,
    actor: Actor,
    at: dt.datetime | None = None,
    *,
    owner: User | None = None,
) -> IssueResult:
    """Free, immediate, same end date; the new plate must pass the category's checks. `owner`: the
    person doing it from the portal, who must own the permit now (for a firm: act for it)."""
    now = at or utcnow()
    try:
        old_norm, new_norm = normalise_plate(old_plate), normalise_plate(new_plate)
    except InvalidValue as exc:
        raise ServiceError(str(exc), code="plate_invalid") from exc
    with unit_of_work() as session:
        permit = _locked_active(session, number, owner)
        acting = authority_over(session, owner, permit.holder_id) if owner else None
        current = [(p.plate, p.country) for p in permit.plates]
        if old_norm not in [p for p, _ in current]:
            raise ServiceError(f"{old_norm} is not on permit {number}", code="plate_not_on_permit")
        if new_norm in [p for p, _ in current]:
            raise ServiceError(f"{new_norm} is already on permit {number}", code="plate_unchanged")
        _check_plate_change_limit(session, permit, now)
        plates = tuple((new_norm, "IT") if p == old_norm else (p, c) for p, c in current)
        # Two permits changed to the same plate at once (or a change and a new permit for it) both
        # found the plate free: the check runs under the plate's lock, as issuance does. Only the
        # new plate is locked: the household count does not change (one permit replaces another)
        # and the permit's other plates are already its own. Taken after the permit's row lock;
        # nothing takes a permit's row lock while holding a limit lock.
        lock_limit_keys(session, [plate_lock_key(new_norm)])
        recheck_for_replacement(permit, plates, now)
        period = Period(max(now, permit.valid_from), permit.valid_to)
        rules = current_rules()
        free = fee_for(rules, rules.category(permit.category.code), None, (), Purpose.PLATE_CHANGE)
        reason = f"{PLATE_CHANGE_REASON}{old_norm} -> {new_norm}"
        result = _replace(session, permit, plates, period, free, actor, reason, now, acting)
    return result


def renewal_opens(permit_valid_to: dt.datetime) -> dt.datetime:
    return permit_valid_to - dt.timedelta(days=RENEWAL_OPENS_DAYS)


def renewal_spec(
    permit: Permit, now: dt.datetime, validity: str | None = None, fee: Fee | None = None
) -> PermitSpec:
    """A renewal starts now and ends one validity after the old end: no paid day is lost.

    Its fee is what an application costs (ztl.rules.fees, stamp duty and exemptions included),
    from the vehicles the checks found; `fee` is given when it was already paid (the portal).
    """
    rules = current_rules()
    timezone = ZoneInfo(rules.timezone)
    category = rules.category(permit.category.code)
    duration = validity or category.validity[0]
    if duration not in category.validity or not renewable(duration):
        raise ServiceError(
            f"category {category.code} cannot be renewed for {duration}", code="not_renewable"
        )
    old_end_day = permit.valid_to.astimezone(timezone).date()
    end = permit_period(duration, now, timezone, first_day=old_end_day).valid_to
    plates = tuple((p.plate, p.country) for p in permit.plates)
    if fee is None:
        checked = recheck_for_replacement(permit, plates, now)
        fuels = [v.fuel for v in checked.facts.vehicles if v.fuel]
        fee = fee_for(rules, category, duration, fuels, Purpose.RENEWAL)
    return replacement_spec(permit, plates, Period(now, end), fee)


def renewable(duration: str) -> bool:
    """Months and years renew; a day, a week or two hours is simply bought again."""
    return (
        duration.startswith("P")
        and not duration.startswith("PT")
        and ("Y" in duration or "M" in duration)
    )


def renew_permit(
    number: str, actor: Actor, validity: str | None = None, at: dt.datetime | None = None
) -> IssueResult:
    """From 60 days before expiry: checks re-run, a new permit from now to old end + duration."""
    now = at or utcnow()
    rules = current_rules()
    timezone = ZoneInfo(rules.timezone)
    with unit_of_work() as session:
        permit = _locked_active(session, number)
        if now < renewal_opens(permit.valid_to):
            opens = renewal_opens(permit.valid_to).astimezone(timezone)
            raise ServiceError(
                f"renewal opens on {opens:%d/%m/%Y}, 60 days before expiry", code="too_early"
            )
        spec = renewal_spec(permit, now, validity)
        new = create_permit(session, spec, actor, now)
        end_permit(session, permit, PermitStatus.REPLACED, actor, "renewed", now, replaced_by=new)
        result = IssueResult(
            new.id,
            new.number,
            new.seal_text or "",
            new.pdf or b"",
            new.valid_from,
            new.valid_to,
            True,
        )
    return result


def renew_for_application(
    session: AnySession, number: str, application: Application, actor: Actor, now: dt.datetime
) -> Permit:
    """A renewal applied for (and paid) through the portal: the old permit is replaced in the same
    transaction as the application's issue; its checks already ran on the application."""
    permit = _locked_active(session, number)
    if (
        permit.holder_user_id != application.user_id
        and permit.holder_id != application.applicant_id
    ):
        raise ServiceError(f"permit {number} is not the applicant's", code="not_found")
    if now < renewal_opens(permit.valid_to):
        raise ServiceError("renewal opens 60 days before expiry", code="too_early")
    paid = Fee(application.fee_cents, application.stamp_duty_cents)
    spec = dataclasses.replace(
        renewal_spec(permit, now, (application.details or {}).get("validity"), paid),
        application_id=application.id,
    )
    new = create_permit(session, spec, actor, now)
    end_permit(session, permit, PermitStatus.REPLACED, actor, "renewed", now, replaced_by=new)
    return new
