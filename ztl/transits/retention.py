"""Retention of the transit ledger: what each reading keeps, and for how long.

`[transits] retention_days` (7 by default) decides, as of `now` with `cutoff = now - days`:
- authorized and cleared readings (no plate already) received before the cutoff are folded into
  `transit_hour_count` and deleted: their row was only there to recognise a repeat, and a gate
  does not resend a reading days later (readings later than `late_hours` are refused anyway);
- dismissed violations reviewed before the cutoff forget plate, picture and the permits
  considered (an appeal against the dismissal has had that long);
- confirmed violations keep their plate until the deadline to notify the fine, plus the same
  days: by then the fines system holds the case and this ledger no longer needs it;
- readings held at an unknown gate received before the cutoff forget their plate: a gate left
  unconfigured that long is not going to judge them;
- refused messages received before the cutoff are deleted.
Pending readings and violations waiting for review keep everything: they are what the ledger is
for. Each step is one transaction; running it twice changes nothing more the second time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update

from ztl.city.rules_config import current_rules
from ztl.infrastructure.unit_of_work import unit_of_work
from ztl.models import Transit, TransitHourCount, TransitRefusal
from ztl.models.enums import TransitStatus
from ztl.transits.settlement import forget_pictures

ANONYMISED = {
    "plate": None,
    "confidence": None,
    "image_ref": None,
    "image_file": None,
    "image_type": None,
    "considered": None,
}
COVERED = (TransitStatus.AUTHORIZED.value, TransitStatus.CLEARED.value)


@dataclass(frozen=True)
class TransitPurge:
    folded: int  # authorized or cleared readings counted and deleted
    anonymised: int  # readings that forgot their plate
    refusals: int  # refused messages deleted
    days: int
    cutoff: dt.datetime


def purge_transits(now: dt.datetime, days: int | None = None) -> TransitPurge:
    keep = current_rules().transits.retention_days if days is None else days
    cutoff = now - dt.timedelta(days=keep)
    folded = _fold_covered(cutoff)
    anonymised, pictures = _anonymise(now, cutoff, keep)
    forget_pictures(pictures)
    with unit_of_work() as session:
        refusals = session.execute(
            delete(TransitRefusal)
            .where(TransitRefusal.received_at < cutoff)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
    return TransitPurge(folded, anonymised, int(refusals), keep, cutoff)


def _fold_covered(cutoff: dt.datetime) -> int:
    """Add the covered readings before the cutoff to the hourly counts, then delete them."""
    old = (Transit.status.in_(COVERED), Transit.received_at < cutoff)
    with unit_of_work() as session:
        counts = session.execute(
            select(Transit.gate, Transit.hour, func.count())
            .where(*old)
            .group_by(Transit.gate, Transit.hour)
        ).all()
        for gate, hour, count in counts:
            row = session.get(TransitHourCount, (gate, hour))
            if row is None:
                session.add(TransitHourCount(gate=gate, hour=hour, authorized=count))
            else:
                row.authorized += count
        deleted = session.execute(
            delete(Transit).where(*old).execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
    return int(deleted)


def _anonymise(now: dt.datetime, cutoff: dt.datetime, keep: int) -> tuple[int, list[str]]:
    confirmed_until = (now - dt.timedelta(days=keep)).date()
    due = [
        (Transit.status == TransitStatus.DISMISSED.value) & (Transit.reviewed_at < cutoff),
        (Transit.status == TransitStatus.CONFIRMED.value) & (Transit.notify_by < confirmed_until),
        (Transit.status == TransitStatus.HELD.value) & (Transit.received_at < cutoff),
    ]
    total = 0
    pictures: list[str] = []
    with unit_of_work() as session:
        for condition in due:
            where = (condition, Transit.plate.is_not(None))
            pictures += [
                name for name in session.scalars(select(Transit.image_file).where(*where)) if name
            ]
            total += session.execute(
                update(Transit)
                .where(*where)
                .values(**ANONYMISED, anonymised_at=now)
                .execution_options(synchronize_session=False)
            ).rowcount  # type: ignore[attr-defined]
    return int(total), pictures
