"""Payments through a provider adapter; the built-in one issues pagoPA-style notices.

Why an adapter: a municipality pays through pagoPA via its own partner (an intermediary with its own
API), so the application only needs two things from a provider: a notice for an amount (the IUV that
identifies the debt, which the payer uses at any bank, post office or app) and, later, the news that
the notice was paid. The built-in provider records the notice and lets the payer (or a clerk, for
payments at the counter) confirm it: enough for a demo and for municipalities that reconcile by hand.

A confirmation is idempotent: the same notice confirmed twice (a retried request, a double click, a
provider that calls back twice) is paid once and issues at most one permit.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Protocol

from flask import current_app


@dataclass(frozen=True)
class PaymentNotice:
    """What the payer needs: the IUV (creditor reference), the 18-digit notice code, the amount."""

    iuv: str
    notice_code: str
    amount_cents: int


class PaymentProvider(Protocol):
    def create_notice(self, amount_cents: int, description: str) -> PaymentNotice: ...

    def is_paid(self, iuv: str) -> bool: ...


def _check_digits(digits: str) -> str:
    """Two check digits, the remainder modulo 93 as in pagoPA's notice codes (aux digit 3)."""
    return f"{int('3' + digits) % 93:02d}"


def iuv_is_well_formed(iuv: str) -> bool:
    """17 digits whose last two are the check digits of the first 15."""
    return len(iuv) == 17 and iuv.isdigit() and iuv[15:] == _check_digits(iuv[:15])


class BuiltinProvider:
    """Records notices only; payment is confirmed by the payer's "I have paid" or at the counter."""

    def create_notice(self, amount_cents: int, description: str) -> PaymentNotice:
        body = "".join(str(secrets.randbelow(10)) for _ in range(15))
        iuv = body + _check_digits(body)
        return PaymentNotice(iuv=iuv, notice_code="3" + iuv, amount_cents=amount_cents)

    def is_paid(self, iuv: str) -> bool:
        return iuv_is_well_formed(iuv)


def payment_provider() -> PaymentProvider:
    """The configured provider (ZTL_PAYMENT_PROVIDER in the app config; default the built-in one)."""
    provider = current_app.config.get("ZTL_PAYMENT_PROVIDER")
    if provider is None:
        return BuiltinProvider()
    return provider
