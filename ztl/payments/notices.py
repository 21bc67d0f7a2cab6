"""What the payer sees of a position: its state in a few facts, and the printed pagoPA notice.

Why here and not in the pages: the same facts go on the application page, the booklet page and the
PDF, and each line of the notice (the fee, each stamp duty) is said once, in the payer's terms.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ztl.city.rules_config import current_rules
from ztl.models import PaymentPosition
from ztl.models.enums import PositionState
from ztl.payments.positions import (
    checkout_url,
    creditor_fiscal_code,
    open_position,
    qr_text,
    worth_retrying,
)
from ztl.pdf.payment_notice import NoticeLine, PaymentNoticeDocument, render_payment_notice


@dataclass(frozen=True)
class NoticeFacts:
    """A position as the payer's page shows it."""

    notice_number: str
    creditor_fiscal_code: str
    amount_cents: int
    expires_on: dt.date
    state: str  # opening (being prepared), open, paid, cancelling/cancelled, expired
    paid_at: dt.datetime | None
    checkout_url: str | None  # "Paga online", while payable

    @property
    def payable(self) -> bool:
        return self.state == PositionState.OPEN.value

    @property
    def preparing(self) -> bool:
        return self.state == PositionState.OPENING.value


def notice_facts(position: PaymentPosition) -> NoticeFacts:
    """The facts of a position; one still being prepared is opened again first (the intermediary
    may have been down at submission), so the payer rarely waits for the daily job. Opening
    commits, which expires the row: what follows reads its new state from the database."""
    if position.state == PositionState.OPENING.value and worth_retrying(
        position, dt.datetime.now(dt.UTC)
    ):
        open_position(position.id)
    return NoticeFacts(
        notice_number=position.notice_number,
        creditor_fiscal_code=creditor_fiscal_code(),
        amount_cents=position.amount_cents,
        expires_on=position.expires_on,
        state=position.state,
        paid_at=position.paid_at,
        checkout_url=checkout_url(position),
    )


def notice_lines(position: PaymentPosition) -> tuple[NoticeLine, ...]:
    """The fee, then each stamp duty on its own line (the application's, the permit's)."""
    lines = []
    if position.fee_cents:
        label = "Carnet registrazioni ospiti" if position.purpose == "booklet" else "Tariffa"
        lines.append(
            NoticeLine(f"{label} (permesso ZTL {position.category_code})", position.fee_cents)
        )
    each = current_rules().stamp_duty_cents
    if position.stamp_duty_cents:
        if each and position.stamp_duty_cents == 2 * each:
            lines.append(NoticeLine("Imposta di bollo sulla domanda", each))
            lines.append(NoticeLine("Imposta di bollo sul permesso", each))
        else:
            lines.append(NoticeLine("Imposta di bollo", position.stamp_duty_cents))
    return tuple(lines)


def notice_pdf(position: PaymentPosition) -> bytes:
    """The printed pagoPA notice of a position that can be paid."""
    rules = current_rules()
    office = rules.office
    return render_payment_notice(
        PaymentNoticeDocument(
            creditor_name=rules.name,
            creditor_fiscal_code=creditor_fiscal_code(),
            creditor_address=office.address if office else None,
            payer_name=position.payer_name,
            payer_tax_code=position.payer_tax_code,
            reason=position.reason,
            lines=notice_lines(position),
            amount_cents=position.amount_cents,
            expires_on=position.expires_on,
            notice_number=position.notice_number,
            qr_text=qr_text(position),
            checkout_url=checkout_url(position),
        )
    )
