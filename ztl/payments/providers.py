"""Payment providers: who issues a notice for an amount, and who may say it was paid.

Why an adapter: a municipality is paid through pagoPA via its own partner (an intermediary with its
own API), so the application needs two things from a provider: a notice for an amount (the IUV that
identifies the debt, which the payer uses at any bank, post office or app) and, later, the news that
the notice was paid. Two providers ship:

- `demo`, the development stand-in: it records notices and takes the payer's "I have paid" as the
  payment. Enough to try the journey on `make run`; never a payment. With `ZTL_ENV=production` the
  application refuses to start with it (`check_payment_settings`).
- `notified`, the production one: the notice is paid only when the payment system's notification
  arrives, signed with the secret shared with it (`ztl.applications.payment_receipts`, endpoint
  `POST /api/v1/payments/notifications`). The payer's click changes nothing. The pagoPA
  intermediary's own adapter (a later step) plugs in behind the same two calls.

A confirmation is idempotent: the same notice confirmed twice (a retried request, a double click, a
notification delivered twice) is paid once and issues at most one permit.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, cast

from flask import current_app

DEMO = "demo"
NOTIFIED = "notified"
PROVIDERS = (DEMO, NOTIFIED)
SETTING = "ZTL_PAYMENT_PROVIDER"
SECRET_SETTING = "ZTL_PAYMENT_NOTIFICATION_SECRET"  # noqa: S105 (a setting name)
MIN_SECRET_LENGTH = 32


@dataclass(frozen=True)
class PaymentNotice:
    """What the payer needs: the IUV (creditor reference) and the amount."""

    iuv: str
    amount_cents: int


class PaymentProvider(Protocol):
    # True only for the development stand-in: the payer's own "I have paid" confirms the payment.
    confirms_on_payer_word: bool

    def create_notice(self, amount_cents: int, description: str) -> PaymentNotice: ...


def _check_digits(digits: str) -> str:
    """Two check digits, the remainder modulo 93 as in pagoPA's notice codes (aux digit 3)."""
    return f"{int('3' + digits) % 93:02d}"


def iuv_is_well_formed(iuv: str) -> bool:
    """17 digits whose last two are the check digits of the first 15."""
    return len(iuv) == 17 and iuv.isdigit() and iuv[15:] == _check_digits(iuv[:15])


def new_notice(amount_cents: int) -> PaymentNotice:
    body = "".join(str(secrets.randbelow(10)) for _ in range(15))
    iuv = body + _check_digits(body)
    return PaymentNotice(iuv=iuv, amount_cents=amount_cents)


class DemoProvider:
    """Development stand-in: notices only; the payer's "I have paid" is taken as the payment."""

    confirms_on_payer_word = True

    def create_notice(self, amount_cents: int, description: str) -> PaymentNotice:
        return new_notice(amount_cents)


class NotifiedProvider:
    """Notices whose payment is known only from the payment system's signed notification."""

    confirms_on_payer_word = False

    def create_notice(self, amount_cents: int, description: str) -> PaymentNotice:
        return new_notice(amount_cents)


def payment_provider() -> PaymentProvider:
    """The configured provider: ZTL_PAYMENT_PROVIDER names one, or tests set an object."""
    configured = current_app.config.get(SETTING) or DEMO
    if configured == DEMO:
        return DemoProvider()
    if configured == NOTIFIED:
        return NotifiedProvider()
    return cast(PaymentProvider, configured)


def check_payment_settings(settings: Mapping[str, Any]) -> list[str]:
    """What stops the application from starting: problems a person can fix, each naming its setting.

    Production never runs the stand-in: a payment confirmed on the payer's word is no payment.
    """
    problems: list[str] = []
    provider = settings.get(SETTING)
    production = settings.get("ZTL_ENV") == "production"
    if isinstance(provider, str) and provider not in PROVIDERS:
        problems.append(f"{SETTING} must be one of {', '.join(PROVIDERS)}, got {provider!r}")
        return problems
    if production and provider == DEMO:
        problems.append(
            f"{SETTING}={DEMO} confirms a payment on the payer's word and is refused in "
            f"production: set {SETTING}={NOTIFIED} (payments confirmed by the payment system's "
            f"signed notifications) and {SECRET_SETTING}"
        )
    if provider == NOTIFIED:
        secret = settings.get(SECRET_SETTING) or ""
        if len(secret) < MIN_SECRET_LENGTH:
            problems.append(
                f"{SECRET_SETTING} must be set to the secret shared with the payment system, "
                f"at least {MIN_SECRET_LENGTH} characters, when {SETTING}={NOTIFIED}"
            )
    return problems
