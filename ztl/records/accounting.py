"""The accounting office's day: notices issued, receipts received and refunds requested, in cents.

The accounting day ("giorno contabile") is the municipality's local day, from local midnight to the
next local midnight (`[municipality] timezone` of the rules file); both ends are turned into UTC
instants before the query, so a day when daylight saving time starts or ends has its 23 or 25 hours
and a receipt received at 23:30 local time belongs to that local day, not to UTC's.
A position belongs to the day it was created, a receipt to the day it was received (`received_at`,
not the payer's `paid_at`), a refund request to the day it was requested.

The totals by category are computed here from the very rows the ledger lists, with integer cents
only: a total is the sum of its rows, to the cent, whoever adds them up again (the page, the CSV,
a spreadsheet). Payments count only the receipts accepted; a replay or a refused receipt moved no
money here (a refused one that must be given back appears as a refund request).

The CSV (`ledger_csv`): comma-separated, UTF-8, one header row, one line per record; its columns:

- `record`: `position` (a notice issued that day), `receipt` (a receipt received that day, whatever
  its outcome), `refund` (a refund requested that day) or `total`;
- `local_time`: when it happened, ISO 8601 with the offset, on the municipality's clock: a
  position's creation, a receipt's arrival, a refund's request; empty on `total` rows;
- `notice_number`: the 18-digit pagoPA notice number (for a receipt whose notice is unknown, "3"
  followed by the IUV the receipt named); empty on `total` rows;
- `category`: the permit category's code; on `total` rows the category totalled, or `ALL` for the
  grand total; empty for a receipt whose notice is unknown;
- `purpose_or_channel`: a position's purpose (`application`, `renewal`, `booklet`); a receipt's
  channel (`notification`: the pagoPA intermediary's call, `reconciliation`: the daily job,
  `signed`: the signed notification); empty for refunds and totals;
- `outcome_or_state`: a position's state now (`opening`, `open`, `paid`, `cancelling`,
  `cancelled`, `expired`); a receipt's outcome (`accepted`, `replay`, `refused`); a refund's
  `done` or `pending`; on `total` rows the figure totalled: `issued` (the day's positions),
  `paid` (the day's accepted receipts), `refunded` (the day's refund requests);
- `payer`: the debtor's codice fiscale or partita IVA (a receipt: the payer it names, else the
  notice's debtor);
- `amount_cents`: the amount in integer euro cents: of the notice, of the receipt, of the refund;
  on `total` rows the sum of `amount_cents` over the rows it totals;
- `fee_cents`, `stamp_duty_cents`: the fee and the stamp duty of a position (they add up to its
  amount) and their sums on `issued` total rows; empty elsewhere (a receipt pays a whole notice);
- `reason`: why a receipt was not accepted (`unknown_notice`, `amount_mismatch`,
  `payer_mismatch`, `already_paid`, `notice_cancelled`, `receipt_reused`; `already_recorded` for
  a replay) or why money goes back (`rejected`, `withdrawn`, `double_payment`,
  `cancelled_notice`); empty elsewhere;
- `receipt_id`: the payment system's receipt id (receipts and refunds);
- `payer_name`: the debtor's name as the notice carries it (positions and refunds);
- `paid_time`: when the payer paid, as the receipt says (ISO 8601 with the offset, municipality's
  clock; receipts only);
- `count`: 1 on every record line; on `total` rows the number of rows totalled.

So a spreadsheet adds them up with SUMIFS: `amount_cents` where `record` = `receipt` and
`outcome_or_state` = `accepted` (and `category` = X) equals the `paid` total row of X; where
`record` = `position`, the `issued` row; where `record` = `refund`, the `refunded` row; the same
with `count`. No euro signs and no decimals: amounts are integer cents, as everywhere in this
service. Text that came from outside (payer names, receipt ids, the payer a receipt names) is
written so a spreadsheet never runs it: a cell starting with =, +, -, @, a tab or a carriage
return gets a leading apostrophe (OWASP's advice against CSV formula injection).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select

from ztl.city.rules_config import current_rules
from ztl.extensions import db
from ztl.infrastructure.events import record_event
from ztl.infrastructure.unit_of_work import Actor, ServiceError, unit_of_work
from ztl.models import Category, PaymentNotification, PaymentPosition, RefundRequest
from ztl.models.enums import PositionState
from ztl.payments.notice_numbers import AUX_DIGIT
from ztl.values.display import local
from ztl.values.spreadsheet import safe_cell

ACCEPTED = "accepted"  # ztl.applications.payment_receipts: the outcomes a receipt is recorded with
REFUSED = "refused"
ALL = "ALL"  # the grand total's category
DONE = "done"
PENDING = "pending"

CSV_COLUMNS = (
    "record",
    "local_time",
    "notice_number",
    "category",
    "purpose_or_channel",
    "outcome_or_state",
    "payer",
    "amount_cents",
    "fee_cents",
    "stamp_duty_cents",
    "reason",
    "receipt_id",
    "payer_name",
    "paid_time",
    "count",
)


@dataclass(frozen=True)
class PositionRow:
    """A notice issued (a debt position created) that day."""

    notice_number: str
    category_code: str
    purpose: str
    payer_tax_code: str
    payer_name: str
    amount_cents: int
    fee_cents: int
    stamp_duty_cents: int
    state: str
    expires_on: dt.date
    created_at: dt.datetime
    last_error: str | None


@dataclass(frozen=True)
class ReceiptRow:
    """A receipt received that day, with what was done with it."""

    receipt_id: str
    notice_number: str
    category_code: str | None  # None: the receipt named no notice of ours
    channel: str
    outcome: str  # accepted, replay, refused
    reason: str | None  # a code of ztl.labels.RECEIPT_REASON_LABELS; None when accepted
    amount_cents: int
    paid_at: dt.datetime
    received_at: dt.datetime
    payer_tax_code: str | None


@dataclass(frozen=True)
class RefundRow:
    """Money to give back. `refund_id` is for the button's address only, never shown."""

    refund_id: int
    notice_number: str
    category_code: str
    receipt_id: str
    reason: str
    amount_cents: int
    requested_at: dt.datetime
    done_at: dt.datetime | None
    payer_tax_code: str
    payer_name: str

    @property
    def done(self) -> bool:
        return self.done_at is not None


