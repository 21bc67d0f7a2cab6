"""Every committed permit change bumps the enforcement version, in the same transaction.

Why a session hook rather than a call in each service: issuance, revocation, plate change, renewal,
surrender, expiry and retention all change permits, and a forgotten call would leave every other
process answering from a stale index. The hook collects the ids of permits (and of their plates,
zones and windows) touched by each flush, and just before commit takes the enforcement_state row
lock, bumps the version and logs the ids under it. Taking that lock last keeps the lock order the
same in every transaction (no deadlock with the number counter or the revocation list), and holding
it until commit makes versions commit in order, so "everything after version N" misses nothing.

Bulk UPDATE statements bypass the ORM and therefore this hook: code that changes permits that way
must call `mark_changed` itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import event, insert, select, update
from sqlalchemy.orm import Session

from ztl.models import (
    Category,
    CategoryWindow,
    CategoryZone,
    City,
    EnforcementChange,
    EnforcementState,
    Gate,
    Permit,
    PermitPlate,
    PermitWindow,
    PermitZone,
    Zone,
    utcnow,
)

PENDING_KEY = "ztl_enforcement_changed_permits"
# Logged instead of a permit id when the city changes (zones, their calendars, gates, categories):
# every process then rebuilds its whole index (zone calendars and retroactive windows live in it).
CONFIGURATION = 0
CONFIGURATION_TYPES = (City, Zone, Gate, Category, CategoryWindow, CategoryZone)
BUMPED_KEY = "ztl_enforcement_bumped"
STATE_ID = 1


class _LocalCommits:
    """How many version bumps this process has committed: its own changes are seen at once."""

    count = 0


def local_commits() -> int:
    return _LocalCommits.count


def mark_changed(session: Session, permit_ids: Iterable[int]) -> None:
    """Note permits changed outside the ORM's unit of work (bulk updates)."""
    session.info.setdefault(PENDING_KEY, set()).update(int(i) for i in permit_ids if i is not None)


def _collect(session: Session, _flush_context: Any) -> None:
    ids: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Permit):
            ids.add(obj.id)
        elif isinstance(obj, PermitPlate | PermitZone | PermitWindow):
            ids.add(obj.permit_id)
        elif isinstance(obj, CONFIGURATION_TYPES):
            ids.add(CONFIGURATION)
    ids.discard(None)
    if ids:
        mark_changed(session, ids)


def _bump(session: Session) -> None:
    session.flush()  # the commit's own flush comes after this hook: collect its permits first
    ids = session.info.pop(PENDING_KEY, None)
    if not ids:
        return
    connection = session.connection()
    bumped = connection.execute(
        update(EnforcementState)
        .where(EnforcementState.id == STATE_ID)
        .values(version=EnforcementState.version + 1, changed_at=utcnow())
    )
    if bumped.rowcount == 0:  # the migration seeds the row; an emptied database starts it again
        connection.execute(insert(EnforcementState).values(id=STATE_ID, version=1))
    version = connection.execute(
        select(EnforcementState.version).where(EnforcementState.id == STATE_ID)
    ).scalar_one()
    connection.execute(
        insert(EnforcementChange), [{"version": version, "permit_id": i} for i in sorted(ids)]
    )
    session.info[BUMPED_KEY] = True


def _committed(session: Session) -> None:
    if session.info.pop(BUMPED_KEY, False):
        _LocalCommits.count += 1


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(PENDING_KEY, None)
    session.info.pop(BUMPED_KEY, None)


def install_change_tracking() -> None:
    """Register the hooks on every Session (idempotent: create_app may run many times)."""
    if event.contains(Session, "after_flush", _collect):
        return
    event.listen(Session, "after_flush", _collect)
    event.listen(Session, "before_commit", _bump)
    event.listen(Session, "after_commit", _committed)
    event.listen(Session, "after_soft_rollback", _forget)
