"""POST /api/v1/eligibility: the verdict with every check, for a signed-in person.

A resident asks for themself, a clerk or supervisor for anyone. The caller is a browser session, so
the request must carry the CSRF token (X-CSRFToken header), like every form.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response

from ztl.api.auth import api_error
from ztl.eligibility.applicant_view import result_for_applicant
from ztl.eligibility.service import (
    EligibilityInputError,
    EligibilityRequest,
    PlateInput,
    check_eligibility,
    record_question,
)
from ztl.extensions import csrf
from ztl.models import utcnow
from ztl.permissions import CLERKS, RESIDENTS, has_role
from ztl.rate_limit import SlidingWindow
from ztl.values import InvalidValue
from ztl.values.fiscal import parse_subject_id, subject_key
from ztl.values.times import parse_date, parse_instant

bp = Blueprint("api_eligibility", __name__, url_prefix="/api/v1")
MAX_PLATES = 10


# Plates asked about per account and minute (ZTL_ELIGIBILITY_RATE_PER_MINUTE, per worker process):
# enough for a person and a clerk, not for resolving the city's plates one after the other.
_PLATES_ASKED = SlidingWindow()


def _over_limit(plates: int) -> tuple[Response, int] | None:
    """A 429 with Retry-After once this account has asked about too many plates this minute."""
    limit = int(current_app.config.get("ZTL_ELIGIBILITY_RATE_PER_MINUTE", 30))
    if limit <= 0:
        return None
    for _ in range(max(1, plates)):
        wait = _PLATES_ASKED.allow(f"eligibility:{current_user.id}", limit)
        if wait is not None:
            response, status = api_error("rate_limited")
            response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
            return response, status
    return None


class BodyError(ValueError):
    """The JSON body has the wrong shape; str() says which field."""


@bp.post("/eligibility")
def eligibility() -> tuple[Response, int] | Response:
    if not current_user.is_authenticated:
        return api_error("unauthorized")
    if not has_role(current_user, RESIDENTS | CLERKS):
        return api_error("forbidden")
    try:
        csrf.protect()
    except CSRFError:
        return api_error("csrf")
    body = request.get_json(silent=True)
    try:
        eligibility_request = _request_from(body)
    except BodyError as exc:
        return api_error("bad_request", detail=str(exc))
    if has_role(current_user, RESIDENTS) and not _is_self(eligibility_request.applicant_id):
        return api_error("forbidden")
    limited = _over_limit(len(eligibility_request.plates))
    if limited is not None:
        return limited
    try:
        result = check_eligibility(eligibility_request)
    except EligibilityInputError as exc:
        return api_error(exc)
    record_question(int(current_user.id), str(current_user.email), result, utcnow())
    answer = result.to_dict()
    if has_role(current_user, RESIDENTS):  # clerks see the evidence; applicants their own facts
        answer = result_for_applicant(answer)
    return jsonify(answer)


def _is_self(applicant_id: str) -> bool:
    try:
        return subject_key(parse_subject_id(applicant_id)) == current_user.person_key
    except InvalidValue:
        return False


def _text(body: dict[str, Any], key: str, required: bool = False) -> str | None:
    value = body.get(key)
    if value is None:
        if required:
            raise BodyError(f"'{key}' is required")
        return None
    if not isinstance(value, str) or len(value) > 100:
        raise BodyError(f"'{key}' must be text of at most 100 characters")
    return value


def _plates(raw: Any) -> tuple[PlateInput, ...]:
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_PLATES:
        raise BodyError(f"'plates' must be a list of 1 to {MAX_PLATES} plates")
    plates = []
    for item in raw:
        if isinstance(item, str):
            plates.append(PlateInput(item))
        elif isinstance(item, dict) and isinstance(item.get("plate"), str):
            country = item.get("country", "IT")
            if not isinstance(country, str):
                raise BodyError("'plates[].country' must be two letters")
            plates.append(PlateInput(item["plate"], country))
        else:
            raise BodyError('each plate is a string or {"plate", "country"}')
    return tuple(plates)


def _list_of_text(body: dict[str, Any], key: str) -> tuple[str, ...]:
    value = body.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or len(value) > 20:
        raise BodyError(f"'{key}' must be a list of text")
    return tuple(value)


def _request_from(body: Any) -> EligibilityRequest:
    if not isinstance(body, dict):
        raise BodyError("the body must be a JSON object")
    applicant = _text(body, "applicant") or (current_user.codice_fiscale or "")
    if not applicant:
        raise BodyError("'applicant' is required")
    try:
        at_text, from_text = _text(body, "at"), _text(body, "valid_from")
        transit_text = _text(body, "transit_at")
        at = parse_instant(at_text) if at_text else dt.datetime.now(dt.UTC)
        transit_at = parse_instant(transit_text) if transit_text else None
        valid_from = parse_date(from_text) if from_text else None
    except InvalidValue as exc:
        raise BodyError(str(exc)) from exc
    return EligibilityRequest(
        category=_text(body, "category", required=True) or "",
        applicant_id=applicant,
        plates=_plates(body.get("plates")),
        at=at,
        zones=tuple(z.upper() for z in _list_of_text(body, "zones")),
        valid_from=valid_from,
        validity=_text(body, "validity"),
        documents=_list_of_text(body, "documents"),
        transit_at=transit_at,
    )
