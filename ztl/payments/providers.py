"""Payment providers: who keeps the debt positions, and who may say a notice was paid.

Why an adapter: a municipality is paid through pagoPA via its technological partner (an
intermediary with its own API), so the application needs from a provider: a debt position opened
for a notice number, cancelled when the application is withdrawn, and read back when the daily job
reconciles; and, later, the news that it was paid. Three providers ship:

- `pagopa`, the production one: positions live at the intermediary, spoken to with GovPay's
  "API Pendenze" (ztl.payments.govpay); a notice is paid only when the intermediary notifies the
  receipt (`POST /api/v1/pagopa/pagamenti/<creditor>/<iuv>`) or the daily reconciliation finds it.
- `notified`: positions kept here only, paid when a payment system posts a notification signed with
  the shared secret (`POST /api/v1/payments/notifications`), for a municipality whose payment
  system pushes signed receipts and learns the notices some other way.
- `demo`, the development stand-in: it records notices and takes the payer's "I have paid" as the
  payment. Enough to try the journey on `make run`; never a payment. With `ZTL_ENV=production` the
  application refuses to start with it (`check_payment_settings`).

Every call to a provider is idempotent: opening the same position twice finds it, cancelling a
cancelled one is done, so a retry after a lost answer changes nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ztl.payments.receipts import Receipt

DEMO = "demo"
NOTIFIED = "notified"
PAGOPA = "pagopa"
PROVIDERS = (DEMO, NOTIFIED, PAGOPA)
SETTING = "ZTL_PAYMENT_PROVIDER"
SECRET_SETTING = "ZTL_PAYMENT_NOTIFICATION_SECRET"  # noqa: S105 (a setting name)
MIN_SECRET_LENGTH = 32

# The pagoPA intermediary (docs/payments.md lists them with examples).
URL = "ZTL_PAGOPA_URL"
USER = "ZTL_PAGOPA_USER"
PASSWORD = "ZTL_PAGOPA_PASSWORD"  # noqa: S105 (a setting name)
A2A = "ZTL_PAGOPA_A2A"
SEGREGATION_CODE = "ZTL_PAGOPA_SEGREGATION_CODE"
STATION = "ZTL_PAGOPA_STATION"
FEE_ENTRY = "ZTL_PAGOPA_FEE_ENTRY"
CHECKOUT_URL = "ZTL_PAGOPA_CHECKOUT_URL"
NOTIFICATION_USER = "ZTL_PAGOPA_NOTIFICATION_USER"
NOTIFICATION_PASSWORD = "ZTL_PAGOPA_NOTIFICATION_PASSWORD"  # noqa: S105 (a setting name)
TIMEOUT = "ZTL_PAGOPA_TIMEOUT"
PAGOPA_SETTINGS = (
    URL,
    USER,
    PASSWORD,
    A2A,
    SEGREGATION_CODE,
    STATION,
    FEE_ENTRY,
    CHECKOUT_URL,
    NOTIFICATION_USER,
    NOTIFICATION_PASSWORD,
)
_STATION = re.compile(r"[0-9]{11}_[0-9]{2}")
_A2A = re.compile(r"[A-Za-z0-9_.-]{1,35}")


class IntermediaryUnavailable(Exception):
    """The intermediary did not answer, or answered that it cannot now: try again later."""


class IntermediaryRefused(Exception):
    """The intermediary refused the request as it is: retrying the same request will not help."""


class PositionAlreadyPaid(Exception):
    """A cancellation came too late: the intermediary has the position paid."""


@dataclass(frozen=True)
class PositionRequest:
    """What the intermediary is told about a position (ztl.payments.positions builds it)."""

    remote_id: str
    iuv: str
    notice_number: str
    creditor_fiscal_code: str
    payer_kind: str  # F or G
    payer_tax_code: str
    payer_name: str
    reason: str
    fee_cents: int
    stamp_duty_cents: tuple[int, ...]  # one digital stamp per document (application, permit)
    stamp_hashes: tuple[str, ...]  # base64 SHA-256 of each stamped document
    stamp_province: str
    amount_cents: int
    expires_on: dt.date


@dataclass(frozen=True)
class RemoteState:
    """A position as the intermediary has it, for the daily reconciliation."""

    state: str  # open, paid, cancelled, expired, unknown
    receipts: tuple[Receipt, ...] = ()


class PaymentProvider(Protocol):
    name: str
    # True only for the development stand-in: the payer's own "I have paid" confirms the payment.
    confirms_on_payer_word: bool

    def open_position(self, request: PositionRequest) -> None: ...

    def cancel_position(self, remote_id: str, reason: str) -> None: ...

    def read_position(self, remote_id: str) -> RemoteState | None: ...

    def checkout_url(self, notice_number: str, creditor: str) -> str | None: ...


class LocalProvider:
    """Positions kept here only (`demo` and `notified`): nothing to tell, nothing to read back."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.confirms_on_payer_word = name == DEMO

    def open_position(self, request: PositionRequest) -> None:
        return None

    def cancel_position(self, remote_id: str, reason: str) -> None:
        return None

    def read_position(self, remote_id: str) -> RemoteState | None:
        return None  # the payment system pushes its receipts; there is nothing to ask

    def checkout_url(self, notice_number: str, creditor: str) -> str | None:
        return None


