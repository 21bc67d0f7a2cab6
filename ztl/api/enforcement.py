"""The enforcement API: plate authorizations, transit checks and the gates' whitelist.

Machine clients only (bearer tokens of role police or gate), following enforcement-api.md. Bad
input (an unreadable plate, an unknown zone or gate, a time without an offset, a malformed body) is
a 400 naming what is wrong; nothing is guessed, and nothing is recorded for a refused request.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, g, jsonify, request
from werkzeug.wrappers import Response

from ztl.api.auth import api_error, require_token
from ztl.enforcement import authorizations as service
from ztl.infrastructure.unit_of_work import ServiceError
from ztl.models.enums import TokenRole
from ztl.values import InvalidValue
from ztl.values.times import parse_date, parse_instant

bp = Blueprint("api_enforcement", __name__, url_prefix="/api/v1")
MACHINE_ROLES = frozenset(r.value for r in TokenRole)
CSV_TYPES = ("text/csv", "application/csv")


@bp.before_request
def _authenticate() -> tuple[Response, int] | None:
    return require_token(MACHINE_ROLES)


def _asker() -> service.Asker:
    return service.Asker.of_token(g.api_token)


def _text(value: Any, name: str, limit: int = 40) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise InvalidValue(f"'{name}' must be text of 1 to {limit} characters")
    return value.strip()


@bp.get("/authorizations/<plate>")
def authorization(plate: str) -> tuple[Response, int] | Response:
    try:
        raw_at = request.args.get("at")
        at = parse_instant(raw_at) if raw_at else None
        zone = request.args.get("zone") or None
        decision = service.authorize(plate, zone, at, _asker())
    except InvalidValue as exc:
        return api_error("bad_request", detail=str(exc))
    except ServiceError as exc:  # no zones: the municipality's rules were never loaded
        return api_error(exc)
    return jsonify(service.decision_json(decision))


def _transits_from_json(body: Any) -> list[service.Transit]:
    if not isinstance(body, dict) or not isinstance(body.get("transits"), list):
        raise InvalidValue("the body must be a JSON object with a list 'transits'")
    transits = []
    for number, item in enumerate(body["transits"], start=1):
        if not isinstance(item, dict):
            raise InvalidValue(f"transit {number}: must be an object")
        try:
            gate, zone = item.get("gate"), item.get("zone")
            if gate is None and zone is None:
                raise InvalidValue("'gate' or 'zone' is required")
            transits.append(
                service.Transit(
                    plate=_text(item.get("plate"), "plate", 20),
                    at=parse_instant(_text(item.get("at"), "at")),
                    gate=_text(gate, "gate", 10) if gate is not None else None,
                    zone=_text(zone, "zone", 10) if zone is not None else None,
                )
            )
        except InvalidValue as exc:
            raise InvalidValue(f"transit {number}: {exc}") from exc
    return transits


def _csv_rows(text: str) -> Iterator[list[str]]:
    """The rows, with any line ending (newline="", as the csv module asks); a file it cannot read
    (a field over its size limit) is bad input, a 400, not a 500."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        yield from reader
    except csv.Error as exc:
        raise InvalidValue(f"CSV row {reader.line_num}: {exc}") from exc


def _transits_from_csv(text: str) -> list[service.Transit]:
    """plate,gate,at rows; a header row naming the columns is allowed."""
    transits = []
    for number, row in enumerate(_csv_rows(text), start=1):
        if not row or all(not cell.strip() for cell in row):
            continue
        if number == 1 and [c.strip().lower() for c in row] == ["plate", "gate", "at"]:
            continue
        if len(row) != 3:
            raise InvalidValue(f"CSV row {number}: expected plate,gate,at")
        try:
            plate, gate, at = (cell.strip() for cell in row)
            transits.append(service.Transit(plate=plate, at=parse_instant(at), gate=gate))
        except InvalidValue as exc:
            raise InvalidValue(f"CSV row {number}: {exc}") from exc
    return transits


@bp.post("/transits/check")
def check_transits() -> tuple[Response, int] | Response:
    try:
        if request.mimetype in CSV_TYPES:
            try:
                text = request.get_data().decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise InvalidValue("the CSV must be UTF-8") from exc
            transits = _transits_from_csv(text)
        else:
            transits = _transits_from_json(request.get_json(silent=True))
        decisions = service.check_transits(transits, _asker())
    except InvalidValue as exc:
        return api_error("bad_request", detail=str(exc))
    return jsonify({"results": [service.transit_json(d) for d in decisions]})


@bp.get("/whitelist")
def whitelist() -> tuple[Response, int] | Response:
    try:
        zone = _text(request.args.get("zone"), "zone", 10)
        date = parse_date(_text(request.args.get("date"), "date", 10))
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
