"""Reading issued permits (no state change): the signed PDF, and how a permit reads to its holder.

Why the holder's reading is worked out here and not in the page: an ended permit (replaced, given
up, revoked, or past its end) must never look usable (no PDF to print, no advice to display it on
the windscreen), a replaced one must lead to the permit that took its place, and a replacement
issued without a new payment must say so rather than show "0,00 EUR paid". Those are decisions on
the permit's history, which the templates only word.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from ztl.extensions import db
from ztl.models import Permit
from ztl.models.enums import PermitStatus
from ztl.permits.changes import PLATE_CHANGE_REASON

# How a permit ended, as the holder's page words it (templates/resident/permit.html).
ENDED_RENEWED = "renewed"
ENDED_PLATE_CHANGE = "plate_change"
ENDED_SURRENDERED = "surrendered"
ENDED_REVOKED = "revoked"
ENDED_EXPIRED = "expired"


def permit_pdf(number: str) -> bytes | None:
    return db.session.execute(
        select(Permit.pdf).where(Permit.number == number)
    ).scalar_one_or_none()


@dataclass(frozen=True)
class Payment:
    """What was paid for a permit: its own fee, or none because it replaces one already paid.

    `replaces`: the number of the permit this one took the place of, when it cost nothing (a plate
    change); `original_cents`: the fee paid for the first permit of that chain that cost something.
    """

    fee_cents: int
    replaces: str | None = None
    original_cents: int | None = None


@dataclass(frozen=True)
class HolderView:
    """A permit as its holder reads it: usable or ended, why, since when, and what replaced it."""

    usable: bool
    status: str  # PermitStatus's value as the holder reads it: "expired" once past its end
    ended_how: str | None  # ENDED_*, None while usable
    ended_at: dt.datetime | None
    revocation_reason: str | None  # the office's own words, for a revoked permit
    old_plate: str | None  # a plate change: the plate taken off and the one put on
    new_plate: str | None
    successor: str | None  # the number of the permit that replaced it
    payment: Payment


def _ended_how(permit: Permit, now: dt.datetime) -> str | None:
    if permit.status == PermitStatus.ACTIVE.value:
        # The nightly expiry may not have run yet: past its end the permit is over all the same.
        return ENDED_EXPIRED if permit.valid_to <= now else None
    if permit.status == PermitStatus.REPLACED.value:
        reason = permit.end_reason or ""
        return ENDED_PLATE_CHANGE if reason.startswith(PLATE_CHANGE_REASON) else ENDED_RENEWED
    return {
        PermitStatus.SURRENDERED.value: ENDED_SURRENDERED,
        PermitStatus.REVOKED.value: ENDED_REVOKED,
    }.get(permit.status, ENDED_EXPIRED)


def _plates_changed(permit: Permit) -> tuple[str | None, str | None]:
    """The plates of a plate change's end reason ("plate AB123CD -> XY987ZW")."""
    reason = (permit.end_reason or "").removeprefix(PLATE_CHANGE_REASON)
    old, arrow, new = reason.partition(" -> ")
    return (old.strip(), new.strip()) if arrow else (None, None)


def payment_of(permit: Permit) -> Payment:
    """A permit issued without a fee in place of another names that one and what was paid for it
    (walking back a chain of plate changes to the permit that was paid for)."""
    if permit.fee_cents or permit.replaces_id is None:
        return Payment(permit.fee_cents)
    replaced = db.session.get(Permit, permit.replaces_id)
    if replaced is None:
        return Payment(0)
    original: Permit | None = replaced
    for _ in range(1000):  # a chain is a few links long; the bound only guards against a loop
        if original is None or original.fee_cents or original.replaces_id is None:
            break
        original = db.session.get(Permit, original.replaces_id)
    paid = original.fee_cents if original is not None and original.fee_cents else None
    return Payment(0, replaced.number, paid)


def holder_view(permit: Permit, now: dt.datetime | None = None) -> HolderView:
    """How the holder's pages show `permit` at `now`."""
    moment = now or dt.datetime.now(dt.UTC)
    how = _ended_how(permit, moment)
    successor = None
    if permit.replaced_by_id is not None:
        successor = db.session.execute(
            select(Permit.number).where(Permit.id == permit.replaced_by_id)
        ).scalar_one_or_none()
    old_plate, new_plate = _plates_changed(permit) if how == ENDED_PLATE_CHANGE else (None, None)
    return HolderView(
        usable=how is None,
        status=PermitStatus.EXPIRED.value if how == ENDED_EXPIRED else permit.status,
        ended_how=how,
        ended_at=permit.ended_at or (permit.valid_to if how == ENDED_EXPIRED else None),
        revocation_reason=permit.end_reason if how == ENDED_REVOKED else None,
        old_plate=old_plate,
        new_plate=new_plate,
        successor=successor,
        payment=payment_of(permit),
    )


def holder_views(
    permits: Iterable[Permit], now: dt.datetime | None = None
) -> dict[str, HolderView]:
    """The holder's reading of each permit, by number (the dashboard's list)."""
    moment = now or dt.datetime.now(dt.UTC)
    return {p.number: holder_view(p, moment) for p in permits}


def downloadable_permit_of(application_id: int, now: dt.datetime | None = None) -> str | None:
    """The number of the permit an application gave that its holder may print now: the newest of
    its chain (a plate change keeps the application), and only while it is usable."""
    newest = db.session.scalars(
        select(Permit)
        .where(Permit.application_id == application_id)
        .order_by(Permit.issued_at.desc(), Permit.id.desc())
        .limit(1)
    ).first()
    if newest is None or newest.pdf is None or not holder_view(newest, now).usable:
        return None
    return newest.number


def surrender_keeps_fee(permit: Permit) -> int:
    """What the holder paid and does not get back when giving the permit up: nothing is refunded
    (changes.surrender_permit ends the permit and its seal, and no refund exists anywhere)."""
    payment = payment_of(permit)
    return payment.fee_cents or (payment.original_cents or 0)