def check_payment_settings(settings: Mapping[str, Any]) -> list[str]:
    """What stops the application from starting: problems a person can fix, each naming its setting.

    Production never runs the stand-in: a payment confirmed on the payer's word is no payment. And
    it talks to the intermediary over TLS only: credentials and personal data cross that line.
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
            f"production: set {SETTING}={PAGOPA} (the pagoPA intermediary, docs/payments.md) or "
            f"{SETTING}={NOTIFIED} with {SECRET_SETTING}"
        )
    if provider == NOTIFIED:
        secret = settings.get(SECRET_SETTING) or ""
        if len(secret) < MIN_SECRET_LENGTH:
            problems.append(
                f"{SECRET_SETTING} must be set to the secret shared with the payment system, "
                f"at least {MIN_SECRET_LENGTH} characters, when {SETTING}={NOTIFIED}"
            )
    if provider == PAGOPA:
        problems.extend(_pagopa_problems(settings, production))
    return problems


def check_payment_rules(settings: Mapping[str, Any], payments: object | None) -> list[str]:
    """With the pagoPA provider the rules file must say who the creditor is (`[payments]`): a
    notice without the municipality's fiscal code is one no bank would take."""
    if settings.get(SETTING) == PAGOPA and payments is None:
        return [
            f"{SETTING}={PAGOPA} needs the rules file's [payments] table (creditor_fiscal_code, "
            "notice_days, refund_on, stamp_duty_province): see docs/rules-file.md"
        ]
    return []


def _pagopa_problems(settings: Mapping[str, Any], production: bool) -> list[str]:
    problems = [
        f"{name} must be set when {SETTING}={PAGOPA}"
        for name in PAGOPA_SETTINGS
        if not str(settings.get(name) or "").strip()
    ]
    if problems:
        return problems
    for name in (URL, CHECKOUT_URL):
        value = str(settings[name])
        if not value.startswith(("https://", "http://")):
            problems.append(f"{name} must be an http(s) address, got {value!r}")
        elif production and not value.startswith("https://"):
            problems.append(f"{name} must be an https:// address in production, got {value!r}")
    code = str(settings[SEGREGATION_CODE])
    if not (len(code) == 2 and code.isdigit()):
        problems.append(
            f"{SEGREGATION_CODE} must be the two digits the intermediary gave, got {code!r}"
        )
    if not _STATION.fullmatch(str(settings[STATION])):
        problems.append(
            f"{STATION} must be the station's id, <intermediary's fiscal code>_<2 digits>, "
            f"got {settings[STATION]!r}"
        )
    if not _A2A.fullmatch(str(settings[A2A])):
        problems.append(f"{A2A} must be 1 to 35 letters, digits, '.', '_' or '-'")
    template = str(settings[CHECKOUT_URL])
    if "{notice_number}" not in template:
        problems.append(
            f"{CHECKOUT_URL} must contain {{notice_number}} (and may contain {{creditor}})"
        )
    if production and len(str(settings[NOTIFICATION_PASSWORD])) < MIN_SECRET_LENGTH:
        problems.append(
            f"{NOTIFICATION_PASSWORD} must be at least {MIN_SECRET_LENGTH} characters in production"
        )
    return problems
