"""POST /api/v1/seals/verify: a police device or gate sends a scanned seal, the server verifies it.

Machine clients only (bearer token, roles police and gate), like the rest of the enforcement API.
The answer names the first failed step; bad input (no seal, a time without an offset, a malformed
plate) is a 400 with a message, never a guess.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from werkzeug.wrappers import Response

from ztl.api.auth import api_error, require_token
from ztl.enforcement.authorizations import require_in_range
from ztl.models.enums import TokenRole
from ztl.seals.verification import seal_result_json, verify_on_server
from ztl.signing.keys import KeyStoreError
from ztl.signing.seal import MAX_TEXT
from ztl.values import InvalidValue
from ztl.values.plates import normalise_plate
from ztl.values.times import parse_instant

bp = Blueprint("api_seals", __name__, url_prefix="/api/v1/seals")
MACHINE_ROLES = frozenset(r.value for r in TokenRole)


@bp.before_request
def _authenticate() -> tuple[Response, int] | None:
    return require_token(MACHINE_ROLES)


def _optional_text(body: dict[str, Any], key: str, limit: int = 40) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidValue(f"'{key}' must be text of at most {limit} characters")
    return value


@bp.post("/verify")
def verify() -> tuple[Response, int] | Response:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return api_error("bad_request", detail="the body must be a JSON object with a 'seal'")
    seal = body.get("seal")
    if not isinstance(seal, str) or not seal.strip():
        return api_error("bad_request", detail="'seal' is required: the text of the QR code")
    if len(seal) > MAX_TEXT:
        return api_error("bad_request", detail=f"'seal' is longer than {MAX_TEXT} characters")
    try:
        raw_at = _optional_text(body, "at")
        at = parse_instant(raw_at) if raw_at else None
        if at is not None:
            require_in_range(at)  # year 9999 would overflow the clock tolerance: a 400, not a 500
        raw_plate = _optional_text(body, "plate")
        plate = normalise_plate(raw_plate) if raw_plate else None
        zone = _optional_text(body, "zone", limit=10)
    except InvalidValue as exc:
        return api_error("bad_request", detail=str(exc))
    try:
        result = verify_on_server(seal, at, zone.upper() if zone else None, plate)
    except KeyStoreError:
        return api_error("keys_missing")
    return jsonify(seal_result_json(result))
