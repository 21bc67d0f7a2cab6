"""The session hooks (ztl.infrastructure.session_hooks) through savepoints, on SQLite and PostgreSQL.

What a transaction did before a savepoint that rolls back must still reach the enforcement change
log and the audit chain when it commits; what it did only inside that savepoint must not, at any
depth of nesting. The participants run once, at the outermost commit, in the declared order: the
enforcement lock before the audit chain's. Permits are changed with the revocation service's
`end_permit`, which writes an event too, so one change feeds both participants. What is observed
is what the rest of the system reads: the enforcement_change rows (and a second process's index),
the chain positions, and the statements sent to the database.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tests.factories import DEMO_OWN_CAR, DEMO_RESIDENT, issue_resident, make_permit
from ztl.demo.generator import car_plate
from ztl.enforcement.holder import IndexHolder
from ztl.extensions import db
from ztl.infrastructure import session_hooks
from ztl.infrastructure.events import record_event
from ztl.infrastructure.unit_of_work import Actor, unit_of_work
from ztl.models import (
    AuditChainHead,
    EnforcementChange,
    EnforcementState,
    Event,
    Permit,
    RevocationListState,
    utcnow,
)
from ztl.models.enums import PermitStatus
from ztl.permits.changes import end_permit
from ztl.records.audit_chain import verify_chain
from ztl.seals.trust_lists import STATE_ROW, bump_revocation_sequence

CLERK = Actor("test-clerk")


@pytest.fixture
def issued(city: Flask) -> int:
    """The demo resident's permit, and the revocation list's row (production always has it)."""
    result = issue_resident()
    with unit_of_work() as session:
        bump_revocation_sequence(session)
    return result.permit_id


def _revoke(session: Any, permit_id: int, reason: str = "veicolo venduto") -> None:
    permit = session.get(Permit, permit_id)
    assert permit is not None
    end_permit(session, permit, PermitStatus.REVOKED, CLERK, reason, utcnow())
    session.flush()


def _lost_race(session: Any) -> None:
    """A savepoint that fails, as `bump_revocation_sequence`'s does when another transaction
    created the revocation list's row first: the service catches the error and goes on."""
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(RevocationListState(id=STATE_ROW, sequence=1, changed_at=utcnow()))


def _version() -> int:
    return db.session.scalar(select(EnforcementState.version)) or 0


def _logged_since(version: int) -> set[int]:
    return set(
        db.session.scalars(
            select(EnforcementChange.permit_id).where(EnforcementChange.version > version)
        )
    )


def _chained(subject_id: str | None = None) -> list[tuple[str, str, int]]:
    """(subject, action, position) of every stored event (position 0: outside the chain)."""
    query = select(Event.subject_id, Event.action, Event.chain_seq).order_by(Event.id)
    if subject_id is not None:
        query = query.where(Event.subject_id == subject_id)
    return [(s, a, int(p)) for s, a, p in db.session.execute(query)]


def _head() -> tuple[int, str] | None:
    row = db.session.execute(select(AuditChainHead.last_seq, AuditChainHead.last_hash)).first()
    return None if row is None else (int(row[0]), str(row[1]))


@contextmanager
def _statements() -> Iterator[list[str]]:
    """The SQL sent to the database meanwhile, in order, lower case."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement.lower())

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _first(seen: list[str], fragment: str) -> int:
    return next(i for i, statement in enumerate(seen) if fragment in statement)


def _touching(seen: list[str], table: str) -> list[str]:
    return [s for s in seen if table in s]


# --- the enforcement change log --------------------------------------------------------------


def test_a_revocation_before_a_failed_savepoint_reaches_the_enforcement_log(
    app: Flask, issued: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bug this mechanism fixes: the savepoint's rollback used to drop the revocation too."""
    monkeypatch.setitem(app.config, "ZTL_ENFORCEMENT_REFRESH_SECONDS", 0)
    elsewhere = IndexHolder()  # another process's index, loaded while the permit is active
    assert elsewhere.current(db.session).check(DEMO_OWN_CAR, "A", time.time()).authorized
    version = _version()
    with unit_of_work() as session:
        _revoke(session, issued)
        _lost_race(session)
    assert _logged_since(version) == {issued}
    answer = elsewhere.current(db.session).check(DEMO_OWN_CAR, "A", time.time())
    assert not answer.authorized, "the other process still lets the revoked permit through"


def test_a_revocation_only_inside_a_rolled_back_savepoint_is_not_logged(
    app: Flask, issued: int
) -> None:
    version = _version()
    with _statements() as seen, unit_of_work() as session:
        savepoint = session.begin_nested()
        _revoke(session, issued)
        savepoint.rollback()
    assert db.session.get(Permit, issued).status == PermitStatus.ACTIVE.value  # type: ignore[union-attr]
    assert _version() == version and _logged_since(version) == set()
    assert _touching(seen, "enforcement_state") == []  # nothing owed: the lock is not even taken