@dataclass(frozen=True)
class CategoryTotal:
    """One category's figures for the day (category ALL: the whole day)."""

    category_code: str
    issued_count: int = 0
    issued_cents: int = 0
    issued_fee_cents: int = 0
    issued_stamp_duty_cents: int = 0
    paid_count: int = 0
    paid_cents: int = 0
    refunded_count: int = 0
    refunded_cents: int = 0


@dataclass(frozen=True)
class CategoryName:
    """A category's names, as the `category_name` filter reads them."""

    code: str
    name_it: str
    name_en: str


@dataclass(frozen=True)
class Ledger:
    day: dt.date
    timezone: str
    starts_at: dt.datetime  # local midnight, in UTC
    ends_at: dt.datetime  # the next local midnight, in UTC (excluded)
    positions: list[PositionRow]
    receipts: list[ReceiptRow]
    refunds: list[RefundRow]
    totals: list[CategoryTotal]  # per category, in the catalogue's order
    grand_total: CategoryTotal
    categories: dict[str, CategoryName]

    @property
    def refused(self) -> list[ReceiptRow]:
        return [r for r in self.receipts if r.outcome == REFUSED]


def day_bounds(day: dt.date, timezone: str | None = None) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants of the local midnight starting `day` and of the next one (excluded)."""
    zone = ZoneInfo(timezone or current_rules().timezone)
    start = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def local_day(at: dt.datetime, timezone: str | None = None) -> dt.date:
    """The accounting day an instant falls in."""
    return local(at, timezone or current_rules().timezone).date()


def receipt_reason(notification: PaymentNotification) -> str | None:
    """The code of a recorded receipt's reason (None for an accepted one)."""
    if notification.outcome == ACCEPTED:
        return None
    return notification.code or "other"


def _notice_of(iuv: str) -> str:
    return AUX_DIGIT + iuv


def _position_row(position: PaymentPosition) -> PositionRow:
    return PositionRow(
        notice_number=position.notice_number,
        category_code=position.category_code,
        purpose=position.purpose,
        payer_tax_code=position.payer_tax_code,
        payer_name=position.payer_name,
        amount_cents=position.amount_cents,
        fee_cents=position.fee_cents,
        stamp_duty_cents=position.stamp_duty_cents,
        state=position.state,
        expires_on=position.expires_on,
        created_at=position.created_at,
        last_error=position.last_error,
    )


def _receipt_row(notification: PaymentNotification, position: PaymentPosition | None) -> ReceiptRow:
    return ReceiptRow(
        receipt_id=notification.receipt_id,
        notice_number=position.notice_number if position else _notice_of(notification.iuv),
        category_code=position.category_code if position else None,
        channel=notification.channel,
        outcome=notification.outcome,
        reason=receipt_reason(notification),
        amount_cents=notification.amount_cents,
        paid_at=notification.paid_at,
        received_at=notification.received_at,
        payer_tax_code=notification.payer_tax_code
        or (position.payer_tax_code if position else None),
    )


def _refund_row(refund: RefundRequest, position: PaymentPosition) -> RefundRow:
    return RefundRow(
        refund_id=refund.id,
        notice_number=position.notice_number,
        category_code=position.category_code,
        receipt_id=refund.receipt_id,
        reason=refund.reason,
        amount_cents=refund.amount_cents,
        requested_at=refund.requested_at,
        done_at=refund.done_at,
        payer_tax_code=position.payer_tax_code,
        payer_name=position.payer_name,
    )


