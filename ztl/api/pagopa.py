"""POST /api/v1/pagopa/pagamenti/<creditor>/<iuv>: the pagoPA intermediary reports a payment.

The creditor's side of GovPay's "API Notifica": the intermediary calls it when a notice is paid, with
the receipt (`rt`) in the body, authenticated with HTTP Basic over TLS (ztl.api.auth.
IntermediaryBasic). The receipt goes through the one place that decides what receipts do
(ztl.applications.payment_receipts), exactly as if the daily reconciliation had found it.

Answers: 201 recorded (accepted, a replay of a known receipt, or refused and kept for the
accounting office: an intermediary retrying a refusal would change nothing), 404 no notice with this
IUV (recorded too), 400 a body that is not a notification, 401/403/404 from the access.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, NotRequired
from zoneinfo import ZoneInfo

from flask import jsonify, request
from pydantic import Field
from typing_extensions import TypedDict
from werkzeug.wrappers import Response

from ztl.api.auth import IntermediaryBasic, api_error
from ztl.api.fields import closed, documented, json_object
from ztl.api.operations import JsonAnswer, JsonBody, api_blueprint, operation
from ztl.applications.payment_receipts import record_receipt
from ztl.city.rules_config import current_rules
from ztl.infrastructure.unit_of_work import ServiceError
from ztl.payments.govpay import receipt_from_notification
from ztl.payments.positions import creditor_fiscal_code
from ztl.values import InvalidValue

bp = api_blueprint("api_pagopa", __name__, url_prefix="/api/v1/pagopa")
MAX_BODY = 64 * 1024  # a notification with its RPT and RT: a few kilobytes


class NotificationPath(TypedDict):
    creditor: Annotated[
        str,
        Field(min_length=11, max_length=11, pattern="^[0-9]{11}$"),
        documented({"description": "The creditor's fiscal code (idDominio)."}),
    ]
    iuv: Annotated[
        str,
        Field(min_length=1, max_length=35),
        documented({"description": "The notice's IUV."}),
    ]


class Notification(TypedDict):
    """GovPay's `notifica`: the position's ids, the payment request and the receipt."""

    idA2A: NotRequired[str]
    idPendenza: NotRequired[str]
    rpt: NotRequired[dict[str, Any]]
    rt: Annotated[dict[str, Any], documented({"description": "The pagoPA receipt."})]
    riscossioni: NotRequired[list[dict[str, Any]]]


@closed
class NotificationAnswer(TypedDict):
    outcome: Literal["accepted", "replay", "refused"]
    code: str
    message: str
    permit: NotRequired[
        Annotated[str, documented({"description": "The permit the payment issued, if any."})]
    ]


@operation(
    bp,
    "POST",
    "/pagamenti/<creditor>/<iuv>",
    operation_id="pagopaPaymentNotification",
    summary="The pagoPA intermediary reports that a notice was paid",
    description="GovPay's notification of a payment (API Notifica): HTTP Basic with "
    "ZTL_PAGOPA_NOTIFICATION_USER and _PASSWORD, over HTTPS in production. The receipt is applied "
    "once; the same receipt again, or found by the daily reconciliation, is a replay. Refused "
    "receipts (another amount or debtor, a cancelled or already paid notice) are recorded for the "
    "accounting office and answered 201 too. Closed (404) while ZTL_PAGOPA_NOTIFICATION_USER and _PASSWORD are not set.",
    access=IntermediaryBasic(max_body=MAX_BODY),
    path=NotificationPath,
    body=JsonBody(
        Annotated[Notification, json_object("the body must be a JSON object", ("rt",))],
        any_media_type=True,
    ),
    answers={201: JsonAnswer(NotificationAnswer, "Recorded: accepted, replay or refused.")},
    refusals=(404, 503),  # no notice with this IUV; the permit cannot be issued now
)
def notification(creditor: str, iuv: str, body: Notification) -> tuple[Response, int]:
    if creditor != creditor_fiscal_code():
        return api_error("not_found")
    try:
        receipt = receipt_from_notification(body, iuv, ZoneInfo(current_rules().timezone))
    except InvalidValue as exc:
        return api_error("bad_request", detail=str(exc))
    try:
        outcome = record_receipt(receipt, request.get_data(), dt.datetime.now(dt.UTC))
    except ServiceError as exc:  # the permit could not be issued (keys missing): nothing kept,
        return api_error(exc)  # the intermediary retries and the daily job reads it again
    if outcome.code == "unknown_notice":
        return api_error("unknown_notice_here")
    answer = {"outcome": outcome.outcome, "code": outcome.code, "message": outcome.message}
    if outcome.permit_number:
        answer["permit"] = outcome.permit_number
    return jsonify(answer), 201
