"""POST /api/v1/transits: a gate pushes one reading, at least once, and is told what it was.

Gate tokens only. The reading carries the gate's own id for it: sent again (the gate did not get
the answer), it is recognised and answered with the first answer (200 instead of 201), and nothing
is written twice. The answer is given only once the reading is committed in the ledger
(ztl.transits.ledger), so a gate that got a 200 or 201 may forget the reading.

A gate token bound to a gate (`ztl tokens create --gate A1`) files readings for that gate only;
an unbound gate token (a gate system's concentrator) names the gate in each reading. A reading at a
gate the city does not know is kept (`held`, an alarm in the situation room), never refused: the
camera saw a car, and the gate may be configured later.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, NotRequired

from flask import g, jsonify
from pydantic import ConfigDict, with_config
from typing_extensions import TypedDict
from werkzeug.wrappers import Response

from ztl.api.auth import Tokens, api_error
from ztl.api.fields import EXAMPLE_AT, closed, documented, json_object
from ztl.api.operations import JsonAnswer, JsonBody, api_blueprint, operation
from ztl.city.rules_config import current_rules
from ztl.infrastructure.uploads import DocumentError
from ztl.models.enums import TokenRole
from ztl.transits.ledger import HTTP, record_readings
from ztl.transits.readings import MAX_IMAGE_BYTES, reading_from
from ztl.values import InvalidValue

bp = api_blueprint("api_transits", __name__)
GATES = Tokens(frozenset({TokenRole.GATE.value}))
MAX_BODY = MAX_IMAGE_BYTES * 4 // 3 + 4096  # a base64 picture and the reading around it


@with_config(
    ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "A1-2026-000123",
                    "gate": "A1",
                    "plate": "AB123CD",
                    "at": EXAMPLE_AT,
                    "direction": "in",
                    "confidence": 0.97,
                    "image_ref": "https://varchi.example/A1/2026/000123.jpg",
                }
            ]
        }
    )
)
class Reading(TypedDict):
    id: Annotated[
        str,
        documented(
            {
                "description": "The gate's own id for this reading, unique per gate: a reading "
                "sent again with the same id is answered the same and kept once.",
                "maxLength": 64,
            }
        ),
    ]
    plate: Annotated[str, documented({"maxLength": 20})]
    at: Annotated[
        str,
        documented(
            {
                "format": "date-time",
                "description": "When the camera read it, with an offset. Refused beyond the "
                "rules file's [transits] future_seconds ahead or late_hours behind.",
            }
        ),
    ]
    gate: NotRequired[
        Annotated[
            str,
            documented(
                {"description": "Required unless the token is bound to a gate.", "maxLength": 20}
            ),
        ]
    ]
    direction: NotRequired[Literal["in", "out"]]
    confidence: NotRequired[
        Annotated[float, documented({"minimum": 0, "maximum": 1, "description": "0 to 1."})]
    ]
    image_ref: NotRequired[
        Annotated[str, documented({"description": "Where the gate keeps the picture."})]
    ]
    image: NotRequired[
        Annotated[
            str,
            documented(
                {
                    "description": f"The picture itself: base64 of a JPEG or PNG of at most "
                    f"{MAX_IMAGE_BYTES // 1024} KB; kept only if the transit is not authorized.",
                    "contentEncoding": "base64",
                }
            ),
        ]
    ]


@closed
class TransitAnswer(TypedDict):
    gate: str
    id: str
    outcome: Annotated[
        Literal["authorized", "pending", "violation", "held"],
        documented(
            {
                "description": "authorized: nothing personal kept; pending: not covered yet, a "
                "retroactive registration may still come; violation: for an officer to review; "
                "held: the gate is unknown to the city."
            }
        ),
    ]
    pending_until: Annotated[str | None, documented({"format": "date-time"})]
    repeat: Annotated[bool, documented({"description": "This reading was already in the ledger."})]


@operation(
    bp,
    "POST",
    "/transits",
    summary="A gate reports one reading",
    description="At least once: the gate's id makes a repeat harmless (200, the first answer). "
    "Answered once the reading is committed.",
    access=GATES,
    body=JsonBody(Annotated[Reading, json_object("a transit must be a JSON object", ())]),
    answers={
        201: JsonAnswer(TransitAnswer, "Recorded."),
        200: JsonAnswer(TransitAnswer, "Already recorded: the first answer."),
    },
    refusals=(503,),  # the picture could not be stored: send the reading again later
)
def push_transit(body: Reading) -> tuple[Response, int]:
    now = dt.datetime.now(dt.UTC)
    try:
        reading = reading_from(body, now, current_rules().transits, g.api_token.gate)
    except InvalidValue as exc:
        return api_error("bad_request", detail=str(exc))
    try:
        (outcome,) = record_readings([reading], HTTP, now)
    except DocumentError:  # the picture could not be written (a full disk): nothing was kept
        return api_error("transit_storage")
    return jsonify(outcome.json()), 200 if outcome.repeat else 201
