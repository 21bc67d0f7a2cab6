"""Debt positions: stored here first, then opened, cancelled and refunded at the intermediary.

Why stored before the intermediary is called: a remote call inside a database transaction would
hold SQLite's write lock (or a PostgreSQL row lock) for as long as the intermediary takes, and a
crash between the call and the commit would leave a position nobody knows about. So a position is
written in the applicant's transaction with its notice number fixed (state `opening`); after the
commit `open_position` tells the intermediary (an idempotent call on the position's id) and marks it
`open`. If the intermediary is down, the position stays `opening`: the applicant's page says the
notice is being prepared, and the next look at the page or the daily job (`ztl payments reconcile`)
opens it. Cancelling is the same in two steps (`cancelling`, then `cancelled`).

A position moves: opening -> open -> paid; opening/open -> cancelling -> cancelled; open ->
expired (the intermediary says so). Paid is set only by an accepted receipt
(ztl.applications.payment_receipts).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ztl.city.rules_config import current_rules
from ztl.infrastructure.events import record_event
from ztl.infrastructure.unit_of_work import Actor, AnySession, unit_of_work
from ztl.models import PaymentPosition, RefundRequest
from ztl.models.enums import PositionState, RefundReason
from ztl.payments.active import payment_provider, provider_name, segregation_code
from ztl.payments.notice_numbers import QrText, new_iuv, notice_number
from ztl.payments.providers import (
    IntermediaryRefused,
    IntermediaryUnavailable,
    PositionAlreadyPaid,
    PositionRequest,
)
from ztl.rules.municipality import Payments

log = logging.getLogger(__name__)
ACTOR = Actor(label="payments")
LIVE = (PositionState.OPENING.value, PositionState.OPEN.value)
REMOTE_ID_PREFIX = "ZTL-"
DEFAULT_NOTICE_DAYS = 30
RETRY_AFTER = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class Debt:
    """What one position is for and who owes it (the application's or booklet's domain says)."""

    purpose: str  # application, renewal, booklet
    category_code: str
    fee_cents: int
    stamp_duty_cents: int  # the application's and the permit's together
    payer_tax_code: str
    payer_name: str
    reason: str
    application_id: int | None = None
    booklet_id: int | None = None


def payment_rules() -> Payments | None:
    return current_rules().payments


def refund_ends() -> frozenset[str]:
    """The ends of a paid application that give the money back (`[payments] refund_on`)."""
    rules = payment_rules()
    return rules.refund_on if rules else frozenset()


def creditor_fiscal_code() -> str:
    """The creditor on every notice: the rules file's `[payments]`, or a placeholder for the
    local providers of a city that has not written it (their notices go to no bank)."""
    rules = payment_rules()
    return rules.creditor_fiscal_code if rules else "00000000000"


def create_position(session: AnySession, debt: Debt, now: dt.datetime) -> PaymentPosition:
    """In the caller's transaction: the live position of the application, or a new one with its
    notice number fixed. Submitting twice, or a retry, finds the same position."""
    if debt.application_id is not None:
        existing = live_position_of_application(session, debt.application_id)
        if existing is not None:
            return existing
    rules = payment_rules()
    days = rules.notice_days if rules else DEFAULT_NOTICE_DAYS
    zone = ZoneInfo(current_rules().timezone)
    iuv = _unused_iuv(session)
    position = PaymentPosition(
        iuv=iuv,
        notice_number=notice_number(iuv),
        remote_id=REMOTE_ID_PREFIX + iuv,
        provider=provider_name(),
        application_id=debt.application_id,
        booklet_id=debt.booklet_id,
        category_code=debt.category_code,
        purpose=debt.purpose,
        fee_cents=debt.fee_cents,
        stamp_duty_cents=debt.stamp_duty_cents,
        amount_cents=debt.fee_cents + debt.stamp_duty_cents,
        payer_kind="F" if len(debt.payer_tax_code) == 16 else "G",
        payer_tax_code=debt.payer_tax_code,
        payer_name=debt.payer_name[:200] or debt.payer_tax_code,
        reason=debt.reason[:140],
        expires_on=now.astimezone(zone).date() + dt.timedelta(days=days),
        state=PositionState.OPENING.value,
        created_at=now,
    )
    session.add(position)
    session.flush()
    return position


def _unused_iuv(session: AnySession) -> str:
    """A random IUV no position holds (13 random digits: a clash is a curiosity, still checked)."""
    code = segregation_code()
    for _ in range(10):
        iuv = new_iuv(code)
        if session.scalar(select(PaymentPosition.id).where(PaymentPosition.iuv == iuv)) is None:
            return iuv
    raise RuntimeError("ten random IUVs all taken: the random source is broken")  # pragma: no cover


def open_position(position_id: int) -> bool:
    """After the commit that stored it: tell the intermediary; True once the position is open.

    A failure is kept on the position (`last_error`) and logged; the position stays `opening`
    for the next try. Two tries at once both call the intermediary (idempotent there) and one
    marks it open.
    """
    with unit_of_work() as session:
        position = session.get(PaymentPosition, position_id)
        if position is None or position.state != PositionState.OPENING.value:
            return position is not None and position.state != PositionState.CANCELLING.value
        request = position_request(position)
    try:
        payment_provider().open_position(request)
    except (IntermediaryUnavailable, IntermediaryRefused) as exc:
        log.warning("payment position %s not opened: %s", request.remote_id, exc)
        _note_error(position_id, str(exc))
        return False
    with unit_of_work() as session:
        position = _locked(session, position_id)
        if position.state == PositionState.OPENING.value:
            position.state = PositionState.OPEN.value
            position.opened_at = dt.datetime.now(dt.UTC)
            position.last_error = None
            record_event(session, ACTOR, "payment", position.iuv, "position_opened")
    return True


def position_request(position: PaymentPosition) -> PositionRequest:
    rules = payment_rules()
    each = current_rules().stamp_duty_cents
    stamps: tuple[int, ...] = ()
    if position.stamp_duty_cents:
        # Two documents carry a stamp (the application and the permit), each its own entry.
        stamps = (each, position.stamp_duty_cents - each) if each else (position.stamp_duty_cents,)
        stamps = tuple(s for s in stamps if s > 0)
    hashes = tuple(_document_hash(position, index) for index in range(len(stamps)))
    return PositionRequest(
        remote_id=position.remote_id,
        iuv=position.iuv,
        notice_number=position.notice_number,
        creditor_fiscal_code=creditor_fiscal_code(),
        payer_kind=position.payer_kind,
        payer_tax_code=position.payer_tax_code,
        payer_name=position.payer_name,
        reason=position.reason,
        fee_cents=position.fee_cents,
        stamp_duty_cents=stamps,
        stamp_hashes=hashes,
        stamp_province=rules.stamp_duty_province if rules else "",
        amount_cents=position.amount_cents,
        expires_on=position.expires_on,
    )


def _document_hash(position: PaymentPosition, index: int) -> str:
    """The digest a digital stamp names: the stamped document's. The application is identified by
    its notice; the permit that will carry the second stamp by the same notice and its index."""
    document = f"{position.iuv}:{position.application_id or position.booklet_id}:{index}"
    return base64.b64encode(hashlib.sha256(document.encode()).digest()).decode()


def qr_text(position: PaymentPosition) -> str:
    return QrText(position.notice_number, creditor_fiscal_code(), position.amount_cents).text()


def checkout_url(position: PaymentPosition) -> str | None:
    """The "Paga online" link, while the position can be paid."""
    if position.state != PositionState.OPEN.value:
        return None
    return payment_provider().checkout_url(position.notice_number, creditor_fiscal_code())


def mark_cancelling(
    session: AnySession, position: PaymentPosition, actor: Actor, reason: str, now: dt.datetime
) -> bool:
    """In the caller's transaction (the application's withdrawal or rejection): an unpaid position
    stops being payable here at once; `settle_cancellation` tells the intermediary after the
    commit. True when there is something to tell."""
    if position.state not in LIVE:
        return False
    position.state = PositionState.CANCELLING.value
    position.cancelled_at = now
    record_event(session, actor, "payment", position.iuv, "position_cancelled", reason=reason)
    return True


def settle_cancellation(position_id: int, reason: str) -> bool:
    """After the commit: cancel at the intermediary; True once done. Paid there in the meantime:
    the position is cancelled here all the same, and its receipt, when it arrives, is refused as
    a payment of a cancelled notice and refunded (ztl.applications.payment_receipts)."""
    with unit_of_work() as session:
        position = session.get(PaymentPosition, position_id)
        if position is None or position.state != PositionState.CANCELLING.value:
            return True
        remote_id = position.remote_id
    error: str | None = None
    try:
        payment_provider().cancel_position(remote_id, reason)
    except PositionAlreadyPaid as exc:
        error = str(exc)
    except (IntermediaryUnavailable, IntermediaryRefused) as exc:
        log.warning("payment position %s not cancelled: %s", remote_id, exc)
        _note_error(position_id, str(exc))
        return False
    with unit_of_work() as session:
        position = _locked(session, position_id)
        if position.state == PositionState.CANCELLING.value:
            position.state = PositionState.CANCELLED.value
            position.last_error = error
    return True


def request_refund(
    session: AnySession,
    position: PaymentPosition,
    receipt_id: str,
    amount_cents: int,
    reason: RefundReason,
) -> RefundRequest | None:
    """In the caller's transaction: a refund the accounting office will see, once per receipt."""
    if amount_cents <= 0:
        return None
    existing = session.scalar(select(RefundRequest).where(RefundRequest.receipt_id == receipt_id))
    if existing is not None:
        return existing
    refund = RefundRequest(
        position_id=position.id,
        receipt_id=receipt_id,
        amount_cents=amount_cents,
        reason=reason.value,
        requested_at=dt.datetime.now(dt.UTC),
    )
    session.add(refund)
    record_event(
        session,
        ACTOR,
        "payment",
        position.iuv,
        "refund_requested",
        reason=reason.value,
        data={"receipt_id": receipt_id, "amount_cents": amount_cents},
    )
    session.flush()
    return refund


