"""The enforcement API: plate authorizations, transit checks and the gates' whitelist.

Machine clients only (bearer tokens of role police or gate). Bad input (an unreadable plate, an
unknown zone or gate, a time without an offset, a malformed body) is a 400 naming what is wrong;
nothing is guessed, and nothing is recorded for a refused request. The schemas below check the
requests and describe them in the OpenAPI document; the zones, gates and plates themselves are the
services' to judge (ztl.enforcement.authorizations), since the command line asks them too.

This is the hot path (gates and police ask thousands of times a second): the checks are plain
functions over dicts (ztl.api.fields), no object per transit beyond the service's own.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from typing import Annotated, Any, NotRequired

from flask import g, jsonify
from pydantic import ConfigDict, Field, with_config
from typing_extensions import TypedDict
from werkzeug.wrappers import Response

from ztl.api.auth import MACHINES, api_error
from ztl.api.fields import (
    EXAMPLE_AT,
    INSTANT,
    UtcInstant,
    Window,
    calendar_date,
    checked,
    closed,
    documented,
    instant,
    json_object,
    numbered,
    optional_text,
    text,
)
from ztl.api.operations import (
    Header,
    JsonAnswer,
    JsonBody,
    TextAnswer,
    TextBody,
    api_blueprint,
    operation,
)
from ztl.enforcement import authorizations as service
from ztl.infrastructure.unit_of_work import ServiceError
from ztl.values import InvalidValue
from ztl.values.times import parse_instant

bp = api_blueprint("api_enforcement", __name__)
CSV = "text/csv"
CSV_TYPES = (CSV, "application/csv")


# --- GET /api/v1/authorizations/<plate> -----------------------------------------------------------


class PlatePath(TypedDict):
    plate: Annotated[
        str,
        Field(min_length=1),
        documented(
            {
                "description": "Any case and separators (ab 123-cd); at most 12 letters and digits.",
                "examples": ["AB123CD"],
            }
        ),
    ]


def _instant_or_now(value: Any, name: str) -> dt.datetime | None:
    return parse_instant(value) if value else None


def _zone_or_any(value: Any, name: str) -> str | None:
    return value or None


class AuthorizationQuery(TypedDict, total=False):
    at: Annotated[
        dt.datetime | None,
        checked(
            _instant_or_now,
            Annotated[
                str,
                documented(INSTANT | {"description": f"{INSTANT['description']} Defaults to now."}),
            ],
        ),
    ]
    zone: Annotated[
        str | None,
        checked(
            _zone_or_any,
            Annotated[
                str,
                documented(
                    {
                        "description": "A zone code; empty or absent means any zone.",
                        "examples": ["A"],
                    }
                ),
            ],
        ),
    ]


# ztl.enforcement.authorizations.permit_json
@closed
class Permit(TypedDict):
    number: str
    category: str
    zones: list[str]
    valid_from: UtcInstant
    valid_to: UtcInstant
    windows: Annotated[
        list[Window], documented({"description": "Empty when the permit covers every hour."})
    ]


# ztl.enforcement.authorizations.decision_json
@closed
class Authorization(TypedDict):
    plate: Annotated[str, documented({"description": "Normalised: upper case, no separators."})]
    at: UtcInstant
    zone: str
    authorized: bool
    reason: Annotated[
        str, documented({"description": "Italian / English, to be read to a driver."})
    ]
    permits: Annotated[
        list[Permit],
        documented({"description": "Every permit the plate holds, whatever its zones and dates."}),
    ]


def _asker() -> service.Asker:
    return service.Asker.of_token(g.api_token)


@operation(
    bp,
    "GET",
    "/authorizations/<plate>",
    summary="May this plate be in this zone at this time?",
    description="Authorized when an active permit covers the plate, the zone and the time of day, "
    "or when the zone is not active then. Without a zone: authorized in some zone. Every lookup is "
    "recorded (who, when, plate, answer).",
    access=MACHINES,
    path=PlatePath,
    query=AuthorizationQuery,
    answers={200: JsonAnswer(Authorization, "The answer.")},
    refusals=(404, 503),  # 404: a plate containing a slash; 503: no zones configured
)
def authorization(plate: str, query: AuthorizationQuery) -> tuple[Response, int] | Response:
    try:
        decision = service.authorize(plate, query.get("zone"), query.get("at"), _asker())
    except InvalidValue as exc:
        return api_error("bad_request", detail=str(exc))
    except ServiceError as exc:  # no zones: the municipality's rules were never loaded
        return api_error(exc)
    return jsonify(service.decision_json(decision))


# --- POST /api/v1/transits/check ------------------------------------------------------------------


def _gate_or_zone(item: dict[str, Any]) -> None:
    if item.get("gate") is None and item.get("zone") is None:
        raise InvalidValue("'gate' or 'zone' is required")


@with_config(
    ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["gate"], "properties": {"gate": {"type": "string"}}},
                {"required": ["zone"], "properties": {"zone": {"type": "string"}}},
            ],
            "description": "A camera reading; the gate decides the zone when both are given.",
            "examples": [{"plate": "AB123CD", "gate": "A1", "at": EXAMPLE_AT}],
        }
    )
)
class Transit(TypedDict):
    plate: Annotated[str, text(20)]
    at: Annotated[dt.datetime, instant(40)]
    gate: NotRequired[Annotated[str | None, optional_text(10)]]
    zone: NotRequired[Annotated[str | None, optional_text(10)]]


BATCH_REFUSAL = "the body must be a JSON object with a list 'transits'"


def _a_list(body: dict[str, Any]) -> None:
    if not isinstance(body.get("transits"), list):
        raise InvalidValue(BATCH_REFUSAL)


class TransitBatch(TypedDict):
    # The batch's size is the service's to refuse (the command line's files have the same limit).
    transits: Annotated[
        list[Annotated[Transit, json_object("must be an object", ("plate", "at"), _gate_or_zone)]],
        numbered("transit"),
        documented({"maxItems": service.MAX_BATCH}),
    ]


def _csv_rows(content: str) -> Iterator[list[str]]:
    """The rows, with any line ending (newline="", as the csv module asks); a file it cannot read
    (a field over its size limit) is bad input, a 400, not a 500."""
    reader = csv.reader(io.StringIO(content, newline=""))
    try:
        yield from reader
    except csv.Error as exc:
        raise InvalidValue(f"CSV row {reader.line_num}: {exc}") from exc


def _transits_from_csv(data: bytes) -> TransitBatch:
    """plate,gate,at rows (UTF-8); a header row naming the columns is allowed."""
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidValue("the CSV must be UTF-8") from exc
    transits: list[Transit] = []
    for number, row in enumerate(_csv_rows(content), start=1):
        if not row or all(not cell.strip() for cell in row):
            continue
        if number == 1 and [c.strip().lower() for c in row] == ["plate", "gate", "at"]:
            continue
        if len(row) != 3:
            raise InvalidValue(f"CSV row {number}: expected plate,gate,at")
        try:
            plate, gate, at = (cell.strip() for cell in row)
            transits.append({"plate": plate, "at": parse_instant(at), "gate": gate})
        except InvalidValue as exc:
            raise InvalidValue(f"CSV row {number}: {exc}") from exc
    return {"transits": transits}


# ztl.enforcement.authorizations.transit_json
@closed
class TransitResult(TypedDict):
    plate: str
    at: UtcInstant
    zone: str
    authorized: bool
    reason: str
    pending_until: Annotated[
        str | None,
        documented(
            {
                "format": "date-time",
                "description": "Set when the plate is not authorized now but a retroactive "
                "registration (hotel guests, CUDE) may still arrive before then: not a violation "
                "yet.",
            }
        ),
    ]


@closed
class TransitResults(TypedDict):
    results: Annotated[
        list[TransitResult],
        documented({"description": "One result per transit, in the order sent."}),
    ]


@operation(
    bp,
    "POST",
    "/transits/check",
    summary="One answer per camera reading",
    description=f"At most {service.MAX_BATCH} transits; recorded in one insert. A bad transit "
    "refuses the whole batch (400 naming it).",
    access=MACHINES,
    body=JsonBody(
        Annotated[TransitBatch, json_object(BATCH_REFUSAL, ("transits",), _a_list)],
    ),
    alternatives=[
        TextBody(
            CSV_TYPES,
            _transits_from_csv,
            "Rows plate,gate,at: UTF-8, any line ends, an optional header row.",
            example="plate,gate,at\nAB123CD,A1,2026-06-01T08:30:00+02:00\n",
        )
    ],
    answers={200: JsonAnswer(TransitResults, "The answers, in order.")},
)
def check_transits(body: TransitBatch) -> tuple[Response, int] | Response:
    transits = [
        service.Transit(t["plate"], t["at"], t.get("gate"), t.get("zone")) for t in body["transits"]
    ]
    try:
        decisions = service.check_transits(transits, _asker())
    except InvalidValue as exc:
        return api_error("bad_request", detail=str(exc))
    return jsonify({"results": [service.transit_json(d) for d in decisions]})


# --- GET /api/v1/whitelist ------------------------------------------------------------------------


class WhitelistQuery(TypedDict):
    zone: Annotated[str, text(10, examples=["A"])]
    date: Annotated[
        dt.date,
        calendar_date(
            10, description="YYYY-MM-DD, the municipality's local day.", examples=["2026-06-01"]
        ),
    ]


@operation(
    bp,
    "GET",
    "/whitelist",
    summary="The gates' whitelist for a zone and a day",
    description="One row per authorized plate interval touching that local date.",
    access=MACHINES,
    query=WhitelistQuery,
    answers={
        200: TextAnswer(
            CSV,
            "CSV plate,zone,valid_from,valid_to,windows; windows are space-separated, empty when "
            "any hour.",
            example="plate,zone,valid_from,valid_to,windows\n"
            "AB123CD,A,2026-01-01T00:00:00Z,2028-01-01T00:00:00Z,\n",
            headers={
                "Content-Disposition": Header(),
                "ZTL-Zone-Active-Hours": Header(
                    "When the zone is restricted that local day, from its calendar (weekdays, "
                    "seasons, holidays), as space-separated HH:MM-HH:MM; empty when it is not "
                    "restricted that day.",
                    {"type": "string", "examples": ["07:30-20:00"]},
                ),
            },
        )
    },
)
def whitelist(query: WhitelistQuery) -> tuple[Response, int] | Response:
    zone, date = query["zone"], query["date"]
    try:
        rows = service.whitelist(zone, date)
        hours = service.zone_hours_on(zone, date)
    except InvalidValue as exc:
        return api_error("bad_request", detail=str(exc))
    out = io.StringIO()
    service.write_whitelist_csv(rows, out)
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="whitelist-{zone}-{date}.csv"'
    # When the zone is restricted that day (local time, from its calendar): outside these hours
    # every plate may enter. Empty when the zone is not restricted at all that day.
    response.headers["ZTL-Zone-Active-Hours"] = hours
    return response
