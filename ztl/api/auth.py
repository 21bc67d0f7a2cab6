"""Bearer-token authentication for machine clients, and the API's error shape."""

from __future__ import annotations

import math
from typing import Any

from flask import g, jsonify, request
from werkzeug.wrappers import Response

from ztl.accounts.api_tokens import TokenIdentity, authenticate_token
from ztl.api.rate_limit import retry_after
from ztl.errors import Coded, error_status, error_text


def api_error(error: str | Coded, /, **params: Any) -> tuple[Response, int]:
    """The one error shape of the API: {"error": code, "message": text}. The text (in the
    request's language: Italian unless Accept-Language asks for English) and the status are the
    error catalogue's (ztl.errors); `detail` fills the messages that say what exactly is wrong."""
    code = error if isinstance(error, str) else error.code
    status = error_status(code)
    response = jsonify({"error": code, "message": error_text(error, **params)})
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="ztl"'
    return response, status


def bearer_token() -> TokenIdentity | None:
    """The token named by the Authorization header, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return authenticate_token(value.strip())


def require_token(roles: frozenset[str]) -> tuple[Response, int] | None:
    """Run before each API view: 401 without a valid token, 403 with a token of another role."""
    token = bearer_token()
    if token is None:
        return api_error("unauthorized")
    if token.role not in roles:
        return api_error("forbidden")
    wait = retry_after(token.token_hash)
    if wait is not None:
        response, status = api_error("rate_limited")
        response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return response, status
    g.api_token = token
    return None
