"""The provider this installation uses, from its settings (ZTL_PAYMENT_PROVIDER).

Why apart from ztl.payments.providers: the choice knows every provider, the GovPay client
included, while the providers' interface knows none of them.
"""

from __future__ import annotations

from typing import cast

from flask import current_app

from ztl.payments.govpay import GovPayProvider
from ztl.payments.providers import (
    DEMO,
    NOTIFIED,
    PAGOPA,
    SEGREGATION_CODE,
    SETTING,
    LocalProvider,
    PaymentProvider,
)


def payment_provider() -> PaymentProvider:
    """The configured provider: ZTL_PAYMENT_PROVIDER names one, or tests set an object."""
    configured = current_app.config.get(SETTING) or DEMO
    if configured in (DEMO, NOTIFIED):
        return LocalProvider(configured)
    if configured == PAGOPA:
        return GovPayProvider.from_settings(current_app.config)
    return cast(PaymentProvider, configured)


def provider_name() -> str:
    configured = current_app.config.get(SETTING) or DEMO
    return configured if isinstance(configured, str) else payment_provider().name


def segregation_code() -> str:
    """The station's segregation code; "00" for the local providers, whose numbers go nowhere."""
    if current_app.config.get(SETTING) == PAGOPA:
        return str(current_app.config[SEGREGATION_CODE])
    return str(current_app.config.get(SEGREGATION_CODE) or "00")
