"""Every committed permit change bumps the enforcement version, in the same transaction.

Why a session hook rather than a call in each service: issuance, revocation, plate change, renewal,
surrender, expiry and retention all change permits, and a forgotten call would leave every other
process answering from a stale index. The hook collects the ids of permits (and of their plates,
zones and windows) touched by each flush, and just before commit takes the enforcement_state row
lock, bumps the version and logs the ids under it. Taking that lock last keeps the lock order the
same in every transaction (no deadlock with the number counter or the revocation list), and holding
it until commit makes versions commit in order, so "everything after version N" misses nothing.

The hook is `SESSION_HOOK`, run by ztl.infrastructure.session_hooks (which also runs the audit chain's, after this
one): the ids are kept per transaction level there, so a savepoint rolled back forgets only the
permits changed inside it, never those changed before it in the same transaction.

After the commit, a notice is published on the shared Redis when there is one (ztl.cluster.notices),
so every other process re-reads the version at once instead of at its next poll.

Bulk UPDATE statements bypass the ORM and therefore this hook: code that changes permits that way
must call `mark_changed` itself.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from ztl.cluster.notices import on, publish
from ztl.infrastructure.session_hooks import Participant, note
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

HOOK_NAME = "enforcement_changes"
# Logged instead of a permit id when the city changes (zones, their calendars, gates, categories):
# every process then rebuilds its whole index (zone calendars and retroactive windows live in it).
CONFIGURATION = 0
CONFIGURATION_TYPES = (City, Zone, Gate, Category, CategoryWindow, CategoryZone)
STATE_ID = 1
NOTICE = "enforcement"  # published after every committed bump (ztl.cluster.notices)


class _LocalCommits:
    """How many version bumps this process has committed: its own changes are seen at once."""

    count = 0


def local_commits() -> int:
    return _LocalCommits.count


def mark_changed(session: Session, permit_ids: Iterable[int]) -> None:
    """Note permits changed outside the ORM's unit of work (bulk updates)."""
    note(session, HOOK_NAME, permit_ids)


def _collect(session: Session) -> set[int | None]:
    """After a flush: the permits it touched (CONFIGURATION for a change to the city)."""
    ids: set[int | None] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Permit):
            ids.add(obj.id)
        elif isinstance(obj, PermitPlate | PermitZone | PermitWindow):
            ids.add(obj.permit_id)
        elif isinstance(obj, CONFIGURATION_TYPES):
            ids.add(CONFIGURATION)
    return ids  # None (an object without its id yet) is dropped by `note`


def _bump(session: Session, ids: set[int]) -> None:
    """Before commit: take the enforcement_state row, bump the version, log the ids under it."""
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


def _committed() -> None:
    _LocalCommits.count += 1
    publish(NOTICE)  # the other processes and nodes, at once when they share a Redis


class _Notices:
    """How many enforcement notices this process received: another process committed a change."""

    count = 0


def notices_received() -> int:
    return _Notices.count


def _notified(_text: str | None) -> None:
    _Notices.count += 1


on(NOTICE, _notified)


SESSION_HOOK = Participant(HOOK_NAME, collect=_collect, apply=_bump, committed=_committed)
