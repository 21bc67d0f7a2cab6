"""POST /api/v1/seals/verify: a police device or gate sends a scanned seal, the server verifies it.

Machine clients only (bearer token, roles police and gate), like the rest of the enforcement API.
The answer names the first failed step; bad input (no seal, a time without an offset, a malformed
plate) is a 400 with a message, never a guess.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, NotRequired

from flask import jsonify
from pydantic import ConfigDict, Field, with_config
from typing_extensions import TypedDict
from werkzeug.wrappers import Response

from ztl.api.auth import MACHINES, api_error
from ztl.api.fields import INSTANT, UtcInstant, Window, checked, closed, documented, json_object
from ztl.api.operations import JsonAnswer, JsonBody, api_blueprint, operation
from ztl.enforcement.authorizations import require_in_range
from ztl.seals.verification import seal_result_json, verify_on_server
from ztl.signing.keys import KeyStoreError
from ztl.signing.seal import MAX_TEXT, Step
from ztl.values import InvalidValue
from ztl.values.plates import normalise_plate
from ztl.values.times import parse_instant

bp = api_blueprint("api_seals", __name__, url_prefix="/api/v1/seals")


def _seal(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue("'seal' is required: the text of the QR code")
    if len(value) > MAX_TEXT:
        raise InvalidValue(f"'seal' is longer than {MAX_TEXT} characters")
    return value


def _asked(most: int) -> Any:
    """A question that may be left out: null or empty is not asked; else text of at most `most`."""

    def check(value: Any, name: str) -> str | None:
        if value is None or value == "":
            return None
        if not isinstance(value, str) or len(value) > most:
            raise InvalidValue(f"'{name}' must be text of at most {most} characters")
        return value

    return check


def _at(value: Any, name: str) -> dt.datetime | None:
    raw = _asked(40)(value, name)
    at = parse_instant(raw) if raw else None
    if at is not None:
        require_in_range(at)  # year 9999 would overflow the clock tolerance: a 400, not a 500
    return at


def _plate(value: Any, name: str) -> str | None:
    raw = _asked(40)(value, name)
    return normalise_plate(raw) if raw else None


def _zone(value: Any, name: str) -> str | None:
    raw = _asked(10)(value, name)
    return raw.upper() if raw else None


def _text_or_null(most: int, **doc: Any) -> Any:
    return Annotated[str | None, Field(max_length=most), documented(doc)]


@with_config(
    ConfigDict(
        json_schema_extra={
            "description": "plate, zone and at are optional (null or empty means not asked); at "
            "defaults to now.",
            "examples": [{"seal": "ZTL1:...", "plate": "AB123CD", "zone": "A"}],
        }
    )
)
class SealQuestion(TypedDict):
    seal: Annotated[
        str,
        checked(
            _seal,
            Annotated[
                str,
                Field(min_length=1, max_length=MAX_TEXT),
                documented({"description": "The text of the QR code (ZTL1:...)."}),
            ],
        ),
    ]
    at: NotRequired[Annotated[dt.datetime | None, checked(_at, _text_or_null(40, **INSTANT))]]
    plate: NotRequired[Annotated[str | None, checked(_plate, _text_or_null(40))]]
    zone: NotRequired[
        Annotated[
            str | None,
            checked(
                _zone,
                _text_or_null(
                    10,
                    description="Where the vehicle is. When the zone's calendar says it is not "
                    "restricted at `at`, the permit's hours do not matter (zone_inactive).",
                ),
            ),
        ]
    ]


@closed
class ValidityWords(TypedDict):
    it: str
    en: str


# The seal's claims (ztl.seals.verification.seal_result_json)
@closed
class SealPermit(TypedDict):
    number: str
    plates: list[str]
    zones: list[str]
    category: str
    valid_from: UtcInstant
    valid_to: UtcInstant
    windows: Annotated[
        list[Window], documented({"description": "Empty when the permit covers every hour."})
    ]
    validity: Annotated[
        ValidityWords,
        documented(
            {
                "description": "The period as people read it, in the municipality's time: "
                'the last day inclusive when it ends at midnight ("dal 02/12/2026 al 02/12/2026 '
                'compreso"), with the time otherwise.'
            }
        ),
    ]


# ztl.seals.verification.seal_result_json
@closed
class SealAnswer(TypedDict):
    valid: bool
    reason: str
    step: Annotated[
        Step | None, documented({"description": "The first failed step; null when valid."})
    ]
    revoked: bool
    zone_inactive: Annotated[
        bool,
        documented(
            {
                "description": "The zone asked about is not restricted at that time (its calendar: "
                "weekdays, seasons, public holidays, night windows), so no permit is needed there "
                "and the permit's own hours were not applied."
            }
        ),
    ]
    kid: Annotated[str, Field(pattern="^[0-9a-f]+$")] | None
    permit: Annotated[
        SealPermit | None,
        documented({"description": "The seal's claims; null when it could not be read."}),
    ]


@operation(
    bp,
    "POST",
    "/verify",
    operation_id="verifySeal",
    summary="Verify a scanned seal against the published keys and revocations",
    access=MACHINES,
    body=JsonBody(
        Annotated[
            SealQuestion, json_object("the body must be a JSON object with a 'seal'", ("seal",))
        ]
    ),
    answers={200: JsonAnswer(SealAnswer, "The verdict; reason names the failed step.")},
    refusals=(503,),  # the signing keys are missing
)
def verify(body: SealQuestion) -> tuple[Response, int] | Response:
    try:
        result = verify_on_server(body["seal"], body.get("at"), body.get("zone"), body.get("plate"))
    except KeyStoreError:
        return api_error("keys_missing")
    return jsonify(seal_result_json(result))
