"""POST /api/v1/payments/notifications: the payment system says a notice was paid.

Not a bearer token: the payment system signs each delivery with the shared secret (see
ztl.applications.payment_receipts), so neither a stolen token nor a replayed body pays anything.
Answers: 200 accepted or already recorded (a retry gets what the first delivery got), 401 not
signed by the payment system, 400 unreadable, 422 refused (unknown notice, wrong amount, already
paid, cancelled, receipt id reused), with the refusal's code in "error". Every authenticated
delivery is recorded, refused ones included. With the demo provider the endpoint is closed (404):
nothing notifies it.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, current_app, jsonify, request
from werkzeug.wrappers import Response

from ztl.api.auth import api_error
from ztl.applications.payment_receipts import (
    ACCEPTED,
    REPLAY,
    SIGNATURE_HEADER,
    BadSignature,
    parse_receipt,
    record_receipt,
    verify_signature,
)
from ztl.payments.providers import NOTIFIED, SECRET_SETTING, SETTING
from ztl.values import InvalidValue

bp = Blueprint("api_payments", __name__, url_prefix="/api/v1/payments")
MAX_BODY = 4096


@bp.post("/notifications")
def notification() -> tuple[Response, int]:
    if current_app.config.get(SETTING) != NOTIFIED:
        return api_error("not_found")
    body = request.get_data(cache=False)
    if len(body) > MAX_BODY:
        return api_error("bad_request", detail=f"the body has more than {MAX_BODY} bytes")
    now = dt.datetime.now(dt.UTC)
    try:
        verify_signature(
            current_app.config[SECRET_SETTING], request.headers.get(SIGNATURE_HEADER), body, now
        )
    except BadSignature as exc:
        return api_error("bad_signature", detail=str(exc))
    try:
        receipt = parse_receipt(body)
    except InvalidValue as exc:
        return api_error("bad_request", detail=str(exc))
    outcome = record_receipt(receipt, body, now)
    if outcome.outcome not in (ACCEPTED, REPLAY):
        return api_error(outcome.code)
    answer = {"outcome": outcome.outcome, "code": outcome.code, "message": outcome.message}
    if outcome.permit_number:
        answer["permit"] = outcome.permit_number
    return jsonify(answer), 200
