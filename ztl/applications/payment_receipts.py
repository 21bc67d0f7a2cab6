"""Receipts: the only way a notice becomes paid with a real provider, whoever brings them.

A receipt reaches us three ways (`Receipt.channel`): the pagoPA intermediary's notification
(HTTP Basic over TLS, ztl.api.pagopa), the daily reconciliation that reads the intermediary's
positions (ztl.applications.reconciliation), or a payment system's notification signed with the
shared secret (ZTL_PAYMENT_NOTIFICATION_SECRET, header `ZTL-Payment-Signature: t=<unix seconds>,
v1=<hex HMAC-SHA256 of "<t>." + body>`, five minutes' tolerance, checked here). All three end in
`record_receipt`, the one place that decides what a receipt does, so a payment reported by the
notification and by the reconciliation at the same moment is applied once and issues one permit.

Every receipt is recorded with its outcome, for the accounting office:
- accepted: the position was payable, for exactly this amount and this debtor; it is paid and the
  application moves on (a permit decided automatically is issued in the same transaction) or the
  booklet becomes usable;
- replay: the same receipt again (a retry, the other channel): not applied again, answered as the
  first time;
- refused: unknown notice, another amount, another debtor, a receipt id reused with different
  content, a position already paid by another receipt (a double payment: a refund request), a
  cancelled one (application withdrawn or rejected: a refund request).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ztl.applications import applicant as applications
from ztl.applications.hotel_guests import record_booklet_payment
from ztl.infrastructure.events import record_event
from ztl.infrastructure.unit_of_work import Actor, AnySession, unit_of_work
from ztl.models import (
    Application,
    HotelBooklet,
    PaymentNotification,
    PaymentPosition,
    Permit,
)
from ztl.models.enums import ApplicationStatus, PositionState, RefundReason
from ztl.payments.positions import request_refund
from ztl.payments.receipts import Receipt
from ztl.permits.issuance import locked_application

SIGNATURE_HEADER = "ZTL-Payment-Signature"
TOLERANCE = dt.timedelta(minutes=5)
ACTOR = Actor(label="payment-system")
MAX_RECEIPT_ID = 64
MAX_AMOUNT = 100_000_000  # one million euros: far above any fee, within every integer column

ACCEPTED = "accepted"
REPLAY = "replay"
REFUSED = "refused"


class BadSignature(Exception):
    """Not provably the payment system's: nothing is recorded (anyone can send garbage)."""


@dataclass(frozen=True)
class ReceiptOutcome:
    outcome: str  # accepted, replay, refused
    code: str  # paid, already_recorded, unknown_notice, amount_mismatch, already_paid, ...
    message: str
    permit_number: str | None = None


def sign(secret: str, body: bytes, at: dt.datetime) -> str:
    """The header value the payment system sends (and tests and the runbook compute)."""
    timestamp = str(int(at.timestamp()))
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify_signature(secret: str, header: str | None, body: bytes, now: dt.datetime) -> None:
    if not header:
        raise BadSignature(f"the {SIGNATURE_HEADER} header is missing")
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    timestamp, given = parts.get("t", ""), parts.get("v1", "")
    # ASCII digits only, and no longer than a Unix time can be: int() and dates never overflow.
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12) or not given:
        raise BadSignature(f"the {SIGNATURE_HEADER} header is not t=<unix seconds>,v1=<hex>")
    if abs(now.timestamp() - int(timestamp)) > TOLERANCE.total_seconds():
        raise BadSignature("the signature's time is more than five minutes away from ours")
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    if not hmac.compare_digest(expected.hexdigest(), given):
        raise BadSignature("the signature does not match the body")


def record_receipt(receipt: Receipt, body: bytes, now: dt.datetime) -> ReceiptOutcome:
    """Record one authenticated delivery and apply it when it is acceptable; one transaction.

    Two deliveries of one receipt at the same moment: the loser of the unique index sees the
    winner's row on its second try and is answered as a replay.
    """
    digest = hashlib.sha256(body).hexdigest()
    for attempt in range(2):
        try:
            return _record(receipt, digest, now)
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _record(receipt: Receipt, digest: str, now: dt.datetime) -> ReceiptOutcome:
    permit: Permit | None = None
    application_id: int | None = None
    with unit_of_work() as session:
        outcome, position, application_id, permit = _decide(session, receipt, digest, now)
        session.add(
            PaymentNotification(
                receipt_id=receipt.receipt_id,
                iuv=receipt.iuv,
                amount_cents=receipt.amount_cents,
                paid_at=receipt.paid_at,
                received_at=now,
                outcome=outcome.outcome,
                code=outcome.code,
                reason=None if outcome.outcome == ACCEPTED else outcome.message,
                body_sha256=digest,
                channel=receipt.channel,
                payer_tax_code=receipt.payer_tax_code,
                position_id=position.id if position is not None else None,
            )
        )
        if outcome.outcome == REFUSED:
            record_event(
                session,
                ACTOR,
                "payment",
                receipt.iuv,
                "receipt_refused",
                reason=outcome.message,
                data={"receipt_id": receipt.receipt_id, "amount_cents": receipt.amount_cents},
            )
        session.flush()
    if outcome.outcome == ACCEPTED and application_id is not None:
        applications.notify_after_payment(application_id, permit)
    return outcome