def refund_on_end(session: AnySession, position: PaymentPosition | None, end: str) -> None:
    """A paid application ends (rejected, withdrawn): the rules say whether its money goes back.
    What goes back is the fee and the permit's stamp duty: the application's stamp duty paid for
    an application that was filed and examined."""
    rules = payment_rules()
    if position is None or position.state != PositionState.PAID.value or not position.receipt_id:
        return
    if rules is None or end not in rules.refund_on:
        return
    request_refund(
        session,
        position,
        position.receipt_id,
        refundable_cents(position.fee_cents, position.stamp_duty_cents),
        RefundReason(end),
    )


def refundable_cents(fee_cents: int, stamp_duty_cents: int) -> int:
    """What an ended application gives back: the fee and the permit's stamp duty (the second of
    the two stamps; the application's paid for an application that was filed)."""
    each = current_rules().stamp_duty_cents
    permit_stamp = max(stamp_duty_cents - each, 0) if stamp_duty_cents else 0
    return fee_cents + permit_stamp


def end_application_payment(
    session: AnySession, application_id: int, end: str, actor: Actor, now: dt.datetime
) -> int | None:
    """In the transaction that ends an application (withdrawn, rejected): its unpaid notice is
    cancelled, a paid one refunded when the rules say so. Returns the position to cancel at the
    intermediary after the commit (`settle_cancellation`), if any."""
    position = live_position_of_application(session, application_id)
    if position is None:
        return None
    refund_on_end(session, position, end)
    if mark_cancelling(session, position, actor, end, now):
        return position.id
    return None


