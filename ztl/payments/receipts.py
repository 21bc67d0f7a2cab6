"""A receipt: what the payment system says was paid, however it reached us.

Why its own module in the payments domain: the intermediary's notification, the daily
reconciliation and the generic signed notification all produce one, and the one place that
decides what a receipt does (ztl.applications.payment_receipts) takes it whatever its channel.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# How a receipt reached us (kept with it, for the accounting office).
NOTIFICATION = "notification"  # the pagoPA intermediary called us
RECONCILIATION = "reconciliation"  # the daily job asked the intermediary and found it
SIGNED = "signed"  # the generic signed notification (ZTL_PAYMENT_PROVIDER=notified)


@dataclass(frozen=True)
class Receipt:
    """One payment of one notice. `payer_tax_code` is the debtor the receipt names (None when the
    channel does not say); `receipt_id` is unique per payment at the payment system."""

    receipt_id: str
    iuv: str
    amount_cents: int
    paid_at: dt.datetime
    payer_tax_code: str | None = None
    channel: str = SIGNED
