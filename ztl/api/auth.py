"""Who may call an API operation: the kinds of access an operation declares, and the error shape.

Every operation names its access in its declaration (ztl.api.operations.operation), and one guard,
`ztl.api.operations.guard`, runs before every API view and asks that access whether to refuse. So
there is one place where a bearer token is read and its role checked, and an operation cannot be
added without saying who may call it. The kinds:

- `Tokens(roles)`: machines (gates, police devices) with a bearer token of one of the roles, each
  token limited per minute (TOKEN_RATE);
- `Session(roles)`: a signed-in person of one of the roles, with the form's CSRF token in the
  X-CSRFToken header (the portal's pages call the API; a bearer token does not open these);
- `PaymentSignature()`: the payment system, which signs each delivery with the shared secret;
- `IntermediaryBasic()`: the pagoPA intermediary, with HTTP Basic over TLS;
- `PUBLIC`: anyone (the OpenAPI document, the published lists).

Each kind also says how the OpenAPI document describes it: its security requirement, the header
it needs, and the refusals it may answer with.
"""

from __future__ import annotations

import datetime as dt
import hmac
import math
from dataclasses import dataclass, field
from typing import Any, Protocol

from flask import current_app, g, jsonify, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from typing_extensions import TypedDict
from werkzeug.wrappers import Response

from ztl.accounts.api_tokens import TokenIdentity, authenticate_token
from ztl.api.fields import closed
from ztl.api.rate_limit import TOKEN_RATE, RateLimit
from ztl.applications.payment_receipts import SIGNATURE_HEADER, BadSignature, verify_signature
from ztl.errors import Coded, error_status, error_text
from ztl.extensions import csrf
from ztl.models.enums import TokenRole
from ztl.payments.providers import (
    NOTIFICATION_PASSWORD,
    NOTIFICATION_USER,
    NOTIFIED,
    SECRET_SETTING,
    SETTING,
)
from ztl.permissions import has_role

Refusal = tuple[Response, int]
Security = list[dict[str, list[str]]]


@closed
class Error(TypedDict):
    """Every refusal of the API (`api_error`)."""

    error: str
    message: str


def api_error(error: str | Coded, /, **params: Any) -> Refusal:
    """The one error shape of the API: {"error": code, "message": text}. The text (in the
    request's language: Italian unless Accept-Language asks for English) and the status are the
    error catalogue's (ztl.errors); `detail` fills the messages that say what exactly is wrong."""
    code = error if isinstance(error, str) else error.code
    status = error_status(code)
    response = jsonify({"error": code, "message": error_text(error, **params)})
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="ztl"'
    return response, status


def rate_limited(wait: float) -> Refusal:
    """429, with the whole seconds to wait in Retry-After (at least 1)."""
    response, status = api_error("rate_limited")
    response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
    return response, status


def bearer_token() -> TokenIdentity | None:
    """The token named by the Authorization header, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return authenticate_token(value.strip())


class Access(Protocol):
    """What an operation declares about its callers."""

    @property
    def security(self) -> Security:
        """The OpenAPI security requirement (an empty list: public)."""

    @property
    def refusals(self) -> tuple[int, ...]:
        """The statuses `refuse` may answer with, for the document."""

    @property
    def headers(self) -> tuple[str, ...]:
        """Request headers the access needs besides its credential, for the document."""

    def refuse(self) -> Refusal | None:
        """Run before the view: None lets the request through, anything else is the answer."""


@dataclass(frozen=True)
class Tokens:
    """A bearer token of one of `roles`: 401 without a valid one, 403 for another role, 429 past
    the token's limit. The token is left in `g.api_token` for the view."""

    roles: frozenset[str]
    limit: RateLimit = TOKEN_RATE
    security: Security = field(default_factory=lambda: [{"bearer": []}])
    refusals: tuple[int, ...] = (401, 403, 429)
    headers: tuple[str, ...] = ()

    def refuse(self) -> Refusal | None:
        token = bearer_token()
        if token is None:
            return api_error("unauthorized")
        if token.role not in self.roles:
            return api_error("forbidden")
        wait = self.limit.wait(token.token_hash)
        if wait is not None:
            return rate_limited(wait)
        g.api_token = token
        return None