def _decide(
    session: AnySession, receipt: Receipt, digest: str, now: dt.datetime
) -> tuple[ReceiptOutcome, PaymentPosition | None, int | None, Permit | None]:
    """The notice's application or booklet, then its position, are locked first: a twin delivery
    waits for the first to commit and then finds its receipt (a replay), not a notice "already
    paid by another". The order is the one withdrawals and decisions take (the application, then
    its position), so a receipt arriving during a withdrawal waits instead of deadlocking."""
    found = session.execute(
        select(
            PaymentPosition.id, PaymentPosition.application_id, PaymentPosition.booklet_id
        ).where(PaymentPosition.iuv == receipt.iuv)
    ).first()
    if found is None:
        return _refused("unknown_notice", "no notice with this IUV", None)
    application = (
        locked_application(session, found.application_id) if found.application_id else None
    )
    booklet = None
    if found.booklet_id is not None:
        booklet = session.execute(
            select(HotelBooklet).where(HotelBooklet.id == found.booklet_id).with_for_update()
        ).scalar_one()
    position = session.execute(
        select(PaymentPosition).where(PaymentPosition.id == found.id).with_for_update()
    ).scalar_one()
    earlier = _earlier(session, receipt, digest)
    if earlier is not None:
        return earlier, position, None, None
    already = position.state == PositionState.PAID.value or (
        booklet.paid_at is not None if booklet is not None else False
    )
    if already or (application is not None and application.paid_at is not None):
        request_refund(
            session,
            position,
            receipt.receipt_id,
            receipt.amount_cents,
            RefundReason.DOUBLE_PAYMENT,
        )
        return _refused(
            "already_paid",
            "the notice was already paid by another receipt: a double payment to refund",
            position,
        )
    if position.state in (PositionState.CANCELLING.value, PositionState.CANCELLED.value) or (
        application is not None and application.status != ApplicationStatus.SUBMITTED.value
    ):
        request_refund(
            session,
            position,
            receipt.receipt_id,
            receipt.amount_cents,
            RefundReason.CANCELLED_NOTICE,
        )
        return _refused(
            "notice_cancelled",
            "the notice was cancelled (application withdrawn or rejected): the payment is to refund",
            position,
        )
    if receipt.payer_tax_code is not None and receipt.payer_tax_code != position.payer_tax_code:
        return _refused(
            "payer_mismatch", "the receipt names another payer than the notice's debtor", position
        )
    if receipt.amount_cents != position.amount_cents:
        return _refused(
            "amount_mismatch",
            f"the notice is for {position.amount_cents} cents, the receipt says "
            f"{receipt.amount_cents}",
            position,
        )
    position.state = PositionState.PAID.value
    position.paid_at = receipt.paid_at
    position.receipt_id = receipt.receipt_id
    if application is not None:
        permit = applications.record_payment(session, application, ACTOR, now)
        number = permit.number if permit else None
        return (
            ReceiptOutcome(ACCEPTED, "paid", "the application is paid", number),
            position,
            application.id,
            permit,
        )
    if booklet is not None:
        record_booklet_payment(session, booklet, ACTOR, now)
    return ReceiptOutcome(ACCEPTED, "paid", "the booklet is paid"), position, None, None


def _earlier(session: AnySession, receipt: Receipt, digest: str) -> ReceiptOutcome | None:
    """The answer for a receipt accepted before: the same (a replay), or refused when its id
    comes back with other content."""
    earlier = session.scalar(
        select(PaymentNotification).where(
            PaymentNotification.receipt_id == receipt.receipt_id,
            PaymentNotification.outcome == ACCEPTED,
        )
    )
    if earlier is None:
        return None
    if earlier.iuv == receipt.iuv and earlier.amount_cents == receipt.amount_cents:
        number = _permit_of(session, receipt.iuv)
        return ReceiptOutcome(
            REPLAY, "already_recorded", "this receipt was already recorded", number
        )
    return ReceiptOutcome(
        REFUSED, "receipt_reused", "this receipt id was already used for another payment"
    )


def _refused(
    code: str, message: str, position: PaymentPosition | None
) -> tuple[ReceiptOutcome, PaymentPosition | None, None, None]:
    return ReceiptOutcome(REFUSED, code, message), position, None, None


def _permit_of(session: AnySession, iuv: str) -> str | None:
    return session.scalar(
        select(Permit.number)
        .join(Application, Application.id == Permit.application_id)
        .where(Application.payment_reference == iuv, Permit.replaces_id.is_(None))
    )
