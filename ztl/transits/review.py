"""The officer's review of violations: the queue, one violation, the decision, the day's export.

A reading whose retroactive window closed uncovered is a `violation` (ztl.transits.settlement): it
waits for an officer, who confirms it (it goes to the fines system) or dismisses it with a reason.
The fine must be notified by `notify_by` (art. 201 of the Codice della strada), so the queue puts
the nearest deadline first and says how many days are left; a summary counts those waiting, those
near their deadline (NEAR_DAYS or fewer days left), those past it and those confirmed today.

Why a decision is an UPDATE ... WHERE status = 'violation': two officers (or one who clicks twice)
may decide the same violation at once; only the first UPDATE finds the row still waiting, so one
decision stands, with one event in the audit chain, and the other is refused with a reason a person
understands ("transit_decided"), never applied twice or over the first.

The export is what the fines system takes: the violations confirmed on one local day (the
municipality's time zone), each with a stable reference that is the gate's own (gate code and the
gate's id for the reading), never the database id. The audit event of a decision names the gate's
reference and the reason, not the plate: the chain outlives the plate, which is purged with the row.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from ztl.city.rules_config import current_rules
from ztl.extensions import db
from ztl.infrastructure.events import record_event
from ztl.infrastructure.unit_of_work import Actor, ServiceError, unit_of_work
from ztl.models import Gate, Transit, Zone
from ztl.models.enums import Dismissal, TransitStatus
from ztl.values.display import local
from ztl.values.spreadsheet import safe_cell
from ztl.values.times import instant_text

NEAR_DAYS = 10  # a deadline this close (days left, or fewer) is flagged in the queue
PAGE_SIZE = 25
MAX_NOTE = 2_000
SUBJECT = "transit"
CONFIRMED_EVENT, DISMISSED_EVENT = "violation_confirmed", "violation_dismissed"
# The statuses an officer may open: waiting, or decided (to see what was decided and by whom).
REVIEWED = (
    TransitStatus.VIOLATION.value,
    TransitStatus.CONFIRMED.value,
    TransitStatus.DISMISSED.value,
)
PAST, NEAR, IN_TIME = "past", "near", "in_time"
EXPORT_COLUMNS = (
    "reference",
    "plate",
    "local_time",
    "utc_time",
    "gate",
    "gate_name",
    "zone",
    "direction",
    "confidence",
    "image_ref",
    "image_kept",
    "notify_by",
    "officer",
    "confirmed_at",
)


class ReviewError(ServiceError):
    """A decision that cannot be taken; the code says why (see ztl/errors.py)."""

    code = "transit_decided"


# --- time ---------------------------------------------------------------------------------------


def timezone() -> ZoneInfo:
    return ZoneInfo(current_rules().timezone)


def local_day(at: dt.datetime) -> dt.date:
    """The municipality's calendar day an instant falls in."""
    return local(at, timezone()).date()


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants of the local midnight starting `day` and of the next one (excluded)."""
    zone = timezone()
    start = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def days_left(notify_by: dt.date | None, today: dt.date) -> int | None:
    """Days until the last day to notify (0: that day is today; negative: it has passed)."""
    return (notify_by - today).days if notify_by is not None else None


def urgency(left: int | None) -> str:
    if left is None:
        return IN_TIME
    if left < 0:
        return PAST
    return NEAR if left <= NEAR_DAYS else IN_TIME


# --- the queue ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    transit_id: int
    plate: str
    gate: str
    gate_name: str
    zone: str | None
    read_at: dt.datetime
    notify_by: dt.date | None
    days_left: int | None
    urgency: str  # past, near, in_time
    has_image: bool


@dataclass(frozen=True)
class Queue:
    rows: list[QueueRow]
    total: int
    page: int
    pages: int


@dataclass(frozen=True)
class Summary:
    waiting: int
    near: int  # NEAR_DAYS or fewer days left, not past
    past: int
    confirmed_today: int


def gates() -> list[tuple[str, str]]:
    """The city's gates (code, name), for the queue's filter."""
    return [
        (code, name)
        for code, name in db.session.execute(select(Gate.code, Gate.name).order_by(Gate.code))
    ]


def _waiting(gate: str | None, day: dt.date | None) -> Any:
    statement = (
        select(Transit, Gate.name)
        .outerjoin(Gate, Gate.code == Transit.gate)
        .where(Transit.status == TransitStatus.VIOLATION.value)
    )
    if gate:
        statement = statement.where(Transit.gate == gate)
    if day is not None:
        start, end = day_bounds(day)
        statement = statement.where(Transit.read_at >= start, Transit.read_at < end)
    return statement


def queue(
    now: dt.datetime, gate: str | None = None, day: dt.date | None = None, page: int = 1
) -> Queue:
    """The violations waiting, nearest deadline first (then the oldest reading), one page of them;
    `gate` and `day` (the reading's local day) narrow it. A page past the last is the last."""
    statement = _waiting(gate, day)
    total = db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows = db.session.execute(
        statement.order_by(
            Transit.notify_by.is_(None), Transit.notify_by, Transit.read_at, Transit.id
        )
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    today = local_day(now)
    found = []
    for transit, gate_name in rows:
        left = days_left(transit.notify_by, today)
        found.append(
            QueueRow(
                transit_id=transit.id,
                plate=transit.plate or "",
                gate=transit.gate,
                gate_name=gate_name or "",
                zone=transit.zone,
                read_at=transit.read_at or transit.received_at,
                notify_by=transit.notify_by,
                days_left=left,
                urgency=urgency(left),
                has_image=bool(transit.image_file),
            )
        )
    return Queue(found, total, page, pages)


def summary(now: dt.datetime) -> Summary:
    """Waiting, near the deadline, past it, and confirmed today (local day): the page's header."""
    today = local_day(now)
    waiting = Transit.status == TransitStatus.VIOLATION.value
    count = func.count(Transit.id)
    total = db.session.scalar(select(count).where(waiting)) or 0
    past = db.session.scalar(select(count).where(waiting, Transit.notify_by < today)) or 0
    near = (
        db.session.scalar(
            select(count).where(
                waiting,
                Transit.notify_by >= today,
                Transit.notify_by <= today + dt.timedelta(days=NEAR_DAYS),
            )
        )
        or 0
    )
    start, end = day_bounds(today)
    confirmed = (
        db.session.scalar(
            select(count).where(
                Transit.status == TransitStatus.CONFIRMED.value,
                Transit.reviewed_at >= start,
                Transit.reviewed_at < end,
            )
        )
        or 0
    )
    return Summary(total, near, past, confirmed)


# --- one violation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsideredPermit:
    """A permit the plate held, and why it did not cover the reading (a PERMIT_MISS code)."""

    number: str
    category: str
    zones: list[str]
    valid_from: dt.datetime | None
    valid_to: dt.datetime | None
    windows: list[str]
    why: str


@dataclass(frozen=True)
class Violation:
    transit_id: int
    status: str  # violation, confirmed or dismissed
    plate: str
    gate: str
    source_id: str  # the gate's own id for the reading
    gate_name: str
    zone: str | None
    zone_name: str
    read_at: dt.datetime
    direction: str | None
    confidence: int | None
    has_image: bool
    image_ref: str | None
    considered: list[ConsideredPermit]
    notify_by: dt.date | None
    days_left: int | None
    urgency: str
    reviewed_at: dt.datetime | None
    reviewed_by: str | None
    dismissal: str | None
    review_note: str | None

    @property
    def waiting(self) -> bool:
        return self.status == TransitStatus.VIOLATION.value


def _instant(raw: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(raw)) if raw else None
    except ValueError:
        return None


def considered_permits(raw: str | None) -> list[ConsideredPermit]:
    """The `considered` JSON of a transit as records (an empty list: the plate held no permit)."""
    try:
        items = json.loads(raw) if raw else []
    except ValueError:
        return []
    return [
        ConsideredPermit(
            number=str(item.get("number", "")),
            category=str(item.get("category", "")),
            zones=[str(z) for z in item.get("zones", [])],
            valid_from=_instant(item.get("valid_from")),
            valid_to=_instant(item.get("valid_to")),
            windows=[str(w) for w in item.get("windows", [])],
            why=str(item.get("why", "")),
        )
        for item in items
        if isinstance(item, dict)
    ]


def violation(transit_id: int, now: dt.datetime) -> Violation | None:
    """One violation, waiting or decided; None for no such transit or one that is not (or not
    yet, or no longer) a violation."""
    found = db.session.execute(
        select(Transit, Gate.name, Zone.name)
        .outerjoin(Gate, Gate.code == Transit.gate)
        .outerjoin(Zone, Zone.code == Transit.zone)
        .where(Transit.id == transit_id, Transit.status.in_(REVIEWED), Transit.plate.is_not(None))
    ).first()
    if found is None:
        return None
    transit, gate_name, zone_name = found
    left = days_left(transit.notify_by, local_day(now))
    return Violation(
        transit_id=transit.id,
        status=transit.status,
        plate=transit.plate or "",
        gate=transit.gate,
        source_id=transit.source_id,
        gate_name=gate_name or "",
        zone=transit.zone,
        zone_name=zone_name or "",
        read_at=transit.read_at or transit.received_at,
        direction=transit.direction,
        confidence=transit.confidence,
        has_image=bool(transit.image_file),
        image_ref=transit.image_ref,
        considered=considered_permits(transit.considered),
        notify_by=transit.notify_by,
        days_left=left,
        urgency=urgency(left) if transit.status == TransitStatus.VIOLATION.value else IN_TIME,
        reviewed_at=transit.reviewed_at,
        reviewed_by=transit.reviewed_by_label,
        dismissal=transit.dismissal,
        review_note=transit.review_note,
    )


@dataclass(frozen=True)
class Picture:
    """A picture sent with a reading: its stored name in the upload folder and its type."""

    stored_name: str
    content_type: str


def picture(transit_id: int) -> Picture | None:
    """The picture of a violation (waiting or decided), or None when there is none."""
    found = db.session.execute(
        select(Transit.image_file, Transit.image_type).where(
            Transit.id == transit_id, Transit.status.in_(REVIEWED)
        )
    ).first()
    if found is None or not found.image_file:
        return None
    return Picture(found.image_file, found.image_type or "application/octet-stream")


# --- the decision -------------------------------------------------------------------------------


def _refusal(session: Any, transit_id: int) -> ReviewError:
    """Why a decision found nothing to change: no such violation, or one decided already."""
    status = session.scalar(select(Transit.status).where(Transit.id == transit_id))
    if status in (TransitStatus.CONFIRMED.value, TransitStatus.DISMISSED.value):
        return ReviewError("this violation was already decided", code="transit_decided")
    return ReviewError("no violation waiting with this number", code="not_found")


def _decide(
    transit_id: int,
    actor: Actor,
    now: dt.datetime,
    values: dict[str, Any],
    action: str,
    reason: str | None,
    data: dict[str, Any],
) -> None:
    with unit_of_work() as session:
        done = session.execute(
            update(Transit)
            .where(Transit.id == transit_id, Transit.status == TransitStatus.VIOLATION.value)
            .values(
                reviewed_at=now,
                reviewed_by_id=actor.user_id,
                reviewed_by_label=actor.label[:200],
                **values,
            )
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise _refusal(session, transit_id)
        gate, source_id = session.execute(
            select(Transit.gate, Transit.source_id).where(Transit.id == transit_id)
        ).one()
        reference = {"gate": gate, "source_id": source_id}
        record_event(
            session, actor, SUBJECT, transit_id, action, reason=reason, data=reference | data
        )


def confirm(transit_id: int, actor: Actor, now: dt.datetime) -> None:
    """The officer confirms a waiting violation: it goes to the fines system with the day's export."""
    _decide(
        transit_id,
        actor,
        now,
        {"status": TransitStatus.CONFIRMED.value},
        CONFIRMED_EVENT,
        None,
        {},
    )


def dismiss(
    transit_id: int, actor: Actor, dismissal: str, note: str | None, now: dt.datetime
) -> None:
    """The officer dismisses a waiting violation with a reason (Dismissal); "other" needs a note."""
    try:
        reason = Dismissal(dismissal)
    except ValueError as exc:
        raise ReviewError("unknown reason for a dismissal", code="dismissal_reason") from exc
    text = (note or "").strip()[:MAX_NOTE] or None
    if reason is Dismissal.OTHER and text is None:
        raise ReviewError("a dismissal for another reason needs a note", code="dismissal_note")
    _decide(
        transit_id,
        actor,
        now,
        {"status": TransitStatus.DISMISSED.value, "dismissal": reason.value, "review_note": text},
        DISMISSED_EVENT,
        reason.value,
        {"note": text} if text else {},
    )


# --- the export ---------------------------------------------------------------------------------


def reference(gate: str, source_id: str) -> str:
    """The stable reference of a reading: the gate's code and the gate's own id for it."""
    return f"{gate}/{source_id}"


def confirmed_on(day: dt.date) -> list[dict[str, Any]]:
    """The violations confirmed on `day` (local), in the order they were confirmed, as the fines
    system takes them (EXPORT_COLUMNS)."""
    start, end = day_bounds(day)
    rows = db.session.execute(
        select(Transit, Gate.name)
        .outerjoin(Gate, Gate.code == Transit.gate)
        .where(
            Transit.status == TransitStatus.CONFIRMED.value,
            Transit.reviewed_at >= start,
            Transit.reviewed_at < end,
            Transit.plate.is_not(None),
        )
        .order_by(Transit.reviewed_at, Transit.gate, Transit.source_id)
    ).all()
    zone = timezone()
    found = []
    for transit, gate_name in rows:
        at = transit.read_at or transit.received_at
        found.append(
            {
                "reference": reference(transit.gate, transit.source_id),
                "plate": transit.plate,
                "local_time": local(at, zone).isoformat(timespec="seconds"),
                "utc_time": instant_text(at),
                "gate": transit.gate,
                "gate_name": gate_name or "",
                "zone": transit.zone,
                "direction": transit.direction,
                "confidence": transit.confidence,
                "image_ref": transit.image_ref,
                "image_kept": bool(transit.image_file),
                "notify_by": transit.notify_by.isoformat() if transit.notify_by else None,
                "officer": transit.reviewed_by_label,
                "confirmed_at": instant_text(transit.reviewed_at) if transit.reviewed_at else None,
            }
        )
    return found


def export_csv(day: dt.date) -> str:
    """The day's confirmed violations as CSV (a header line, then one line each)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    for item in confirmed_on(day):
        writer.writerow(["" if item[c] is None else _cell(item[c]) for c in EXPORT_COLUMNS])
    return out.getvalue()


def _cell(value: Any) -> str:
    """A cell of the export: text from a gate (its picture's reference) is never run as a
    spreadsheet formula."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return safe_cell(str(value))


def export_json(day: dt.date) -> str:
    """The day's confirmed violations as JSON: the day, the time zone and the list."""
    body = {
        "day": day.isoformat(),
        "timezone": current_rules().timezone,
        "violations": confirmed_on(day),
    }
    return json.dumps(body, ensure_ascii=False, indent=2)