def _receipts_between(start: dt.datetime, end: dt.datetime, *only: str) -> list[ReceiptRow]:
    query = (
        select(PaymentNotification, PaymentPosition)
        .outerjoin(PaymentPosition, PaymentPosition.id == PaymentNotification.position_id)
        .where(PaymentNotification.received_at >= start, PaymentNotification.received_at < end)
        .order_by(PaymentNotification.received_at, PaymentNotification.id)
    )
    if only:
        query = query.where(PaymentNotification.outcome.in_(only))
    return [_receipt_row(n, p) for n, p in db.session.execute(query)]


def refused_receipts(day: dt.date) -> list[ReceiptRow]:
    """The receipts received on the local day that were refused, in the order they came."""
    start, end = day_bounds(day)
    return _receipts_between(start, end, REFUSED)


def day_ledger(day: dt.date) -> Ledger:
    """Everything the accounting office reconciles for one local day, with its totals."""
    timezone = current_rules().timezone
    start, end = day_bounds(day, timezone)
    positions = [
        _position_row(p)
        for p in db.session.scalars(
            select(PaymentPosition)
            .where(PaymentPosition.created_at >= start, PaymentPosition.created_at < end)
            .order_by(PaymentPosition.created_at, PaymentPosition.id)
        )
    ]
    receipts = _receipts_between(start, end)
    refunds = [
        _refund_row(r, p)
        for r, p in db.session.execute(
            select(RefundRequest, PaymentPosition)
            .join(PaymentPosition, PaymentPosition.id == RefundRequest.position_id)
            .where(RefundRequest.requested_at >= start, RefundRequest.requested_at < end)
            .order_by(RefundRequest.requested_at, RefundRequest.id)
        )
    ]
    categories = _category_names()
    totals = _totals(positions, receipts, refunds, list(categories))
    return Ledger(
        day=day,
        timezone=timezone,
        starts_at=start,
        ends_at=end,
        positions=positions,
        receipts=receipts,
        refunds=refunds,
        totals=totals,
        grand_total=_sum(ALL, positions, receipts, refunds),
        categories=categories,
    )


def _category_names() -> dict[str, CategoryName]:
    rows = db.session.execute(
        select(Category.code, Category.name_it, Category.name_en).order_by(Category.id)
    )
    return {code: CategoryName(code, name_it, name_en) for code, name_it, name_en in rows}


def _sum(
    code: str,
    positions: Iterable[PositionRow],
    receipts: Iterable[ReceiptRow],
    refunds: Iterable[RefundRow],
) -> CategoryTotal:
    issued = list(positions)
    paid = [r for r in receipts if r.outcome == ACCEPTED]
    refunded = list(refunds)
    return CategoryTotal(
        category_code=code,
        issued_count=len(issued),
        issued_cents=sum(p.amount_cents for p in issued),
        issued_fee_cents=sum(p.fee_cents for p in issued),
        issued_stamp_duty_cents=sum(p.stamp_duty_cents for p in issued),
        paid_count=len(paid),
        paid_cents=sum(r.amount_cents for r in paid),
        refunded_count=len(refunded),
        refunded_cents=sum(r.amount_cents for r in refunded),
    )


def _totals(
    positions: list[PositionRow],
    receipts: list[ReceiptRow],
    refunds: list[RefundRow],
    catalogue: list[str],
) -> list[CategoryTotal]:
    """One total per category with something that day, in the catalogue's order (a code the
    catalogue no longer has comes after, by its code)."""
    codes = {p.category_code for p in positions} | {r.category_code for r in refunds}
    codes |= {r.category_code for r in receipts if r.outcome == ACCEPTED and r.category_code}
    order = {code: index for index, code in enumerate(catalogue)}
    ordered = sorted(codes, key=lambda c: (order.get(c, len(order)), c))
    return [
        _sum(
            code,
            (p for p in positions if p.category_code == code),
            (r for r in receipts if r.category_code == code),
            (r for r in refunds if r.category_code == code),
        )
        for code in ordered
    ]


def open_refunds() -> list[RefundRow]:
    """Refunds not yet done, whatever the day they were asked for, the oldest first."""
    rows = db.session.execute(
        select(RefundRequest, PaymentPosition)
        .join(PaymentPosition, PaymentPosition.id == RefundRequest.position_id)
        .where(RefundRequest.done_at.is_(None))
        .order_by(RefundRequest.requested_at, RefundRequest.id)
    )
    return [_refund_row(r, p) for r, p in rows]