def mark_paid_on_payer_word(session: AnySession, iuv: str | None, now: dt.datetime) -> None:
    """The development stand-in only: the payer's "I have paid" marks the position paid, so the
    accounting pages of a `make run` city add up. No real provider ever calls this."""
    if iuv is None:
        return
    position = session.scalars(
        select(PaymentPosition).where(PaymentPosition.iuv == iuv).with_for_update()
    ).first()
    if position is not None and position.state in LIVE:
        position.state = PositionState.PAID.value
        position.paid_at = now
        position.receipt_id = f"DEMO-{iuv}"


def live_position_of_application(
    session: AnySession, application_id: int
) -> PaymentPosition | None:
    """The application's position that is not cancelled (at most one, by the partial index)."""
    return session.scalars(
        select(PaymentPosition)
        .where(
            PaymentPosition.application_id == application_id,
            PaymentPosition.state.not_in(
                (PositionState.CANCELLING.value, PositionState.CANCELLED.value)
            ),
        )
        .order_by(PaymentPosition.id.desc())
    ).first()


def _locked(session: AnySession, position_id: int) -> PaymentPosition:
    return session.execute(
        select(PaymentPosition).where(PaymentPosition.id == position_id).with_for_update()
    ).scalar_one()


def _note_error(position_id: int, error: str) -> None:
    with unit_of_work() as session:
        position = _locked(session, position_id)
        position.last_error = error[:2000]
        position.failed_at = dt.datetime.now(dt.UTC)


def worth_retrying(position: PaymentPosition, now: dt.datetime) -> bool:
    """Whether a page may try to open a position again now: not within a minute of a failure,
    so an intermediary that is down does not make every page view wait for its timeout."""
    return position.failed_at is None or now - position.failed_at >= RETRY_AFTER
