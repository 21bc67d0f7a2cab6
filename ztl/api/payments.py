"""POST /api/v1/payments/notifications: the payment system says a notice was paid.

Not a bearer token: the payment system signs each delivery with the shared secret (the guard checks
it: ztl.api.auth.PaymentSignature), so neither a stolen token nor a replayed body pays anything.
Answers: 200 accepted or already recorded (a retry gets what the first delivery got), 401 not
signed by the payment system, 400 unreadable, 422 refused (unknown notice, wrong amount, already
paid, cancelled, receipt id reused), with the refusal's code in "error". Every authenticated
delivery is recorded, refused ones included. With the demo provider the endpoint is closed (404):
nothing notifies it.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, NotRequired

from flask import jsonify, request
from pydantic import Field
from typing_extensions import TypedDict
from werkzeug.wrappers import Response

from ztl.api.auth import PaymentSignature, api_error
from ztl.api.fields import checked, closed, documented, json_object
from ztl.api.operations import JsonAnswer, JsonBody, api_blueprint, operation
from ztl.applications.payment_receipts import (
    ACCEPTED,
    MAX_AMOUNT,
    MAX_RECEIPT_ID,
    REPLAY,
    Receipt,
    record_receipt,
)
from ztl.infrastructure.unit_of_work import ServiceError
from ztl.values import InvalidValue
from ztl.values.times import parse_instant

bp = api_blueprint("api_payments", __name__, url_prefix="/api/v1/payments")
MAX_BODY = 4096
MAX_IUV = 40


def _receipt_id(value: Any, name: str) -> str:
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= MAX_RECEIPT_ID:
        raise InvalidValue(f"'receipt_id' must be text of 1 to {MAX_RECEIPT_ID} characters")
    return value.strip()


def _iuv(value: Any, name: str) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_IUV:
        raise InvalidValue("'iuv' must be the notice's IUV")
    return value


def _amount(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_AMOUNT:
        raise InvalidValue(f"'amount_cents' must be a whole number of cents from 1 to {MAX_AMOUNT}")
    return value


def _paid_at(value: Any, name: str) -> dt.datetime:
    if not isinstance(value, str):
        raise InvalidValue("'paid_at' must be an instant with its offset")
    return parse_instant(value)


class PaymentReceipt(TypedDict):
    receipt_id: Annotated[
        str, checked(_receipt_id, Annotated[str, Field(min_length=1, max_length=MAX_RECEIPT_ID)])
    ]
    iuv: Annotated[str, checked(_iuv, Annotated[str, Field(min_length=1, max_length=MAX_IUV)])]
    amount_cents: Annotated[int, checked(_amount, Annotated[int, Field(ge=1, le=MAX_AMOUNT)])]
    paid_at: Annotated[
        dt.datetime,
        checked(
            _paid_at, Annotated[str, documented({"description": "An instant with its offset."})]
        ),
    ]


@closed
class ReceiptAnswer(TypedDict):
    outcome: Literal["accepted", "replay"]
    code: str
    message: str
    permit: NotRequired[
        Annotated[str, documented({"description": "The permit the payment issued, if any."})]
    ]


@operation(
    bp,
    "POST",
    "/notifications",
    operation_id="paymentNotification",
    summary="The payment system reports that a notice was paid",
    description="Signed by the payment system with the shared secret: header "
    "ZTL-Payment-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of '<t>.' + body>, within five "
    "minutes of the server's clock. A receipt is accepted once; the same receipt again is answered "
    "as the first time (outcome replay). Closed (404) unless ZTL_PAYMENT_PROVIDER=notified.",
    access=PaymentSignature(max_body=MAX_BODY),
    # Read as JSON whatever its Content-Type: the signature covers the bytes, not the label.
    body=JsonBody(
        Annotated[
            PaymentReceipt,
            json_object(
                "the body must be a JSON object", ("receipt_id", "iuv", "amount_cents", "paid_at")
            ),
        ],
        any_media_type=True,
    ),
    answers={200: JsonAnswer(ReceiptAnswer, "Accepted, or already recorded.")},
    refusals=(422, 503),  # refused: unknown notice, wrong amount...; 503: cannot issue now
)
def notification(body: PaymentReceipt) -> tuple[Response, int]:
    receipt = Receipt(body["receipt_id"], body["iuv"], body["amount_cents"], body["paid_at"])
    try:
        outcome = record_receipt(receipt, request.get_data(), dt.datetime.now(dt.UTC))
    except ServiceError as exc:  # the permit could not be issued (keys missing): nothing kept
        return api_error(exc)
    if outcome.outcome not in (ACCEPTED, REPLAY):
        return api_error(outcome.code)
    answer = {"outcome": outcome.outcome, "code": outcome.code, "message": outcome.message}
    if outcome.permit_number:
        answer["permit"] = outcome.permit_number
    return jsonify(answer), 200
