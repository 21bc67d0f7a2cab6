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
    PAGOPA_SETTINGS,
    SEGREGATION_CODE,
    SETTING,
    TIMEOUT,
    LocalProvider,
    PaymentProvider,
)

CACHE_KEY = "ztl_payment_provider"


def payment_provider() -> PaymentProvider:
    """The configured provider: ZTL_PAYMENT_PROVIDER names one, or tests set an object.

    The intermediary's client is made once per process and settings, so its HTTP connections
    are kept and reused from one request to the next.
    """
    configured = current_app.config.get(SETTING) or DEMO
    if configured in (DEMO, NOTIFIED):
        return LocalProvider(configured)
    if configured == PAGOPA:
        key = (
            tuple(str(current_app.config.get(name)) for name in (*PAGOPA_SETTINGS, TIMEOUT)),
            id(current_app.config.get("ZTL_PAGOPA_SESSION")),
        )
        cached = current_app.extensions.get(CACHE_KEY)
        if cached is None or cached[0] != key:
            cached = (key, GovPayProvider.from_settings(current_app.config))
            current_app.extensions[CACHE_KEY] = cached
        return cast(PaymentProvider, cached[1])
    return cast(PaymentProvider, configured)


def payer_word_confirms() -> bool:
    """Whether the payer's own "I have paid" is taken (the development stand-in only)."""
    configured = current_app.config.get(SETTING) or DEMO
    if isinstance(configured, str):
        return configured == DEMO
    return bool(payment_provider().confirms_on_payer_word)


def provider_name() -> str:
    configured = current_app.config.get(SETTING) or DEMO
    return configured if isinstance(configured, str) else payment_provider().name


def segregation_code() -> str:
    """The station's segregation code; "00" for the local providers, whose numbers go nowhere."""
    if current_app.config.get(SETTING) == PAGOPA:
        return str(current_app.config[SEGREGATION_CODE])
    return str(current_app.config.get(SEGREGATION_CODE) or "00")
