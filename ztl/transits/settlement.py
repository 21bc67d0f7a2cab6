"""Following readings up: a later registration clears a pending one, a closed window makes it a
violation, a gate configured later lets a held one be judged.

Why a sweep and not a trigger on each registration: a registration is a permit (a hotel guest's
daily permit, a CUDE plate) that reaches every process's enforcement index anyway; asking the
index again for each open reading is one dictionary look-up, so a sweep every minute costs little
and needs nothing of the code that registers. `ztl transits settle` runs it (cron, or the MQTT
subscriber's loop); it may run on several machines at once, since each reading is changed by an
UPDATE that requires it to be still in the state it was read in.

A reading that a registration covers forgets its plate, instant and picture at once, as if it had
been authorized when read; one whose window closed uncovered becomes a violation with the permits
considered at that moment and the last day a fine may be notified.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, select, update

from ztl.city.rules_config import current_rules
from ztl.enforcement.holder import current_index
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import unit_of_work
from ztl.infrastructure.uploads import discard_upload, upload_folder
from ztl.models import Transit
from ztl.models.enums import TransitStatus
from ztl.transits.ledger import Judgement, gate_places, judge, notify_by

CHUNK = 1_000
FORGOTTEN = {
    "plate": None,
    "read_at": None,
    "confidence": None,
    "image_ref": None,
    "image_file": None,
    "image_type": None,
    "considered": None,
}


@dataclass(frozen=True)
class Settled:
    cleared: int = 0  # pending or held readings a registration (or a new gate) covered
    violations: int = 0  # windows that closed uncovered
    judged: int = 0  # held readings whose gate is now known


def settle(now: dt.datetime | None = None) -> Settled:
    """Move every open reading on as of `now` (see the module's docstring)."""
    moment = now or dt.datetime.now(dt.UTC)
    rules = current_rules()
    deadline = Deadline(rules.transits.notify_days, ZoneInfo(rules.timezone))
    counts = {CLEARED: 0, VIOLATIONS: 0, JUDGED: 0}
    last_id = 0
    while True:
        index = current_index(db.session)
        places = gate_places(db.session, index)
        rows = _open_readings(last_id)
        db.session.rollback()  # end the read; each chunk's changes are one transaction
        if not rows:
            break
        last_id = rows[-1].id
        pictures: list[str] = []
        with unit_of_work() as session:
            for row in rows:
                assert row.read_at is not None and row.plate is not None
                place = places.get(row.gate)
                held = row.status == TransitStatus.HELD.value
                if held and place is None:
                    continue  # the gate is still unknown
                judgement = judge(row.plate, row.read_at, place, row.direction, index, moment)
                change = _change(judgement, held, row.read_at, deadline)
                if change is None:
                    continue
                counter, values = change
                # Only if the reading is still as it was read: a settlement running elsewhere
                # at the same time moves it once.
                done = int(
                    session.execute(
                        update(Transit)
                        .where(Transit.id == row.id, Transit.status == row.status)
                        .values(**values)
                    ).rowcount  # type: ignore[attr-defined]
                )
                counts[counter] += done
                if held and counter != JUDGED:
                    counts[JUDGED] += done
                if done and counter == CLEARED and row.image_file:
                    pictures.append(row.image_file)
        forget_pictures(pictures)
    return Settled(counts[CLEARED], counts[VIOLATIONS], counts[JUDGED])


CLEARED, VIOLATIONS, JUDGED = "cleared", "violations", "judged"


@dataclass(frozen=True)
class Deadline:
    """How the last day to notify a fine is reckoned: days after the transit's local date."""

    days: int
    timezone: ZoneInfo


OpenReading = Row[int, str, str | None, dt.datetime | None, str, str | None, str | None]


def _open_readings(after: int) -> Sequence[OpenReading]:
    """The next chunk of readings that may still move: pending, or held at an unknown gate."""
    return db.session.execute(
        select(
            Transit.id,
            Transit.status,
            Transit.plate,
            Transit.read_at,
            Transit.gate,
            Transit.direction,
            Transit.image_file,
        )
        .where(
            Transit.id > after,
            Transit.status.in_((TransitStatus.PENDING.value, TransitStatus.HELD.value)),
            Transit.plate.is_not(None),
        )
        .order_by(Transit.id)
        .limit(CHUNK)
    ).all()


def _change(
    judgement: Judgement, held: bool, read_at: dt.datetime, deadline: Deadline
) -> tuple[str, dict[str, Any]] | None:
    """Which count a reading moves and its new values; None while it stays as it is."""
    if judgement.status is TransitStatus.AUTHORIZED:  # covered now: forget it as if authorized
        return CLEARED, {"status": TransitStatus.CLEARED.value, "zone": judgement.zone} | FORGOTTEN
    if judgement.status is TransitStatus.PENDING:
        if not held:
            return None  # still inside its window
        return JUDGED, {
            "status": TransitStatus.PENDING.value,
            "zone": judgement.zone,
            "pending_until": judgement.pending_until,
            "considered": judgement.considered,
        }
    return VIOLATIONS, {
        "status": TransitStatus.VIOLATION.value,
        "zone": judgement.zone,
        "considered": judgement.considered,
        "notify_by": notify_by(read_at, deadline.days, deadline.timezone),
    }


def forget_pictures(names: list[str]) -> None:
    """Remove pictures whose rows no longer point at them (after the change committed)."""
    folder = upload_folder()
    for name in names:
        discard_upload(Path(folder) / name)
