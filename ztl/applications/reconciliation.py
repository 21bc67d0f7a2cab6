"""The daily reconciliation with the pagoPA intermediary (`ztl payments reconcile`).

Why a job and not only notifications: a notification can be lost (our server down, a network cut,
the intermediary giving up its retries), and a position can fail to open or to cancel when the
intermediary is down. Once a day (or more often) the job finishes what was left: it opens positions
still `opening`, cancels those still `cancelling`, and reads every open position back from the
intermediary; a receipt found there goes through `record_receipt` like a notification, so a payment
reported both ways is applied once. A position the intermediary reports expired or cancelled with no
receipt is marked so here.

Each position is its own transaction: one the intermediary cannot answer for is counted and left for
the next run, the others are done.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from sqlalchemy import select

from ztl.applications.payment_receipts import ACCEPTED, REPLAY, record_receipt
from ztl.infrastructure.events import record_event
from ztl.infrastructure.unit_of_work import Actor, unit_of_work
from ztl.models import PaymentPosition
from ztl.models.enums import PositionState
from ztl.payments.active import payment_provider
from ztl.payments.positions import open_position, settle_cancellation
from ztl.payments.providers import IntermediaryRefused, IntermediaryUnavailable
from ztl.payments.receipts import Receipt

ACTOR = Actor(label="reconciliation")


@dataclass
class ReconcileReport:
    opened: int = 0
    cancelled: int = 0
    checked: int = 0
    accepted: int = 0
    replays: int = 0
    refused: int = 0
    expired: int = 0
    failures: list[str] = field(default_factory=list)


def reconcile(now: dt.datetime | None = None) -> ReconcileReport:
    moment = now or dt.datetime.now(dt.UTC)
    report = ReconcileReport()
    with unit_of_work() as session:
        rows = session.execute(
            select(PaymentPosition.id, PaymentPosition.state, PaymentPosition.notice_number)
            .where(
                PaymentPosition.state.in_(
                    (
                        PositionState.OPENING.value,
                        PositionState.CANCELLING.value,
                        PositionState.OPEN.value,
                    )
                )
            )
            .order_by(PaymentPosition.id)
        ).all()
    for position_id, state, number in rows:
        if state == PositionState.OPENING.value:
            if open_position(position_id):
                report.opened += 1
            else:
                report.failures.append(f"{number}: not opened at the intermediary")
            continue
        if state == PositionState.CANCELLING.value:
            if settle_cancellation(position_id, "annullata"):
                report.cancelled += 1
            else:
                report.failures.append(f"{number}: not cancelled at the intermediary")
            continue
        _check(position_id, number, moment, report)
    return report


def _check(position_id: int, number: str, now: dt.datetime, report: ReconcileReport) -> None:
    with unit_of_work() as session:
        position = session.get(PaymentPosition, position_id)
        if position is None or position.state != PositionState.OPEN.value:
            return
        remote_id = position.remote_id
    try:
        remote = payment_provider().read_position(remote_id)
    except (IntermediaryUnavailable, IntermediaryRefused) as exc:
        report.failures.append(f"{number}: {exc}")
        return
    if remote is None:  # a local provider: receipts are pushed, there is nothing to read
        return
    report.checked += 1
    for receipt in remote.receipts:
        outcome = record_receipt(receipt, _canonical(receipt), now)
        if outcome.outcome == ACCEPTED:
            report.accepted += 1
        elif outcome.outcome == REPLAY:
            report.replays += 1
        else:
            report.refused += 1
    if remote.state == "expired" and not remote.receipts:
        with unit_of_work() as session:
            position = session.execute(
                select(PaymentPosition).where(PaymentPosition.id == position_id).with_for_update()
            ).scalar_one()
            if position.state == PositionState.OPEN.value:
                position.state = PositionState.EXPIRED.value
                record_event(session, ACTOR, "payment", position.iuv, "position_expired")
                report.expired += 1


def _canonical(receipt: Receipt) -> bytes:
    """What the reconciliation read, as bytes to fingerprint like a notification's body."""
    return json.dumps(
        {
            "receipt_id": receipt.receipt_id,
            "iuv": receipt.iuv,
            "amount_cents": receipt.amount_cents,
            "paid_at": receipt.paid_at.isoformat(),
            "payer": receipt.payer_tax_code,
        },
        sort_keys=True,
    ).encode()
