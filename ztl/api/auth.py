"""Bearer-token authentication for machine clients, and the API's error shape."""

from __future__ import annotations

import math

from flask import g, jsonify, request
from werkzeug.wrappers import Response

from ztl.api.rate_limit import retry_after
from ztl.services.tokens import TokenIdentity, authenticate_token


def api_error(status: int, code: str, message: str) -> tuple[Response, int]:
    """The one error shape of the API: {"error": code, "message": text}."""
    response = jsonify({"error": code, "message": message})
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
        return api_error(401, "unauthorized", "A valid bearer token is required.")
    if token.role not in roles:
        return api_error(403, "forbidden", "This token's role may not use this endpoint.")
    wait = retry_after(token.token_hash)
    if wait is not None:
        response, status = api_error(429, "rate_limited", "Too many requests for this token.")
        response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return response, status
    g.api_token = token
    return None
