"""A day's camera file checked against the index: which transits were violations, and why.

The municipality's own batch (`ztl transits check`), so it is built for files of millions of rows:
one pass, plates normalised once per distinct spelling, times parsed with the standard library, the
index asked directly. Unreadable rows are reported with their line number and do not stop the rest.
Nothing is recorded per row: only the API's answers to outside clients are lookups.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from ztl.enforcement.authorizations import REASONS, gate_zones
from ztl.enforcement.holder import current_index
from ztl.extensions import db
from ztl.values import InvalidValue
from ztl.values.plates import normalise_plate
from ztl.values.times import instant_in_range

HEADER = ["plate", "gate", "at"]


@dataclass(frozen=True)
class Violation:
    line: int
    plate: str
    gate: str
    zone: str
    at: str
    reason: str


@dataclass(frozen=True)
class Unreadable:
    line: int
    message: str


@dataclass
class TransitSummary:
    read: int = 0
    authorized: int = 0
    pending: int = 0
    violations: int = 0
    unreadable: list[Unreadable] = field(default_factory=list)


def check_rows(
    rows: Iterable[list[str]], summary: TransitSummary, now: dt.datetime | None = None
) -> Iterator[Violation]:
    """Yield the violations among plate,gate,at rows (a header row is skipped), counting all."""
    index = current_index(db.session)
    gates = gate_zones(db.session)
    now_ts = (now or dt.datetime.now(dt.UTC)).timestamp()
    plates: dict[str, str | None] = {}
    check = index.check
    for line, row in enumerate(rows, start=1):
        if line == 1 and [c.strip().lower() for c in row] == HEADER:
            continue
        if not row:
            continue
        summary.read += 1
        if len(row) != 3:
            summary.unreadable.append(Unreadable(line, "expected plate,gate,at"))
            continue
        raw_plate, gate, raw_at = row
        plate = plates.get(raw_plate, "")
        if plate == "":
            plate = _plate_or_none(raw_plate)
            plates[raw_plate] = plate
        zone = gates.get(gate.strip().upper())
        try:
            at = dt.datetime.fromisoformat(raw_at.strip())
        except ValueError:
            at = None
        problem = _problem(plate, zone, at, raw_plate, gate, raw_at)
        if problem:
            summary.unreadable.append(Unreadable(line, problem))
            continue
        answer = check(plate, zone, at.timestamp(), now_ts)  # type: ignore[arg-type,union-attr]
        if answer.authorized:
            summary.authorized += 1
        elif answer.pending_until is not None:
            summary.pending += 1
        else:
            summary.violations += 1
            number = answer.grant.number if answer.grant else ""
            reason = REASONS[answer.why]
            yield Violation(
                line, plate, gate.strip().upper(), zone, raw_at.strip(),  # type: ignore[arg-type]
                reason.format(number=number, zone=zone),
            )  # fmt: skip


def _plate_or_none(raw: str) -> str | None:
    try:
        return normalise_plate(raw) or None
    except InvalidValue:
        return None


def _problem(
    plate: str | None,
    zone: str | None,
    at: dt.datetime | None,
    raw_plate: str,
    gate: str,
    raw_at: str,
) -> str | None:
    if plate is None:
        return f"targa non valida / invalid plate: {raw_plate!r}"
    if zone is None:
        return f"varco sconosciuto / unknown gate: {gate!r}"
    if at is None:
        return f"ora non valida / invalid time: {raw_at!r}"
    if at.tzinfo is None or at.utcoffset() is None:
        return f"ora senza fuso orario / time without an offset: {raw_at!r}"
    if not instant_in_range(at):
        return f"ora fuori intervallo / time out of range: {raw_at!r}"
    return None