@dataclass(frozen=True)
class Session:
    """A signed-in person of one of `roles`, and the CSRF token: 401 for nobody signed in, 403 for
    another role, 400 (code csrf) without a valid X-CSRFToken header."""

    roles: frozenset[str]
    security: Security = field(default_factory=lambda: [{"session": []}])
    refusals: tuple[int, ...] = (400, 401, 403)
    headers: tuple[str, ...] = ("X-CSRFToken",)

    def refuse(self) -> Refusal | None:
        if not current_user.is_authenticated:
            return api_error("unauthorized")
        if not has_role(current_user, self.roles):
            return api_error("forbidden")
        try:
            csrf.protect()
        except CSRFError:
            return api_error("csrf")
        return None


@dataclass(frozen=True)
class PaymentSignature:
    """The payment system's HMAC of the body (ztl.applications.payment_receipts), not a token, so
    neither a stolen token nor a replayed body pays anything: 404 while the payment provider is not
    the notified one (nothing notifies the demo provider), 400 for a body over `max_body` bytes,
    401 (code bad_signature) when the signature is missing, stale or wrong."""

    max_body: int
    security: Security = field(default_factory=lambda: [{"paymentSignature": []}])
    refusals: tuple[int, ...] = (400, 401, 404)
    headers: tuple[str, ...] = ()

    def refuse(self) -> Refusal | None:
        if current_app.config.get(SETTING) != NOTIFIED:
            return api_error("not_found")
        body = request.get_data()
        if len(body) > self.max_body:
            return api_error("bad_request", detail=f"the body has more than {self.max_body} bytes")
        now = dt.datetime.now(dt.UTC)
        try:
            verify_signature(
                current_app.config[SECRET_SETTING], request.headers.get(SIGNATURE_HEADER), body, now
            )
        except BadSignature as exc:
            return api_error("bad_signature", detail=str(exc))
        return None


@dataclass(frozen=True)
class IntermediaryBasic:
    """The pagoPA intermediary calling us, as GovPay's connectors do: HTTP Basic with the
    credentials set in ZTL_PAGOPA_NOTIFICATION_USER / _PASSWORD, over TLS in production (the
    password crosses the line). 404 while those are not set (no intermediary), 400 for a body over
    `max_body` bytes, 403 (code tls_required) over plain HTTP in production, 401 (code
    unauthorized) without the right credentials."""

    max_body: int
    security: Security = field(default_factory=lambda: [{"intermediaryBasic": []}])
    refusals: tuple[int, ...] = (400, 401, 403, 404)
    headers: tuple[str, ...] = ()

    def refuse(self) -> Refusal | None:
        user = str(current_app.config.get(NOTIFICATION_USER) or "")
        password = str(current_app.config.get(NOTIFICATION_PASSWORD) or "")
        if not user or not password:  # no intermediary set up: nobody can be let in
            return api_error("not_found")
        if current_app.config.get("ZTL_ENV") == "production" and not request.is_secure:
            return api_error("tls_required")
        if len(request.get_data()) > self.max_body:
            return api_error("bad_request", detail=f"the body has more than {self.max_body} bytes")
        given = request.authorization
        if (
            given is None
            or given.type != "basic"
            or not hmac.compare_digest((given.username or "").encode(), user.encode())
            or not hmac.compare_digest((given.password or "").encode(), password.encode())
        ):
            response, status = api_error("unauthorized")
            response.headers["WWW-Authenticate"] = 'Basic realm="ztl-payments"'
            return response, status
        return None


@dataclass(frozen=True)
class Public:
    """Anyone: the answer holds nothing about any plate, permit or person."""

    security: Security = field(default_factory=list)
    refusals: tuple[int, ...] = ()
    headers: tuple[str, ...] = ()

    def refuse(self) -> Refusal | None:
        return None


PUBLIC = Public()
# Gates and police devices: every token role may call the enforcement and verification API.
MACHINES = Tokens(frozenset(role.value for role in TokenRole))