def refund_row(refund_id: int) -> RefundRow | None:
    """One refund request, done or not (its confirmation page and its button's message)."""
    row = db.session.execute(
        select(RefundRequest, PaymentPosition)
        .join(PaymentPosition, PaymentPosition.id == RefundRequest.position_id)
        .where(RefundRequest.id == refund_id)
    ).first()
    return _refund_row(*row) if row is not None else None


def positions_needing_attention() -> list[PositionRow]:
    """Positions the intermediary has not confirmed (still opening, or cancelled here and not yet
    there) and open ones whose last call to the intermediary failed, the oldest first."""
    positions = db.session.scalars(
        select(PaymentPosition)
        .where(
            or_(
                PaymentPosition.state.in_(
                    (PositionState.OPENING.value, PositionState.CANCELLING.value)
                ),
                (PaymentPosition.state == PositionState.OPEN.value)
                & PaymentPosition.last_error.is_not(None),
            )
        )
        .order_by(PaymentPosition.created_at, PaymentPosition.id)
    )
    return [_position_row(p) for p in positions]


def mark_refund_done(refund_id: int, actor: Actor, now: dt.datetime) -> None:
    """The accounting office gave the money back: the request is done, once. A repeat (a second
    click, a second supervisor) changes nothing and records nothing."""
    with unit_of_work() as session:
        found = session.execute(
            select(RefundRequest).where(RefundRequest.id == refund_id).with_for_update()
        ).scalar_one_or_none()
        if found is None:
            raise ServiceError(f"no refund request {refund_id}", code="not_found")
        if found.done_at is not None:
            return
        position = session.get(PaymentPosition, found.position_id)
        assert position is not None  # the foreign key (ON DELETE RESTRICT) keeps it
        found.done_at = now
        found.done_by_id = actor.user_id
        record_event(
            session,
            actor,
            "payment",
            position.iuv,
            "refund_done",
            reason=found.reason,
            data={"receipt_id": found.receipt_id, "amount_cents": found.amount_cents},
        )


# --- the CSV ---------------------------------------------------------------------------------------


def _instant(value: dt.datetime | None, timezone: str) -> str:
    return local(value, timezone).isoformat(timespec="seconds") if value is not None else ""


def _line(**cells: str | int | None) -> list[str | int]:
    line: list[str | int] = []
    for column in CSV_COLUMNS:
        value = cells.get(column)
        if value is None:
            line.append("")
        elif isinstance(value, int):
            line.append(value)
        else:
            line.append(safe_cell(value))
    return line


def _total_lines(total: CategoryTotal) -> list[list[str | int]]:
    code = total.category_code
    return [
        _line(
            record="total",
            category=code,
            outcome_or_state="issued",
            amount_cents=total.issued_cents,
            fee_cents=total.issued_fee_cents,
            stamp_duty_cents=total.issued_stamp_duty_cents,
            count=total.issued_count,
        ),
        _line(
            record="total",
            category=code,
            outcome_or_state="paid",
            amount_cents=total.paid_cents,
            count=total.paid_count,
        ),
        _line(
            record="total",
            category=code,
            outcome_or_state="refunded",
            amount_cents=total.refunded_cents,
            count=total.refunded_count,
        ),
    ]


def ledger_csv(ledger: Ledger) -> str:
    """The day's ledger as one CSV (the module's docstring says what each column holds)."""
    tz = ledger.timezone
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for p in ledger.positions:
        writer.writerow(
            _line(
                record="position",
                local_time=_instant(p.created_at, tz),
                notice_number=p.notice_number,
                category=p.category_code,
                purpose_or_channel=p.purpose,
                outcome_or_state=p.state,
                payer=p.payer_tax_code,
                amount_cents=p.amount_cents,
                fee_cents=p.fee_cents,
                stamp_duty_cents=p.stamp_duty_cents,
                payer_name=p.payer_name,
                count=1,
            )
        )
    for r in ledger.receipts:
        writer.writerow(
            _line(
                record="receipt",
                local_time=_instant(r.received_at, tz),
                notice_number=r.notice_number,
                category=r.category_code,
                purpose_or_channel=r.channel,
                outcome_or_state=r.outcome,
                payer=r.payer_tax_code,
                amount_cents=r.amount_cents,
                reason=r.reason,
                receipt_id=r.receipt_id,
                paid_time=_instant(r.paid_at, tz),
                count=1,
            )
        )
    for f in ledger.refunds:
        writer.writerow(
            _line(
                record="refund",
                local_time=_instant(f.requested_at, tz),
                notice_number=f.notice_number,
                category=f.category_code,
                outcome_or_state=DONE if f.done else PENDING,
                payer=f.payer_tax_code,
                amount_cents=f.amount_cents,
                reason=f.reason,
                receipt_id=f.receipt_id,
                payer_name=f.payer_name,
                count=1,
            )
        )
    for total in [*ledger.totals, ledger.grand_total]:
        writer.writerows(_total_lines(total))
    return out.getvalue()