def test_a_bulk_change_noted_before_a_failed_savepoint_is_logged(app: Flask, issued: int) -> None:
    """`mark_changed` (for bulk statements) notes at the level open then, like a flush does."""
    from ztl.enforcement.changes import mark_changed

    version = _version()
    with unit_of_work() as session:
        mark_changed(session(), [issued])
        _lost_race(session)
    assert _logged_since(version) == {issued}


# --- the audit chain --------------------------------------------------------------------------


def test_an_event_before_a_failed_savepoint_is_chained(app: Flask, issued: int) -> None:
    with unit_of_work() as session:
        _revoke(session, issued)  # writes the "revoked" event
        _lost_race(session)
    assert [(a, p > 0) for _s, a, p in _chained(str(issued))][-1] == ("revoked", True)
    assert verify_chain(db.session()).intact


def test_an_event_only_inside_a_rolled_back_savepoint_is_not_chained(
    app: Flask, issued: int
) -> None:
    head = _head()
    with _statements() as seen, unit_of_work() as session:
        savepoint = session.begin_nested()
        record_event(session, CLERK, "permit", issued, "undone")
        session.flush()
        savepoint.rollback()
    assert "undone" not in [a for _s, a, _p in _chained()]
    assert _head() == head
    assert _touching(seen, "audit_chain_head") == []  # nothing owed: the head is not locked
    assert verify_chain(db.session()).intact


# --- nesting ----------------------------------------------------------------------------------


def test_nested_savepoints_keep_exactly_what_was_committed(city: Flask) -> None:
    """A (outer) and B (in a released savepoint) count; C (in a savepoint rolled back inside B's)
    and D (released into a savepoint that then rolls back) do not."""
    for serial in range(1, 5):
        make_permit("1", car_plate(5_100_000 + serial), DEMO_RESIDENT, serial)
    a, b, c, d = db.session.scalars(select(Permit.id).order_by(Permit.serial)).all()
    with unit_of_work() as session:
        bump_revocation_sequence(session)
    version = _version()
    with _statements() as seen, unit_of_work() as session:
        _revoke(session, a)
        outer = session.begin_nested()
        _revoke(session, b)
        inner = session.begin_nested()
        _revoke(session, c)
        inner.rollback()
        outer.commit()
        doomed = session.begin_nested()
        kept_inside = session.begin_nested()
        _revoke(session, d)
        kept_inside.commit()
        doomed.rollback()
    assert _logged_since(version) == {a, b}
    assert _version() == version + 1  # one bump, at the outermost commit
    statuses = dict(db.session.execute(select(Permit.id, Permit.status)).all())
    assert [statuses[p] for p in (a, b, c, d)] == ["revoked", "revoked", "active", "active"]
    revoked = {subject for subject, action, p in _chained() if action == "revoked" and p > 0}
    assert revoked == {str(a), str(b)}
    assert verify_chain(db.session()).intact
    # Nothing ran when a savepoint was released: the locks come after the last savepoint.
    last_savepoint = max(i for i, s in enumerate(seen) if "savepoint" in s)
    assert _first(seen, "update enforcement_state") > last_savepoint
    assert _first(seen, "audit_chain_head") > last_savepoint


# --- order ------------------------------------------------------------------------------------


def test_the_participants_are_the_declared_ones_in_the_declared_order(app: Flask) -> None:
    declared = [importlib.import_module(m).SESSION_HOOK for m in session_hooks.PARTICIPANTS]
    assert list(session_hooks.installed_participants()) == declared
    assert [p.name for p in declared] == ["enforcement_changes", "audit_chain"]


def test_the_enforcement_lock_is_taken_before_the_audit_head(app: Flask, issued: int) -> None:
    with _statements() as seen, unit_of_work() as session:
        _revoke(session, issued)
    assert _first(seen, "update enforcement_state") < _first(seen, "audit_chain_head")


def test_the_order_is_the_declared_data(
    app: Flask, issued: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reversing the declaration reverses the locks: nothing else fixes the order."""
    reversed_order = tuple(reversed(session_hooks.installed_participants()))
    monkeypatch.setattr(session_hooks._Registry, "participants", reversed_order)
    with _statements() as seen, unit_of_work() as session:
        _revoke(session, issued)
    assert _first(seen, "audit_chain_head") < _first(seen, "update enforcement_state")


def test_a_plain_session_outside_the_app_gets_the_same_hooks(app: Flask, issued: int) -> None:
    """The hooks are on every Session, not only Flask-SQLAlchemy's: a bare one behaves alike."""
    version = _version()
    with Session(db.engine) as session:
        _revoke(session, issued)
        _lost_race(session)
        session.commit()
    assert _logged_since(version) == {issued}
