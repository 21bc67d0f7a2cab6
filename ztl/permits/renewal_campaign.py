"""The renewal campaign: every active permit whose renewal is open, renewed in batches on every core.

For a municipality that renews on its own initiative (a resident's permit paid yearly by direct
debit, a campaign after a change of rules). Each permit's checks are re-run first; one that fails is
left alone and listed for the clerks, never renewed or revoked silently. Each batch is one
transaction: its numbers are taken in one block, its PDFs rendered and signed by a pool of processes,
and the old seals revoked, so an interrupted campaign simply runs again from where it stopped.
With several nodes (a shared Redis), `queue_renewals` hands each batch to the job queue instead, and
the workers of every node render them (ztl.cluster.queue).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from ztl.cluster.queue import dispatch
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import Actor, ServiceError, unit_of_work
from ztl.models import Permit, utcnow
from ztl.models.enums import PermitStatus
from ztl.pdf.pool import SigningPool
from ztl.permits.changes import (
    RENEWAL_OPENS_DAYS,
    end_permit,
    renewal_spec,
)
from ztl.permits.issuance import create_permits
from ztl.seals.keys import key_store

logger = logging.getLogger(__name__)


@dataclass
class CampaignSummary:
    renewed: list[tuple[str, str]] = field(default_factory=list)  # (old number, new number)
    refused: dict[str, str] = field(default_factory=dict)  # number -> why (for the clerks)


def _due_ids(after: int, now: dt.datetime, batch: int) -> list[int]:
    return list(
        db.session.scalars(
            select(Permit.id)
            .where(
                Permit.status == PermitStatus.ACTIVE.value,
                Permit.valid_to > now,
                Permit.valid_to <= now + dt.timedelta(days=RENEWAL_OPENS_DAYS),
                Permit.id > after,
            )
            .order_by(Permit.id)
            .limit(batch)
        )
    )


def renew_due(
    actor: Actor,
    batch: int = 200,
    workers: int = 2,
    at: dt.datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> CampaignSummary:
    """The whole campaign in this process, its PDFs on a pool of `workers` processes."""
    now = at or utcnow()
    summary = CampaignSummary()
    last = 0
    with SigningPool(Path(key_store().folder), max(1, workers)) as pool:
        while ids := _due_ids(last, now, batch):
            db.session.rollback()
            last = ids[-1]
            _renew_batch(ids, now, actor, summary, pool)
            if progress:
                progress(len(summary.renewed) + len(summary.refused))
    return summary


def queue_renewals(actor: Actor, batch: int = 200, at: dt.datetime | None = None) -> dict[str, int]:
    """The campaign as jobs, one per batch, for the queue's workers on every node: how many
    batches were "queued" and how many "ran" here (Redis did not answer). Each job's key names
    its campaign instant and permits, and a batch run twice renews nothing twice (`_renew_batch`
    takes only permits still active)."""
    now = at or utcnow()
    last = 0
    outcomes = {"queued": 0, "ran": 0}
    while ids := _due_ids(last, now, batch):
        db.session.rollback()
        last = ids[-1]
        key = f"renewals-{now:%Y%m%dT%H%M%S}-{ids[0]}-{ids[-1]}"
        outcome = dispatch(renew_batch, ids, now.isoformat(), actor.label, key=key, timeout=1800)
        outcomes[outcome] += 1
    return outcomes


def renew_batch(ids: list[int], at: str, actor_label: str) -> dict[str, object]:
    """The job of one batch (ztl.cluster.queue): its PDFs rendered in the worker's process. The
    permits left to the clerks, with why, are logged and kept as the job's result."""
    summary = CampaignSummary()
    _renew_batch(ids, dt.datetime.fromisoformat(at), Actor(label=actor_label), summary, None)
    for number, reason in summary.refused.items():
        logger.warning("renewal campaign: %s not renewed: %s", number, reason)
    return {"renewed": summary.renewed, "refused": summary.refused}


def _renew_batch(
    ids: list[int],
    now: dt.datetime,
    actor: Actor,
    summary: CampaignSummary,
    pool: SigningPool | None,
) -> None:
    """One transaction: the batch's permits still active are renewed or listed as refused."""
    with unit_of_work() as session:
        olds = list(
            session.scalars(
                select(Permit)
                .where(Permit.id.in_(ids), Permit.status == PermitStatus.ACTIVE.value)
                .order_by(Permit.id)
                .with_for_update()
            )
        )
        chosen, specs = [], []
        for old in olds:
            try:
                spec = renewal_spec(old, now)  # the checks run in it
            except ServiceError as exc:
                summary.refused[old.number] = str(exc)
                continue
            chosen.append(old)
            specs.append(spec)
        if specs:
            news = create_permits(session, specs, actor, now, pool)
            for old, new in zip(chosen, news, strict=True):
                end_permit(session, old, PermitStatus.REPLACED, actor, "renewed", now, new)
                summary.renewed.append((old.number, new.number))
