"""Retention of plate lookups: after the days the municipality sets, a lookup forgets its plate.

A plate lookup says where a car was and who asked about it: personal data, kept only as long as it
is needed (`[retention] lookups_days` in the rules file, 7 days by default). Then the plate is
blanked, the reason too (it names the permit, whose number leads back to the plate) and
`anonymised_at` set; the rest of the row (when, which zone, who asked, the answer) stays for
statistics and for the record of who consulted what.

Which rows, as of `now`, with `cutoff = now - lookups_days`:

- an authorized answer asked before the cutoff;
- a violation (a "no": not authorized, and no later registration can still excuse it, or one
  still could) only once it is closed (`violation_closed_at`), and once the closure too is older
  than the cutoff: the plate is what the fine is about, so it stays while the violation is open,
  and for the retention period after it is closed (an appeal, a correction). A "no" that is still
  pending (`pending_until` in the future) is kept like a violation: it may turn into one.

Closing a violation is not part of this change (no page, command or API sets
`violation_closed_at` yet): until one exists, open violations keep their plates, which is the
safe side. The purge respects the column already, so closing one later needs nothing here.

Everything happens in one UPDATE, in one transaction: a purge is done entirely or not at all, and
running it twice anonymises nothing more the second time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, or_, update

from ztl.city.rules_config import current_rules
from ztl.infrastructure.unit_of_work import unit_of_work
from ztl.models import PlateLookup, utcnow

ANONYMISED_REASON = "anonimizzata / anonymised"


@dataclass(frozen=True)
class PurgeResult:
    anonymised: int  # rows whose plate was blanked by this run
    days: int  # the retention applied
    cutoff: dt.datetime  # answers (and closures) before this instant were due


def purge_lookups(now: dt.datetime | None = None, days: int | None = None) -> PurgeResult:
    """Blank the plate of every lookup past its retention (see the module's docstring)."""
    moment = now or utcnow()
    keep = current_rules().lookup_retention_days if days is None else days
    if keep < 0:
        raise ValueError("retention days must be 0 or more")
    cutoff = moment - dt.timedelta(days=keep)
    closed_long_enough = and_(
        PlateLookup.violation_closed_at.is_not(None), PlateLookup.violation_closed_at < cutoff
    )
    statement = (
        update(PlateLookup)
        .where(
            PlateLookup.plate.is_not(None),
            PlateLookup.asked_at < cutoff,
            or_(PlateLookup.authorized, closed_long_enough),
        )
        .values(plate=None, reason=ANONYMISED_REASON, anonymised_at=moment)
        .execution_options(synchronize_session=False)
    )
    with unit_of_work() as session:
        result = session.execute(statement)
    return PurgeResult(int(result.rowcount), keep, cutoff)  # type: ignore[attr-defined]
