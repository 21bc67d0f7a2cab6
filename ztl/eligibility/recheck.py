"""Re-checking active permits against the current registers (a daily job, and after each import).

A permit that no longer passes (resident moved away, vehicle sold, badge expired) is flagged for the
clerks' queue with the failing checks; it is never revoked silently. Checks that belong to the
moment of application (documents, a retroactive registration, the monthly count of daily permits)
are not re-run. Each permit is re-checked and flagged in its own transaction, so a long run that is
interrupted keeps what it did and can simply be run again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ztl.eligibility.service import EligibilityRequest, PlateInput, check_eligibility
from ztl.extensions import db
from ztl.infrastructure.events import record_event
from ztl.infrastructure.unit_of_work import Actor, unit_of_work
from ztl.models import Permit, utcnow
from ztl.models.enums import PermitStatus
from ztl.rules.checks import CHECKS
from ztl.rules.results import Status

BATCH = 500


@dataclass
class RecheckSummary:
    checked: int = 0
    flagged: list[str] = field(default_factory=list)  # permit numbers newly flagged
    cleared: list[str] = field(default_factory=list)  # flags removed: the permit passes again


def recheck_active_permits(
    actor: Actor | None = None,
    at: dt.datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> RecheckSummary:
    actor = actor or Actor.system()
    at = at or utcnow()
    summary = RecheckSummary()
    last_id = 0
    while True:
        ids = list(
            db.session.scalars(
                select(Permit.id)
                .where(Permit.status == PermitStatus.ACTIVE.value, Permit.id > last_id)
                .order_by(Permit.id)
                .limit(BATCH)
            )
        )
        db.session.rollback()
        if not ids:
            return summary
        for permit_id in ids:
            _recheck_one(permit_id, actor, at, summary)
        last_id = ids[-1]
        if progress:
            progress(summary.checked)


def _recheck_one(permit_id: int, actor: Actor, at: dt.datetime, summary: RecheckSummary) -> None:
    with unit_of_work() as session:
        permit = session.scalar(
            select(Permit)
            .where(Permit.id == permit_id, Permit.status == PermitStatus.ACTIVE.value)
            .options(selectinload(Permit.plates), selectinload(Permit.zones))
            # Two runs at once (a retried cron job): the second waits and then sees the flag the
            # first set, so a permit is flagged, and its event written, once.
            .with_for_update(of=Permit)
        )
        if permit is None:  # ended meanwhile
            return
        request = EligibilityRequest(
            category=permit.category.code,
            applicant_id=permit.holder_id,
            plates=tuple(PlateInput(p.plate, p.country) for p in permit.plates),
            at=at,
            zones=tuple(z.code for z in permit.zones),
            excluding_permit_id=permit.id,
        )
        result = check_eligibility(request)
        # Checks of the moment of application (declared When.APPLICATION_TIME) are not re-run.
        application_time = CHECKS.application_time()
        failing = [
            r.to_dict()
            for r in result.verdict.results
            if r.status is Status.FAIL and r.check_id not in application_time
        ]
        summary.checked += 1
        if failing and permit.flag_checks != failing:
            permit.flagged_at = at
            permit.flag_checks = failing
            summary.flagged.append(permit.number)
            record_event(
                session,
                actor,
                "permit",
                permit.id,
                "recheck_failed",
                reason=", ".join(f["id"] for f in failing),
                data={"checks": failing},
            )
        elif not failing and permit.flagged_at is not None:
            permit.flagged_at = None
            permit.flag_checks = None
            summary.cleared.append(permit.number)
            record_event(session, actor, "permit", permit.id, "recheck_passed")
