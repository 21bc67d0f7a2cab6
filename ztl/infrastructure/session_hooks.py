"""Work a transaction owes before it commits, collected as it goes: one set of session hooks.

Two parts of the service must write something in the very transaction that changes the data they
describe, whichever code path made the change: the enforcement change log
(`ztl.enforcement.changes`: a changed permit bumps the enforcement version, so every process
reloads it) and the audit chain (`ztl.records.audit_chain`: new events get their chain
positions). Each is a `Participant`: after every flush it names the ids the flush touched
(`collect`), and before the outermost commit it does its work on all of them at once (`apply`),
taking its lock there and holding it to commit. This module is the only place that listens to the
SQLAlchemy session for them, so that the pending work is kept one way for both.

Savepoints. The pending ids are kept per transaction level: one frame for the transaction, one
more for each open savepoint (`Session.begin_nested()`). A flush adds to the innermost frame open
at that moment (the flush that `begin_nested` runs first still belongs to the level outside it).
A savepoint released (committed) hands its frame to the level around it; a savepoint rolled back
throws away its own frame, and only that: the database undid what was done inside it, and nothing
of what came before. The transaction's end, committed or rolled back, forgets everything. Before
this module each participant kept one set in `session.info` and had to guess what a rollback
meant; the enforcement log emptied its set on any rollback, so a permit revoked before a savepoint
that then failed (`bump_revocation_sequence` inserts a missing row in one) was never logged, and
every other process kept answering that the permit authorised its plate.

When the participants run. Only at the outermost commit, in `PARTICIPANTS` order: never when a
savepoint is released (SQLAlchemy fires `before_commit` for that too), because what a savepoint
did may still be undone by the level around it, and because a lock taken there would be taken in
the middle of the transaction rather than last. Each participant first flushes the session (the
commit's own flush comes after `before_commit`), so nothing still unflushed is missed. Code that
calls `Transaction.commit()` on the outer transaction while a savepoint is still open (rather
than `Session.commit()`, which releases the savepoints first) is not supported: the outer
before_commit cannot be told from the savepoint's, and the work is logged as lost.

Paths around the hooks: bulk SQL (UPDATE/INSERT statements) is not seen by a flush. Code that
writes that way tells the participant with `note` (`mark_changed` does it for the enforcement index).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, scoped_session

# The participants, in the order they run before every commit: modules exposing SESSION_HOOK.
#
# Why this order: each participant takes a row lock when it runs and holds it until commit (the
# enforcement_state row, then the audit_chain_head row). Every transaction must take those locks
# in one and the same order, or two transactions each holding one would wait for the other for
# ever (a deadlock, which PostgreSQL breaks by failing one of them). The enforcement lock comes
# first, because it is the one taken last of the service's own locks (after the permit number
# counter and the revocation list, see ztl.enforcement.changes), and the audit head after it.
# A new participant goes where its lock belongs in that order.
PARTICIPANTS: tuple[str, ...] = (
    "ztl.enforcement.changes",
    "ztl.records.audit_chain",
)

STATE_KEY = "ztl_session_hooks"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Participant:
    """One kind of work owed before commit; `name` keys its pending ids."""

    name: str
    # After every flush (session.new, .dirty and .deleted still hold what was flushed): the ids
    # this flush touched. None and duplicates are dropped.
    collect: Callable[[Session], Iterable[int | None]]
    # Before the outermost commit, when ids are pending: the work, on every pending id at once.
    apply: Callable[[Session, set[int]], None]
    # After the outermost commit, when `apply` ran in it.
    committed: Callable[[], None] | None = None


@dataclass
class _Frame:
    """The pending ids of one transaction level (`savepoint` None: the transaction itself)."""

    savepoint: SessionTransaction | None
    pending: dict[str, set[int]] = field(default_factory=dict)


@dataclass
class _State:
    """A session's pending work: a frame per open level, the innermost last."""

    frames: list[_Frame] = field(default_factory=lambda: [_Frame(None)])
    applied: list[str] = field(default_factory=list)  # participants that ran in this commit

    def frame_for(self, savepoint: SessionTransaction | None) -> _Frame:
        for frame in reversed(self.frames):
            if frame.savepoint is savepoint:
                return frame
        return self.frames[-1]  # a savepoint opened before the hooks were installed

    def index_of(self, savepoint: SessionTransaction) -> int | None:
        for position, frame in enumerate(self.frames):
            if frame.savepoint is savepoint:
                return position
        return None

    def release(self, savepoint: SessionTransaction) -> None:
        """The savepoint committed: its ids (and any inner level's) join the level around it."""
        position = self.index_of(savepoint)
        if position is None or position == 0:
            return
        outer = self.frames[position - 1]
        for frame in self.frames[position:]:
            for name, ids in frame.pending.items():
                outer.pending.setdefault(name, set()).update(ids)
        del self.frames[position:]

    def discard(self, savepoint: SessionTransaction) -> None:
        """The savepoint ended without committing (rolled back): its ids are forgotten."""
        position = self.index_of(savepoint)
        if position is not None and position > 0:
            del self.frames[position:]

    def take(self, name: str) -> set[int]:
        """Every pending id of a participant, removed from every level."""
        ids: set[int] = set()
        for frame in self.frames:
            ids |= frame.pending.pop(name, set())
        return ids

    def pending_names(self) -> list[str]:
        return sorted({name for frame in self.frames for name, ids in frame.pending.items() if ids})


class _Registry:
    participants: tuple[Participant, ...] = ()


def installed_participants() -> tuple[Participant, ...]:
    """The participants in the order they run (empty before `install_session_hooks`)."""
    return _Registry.participants


def _real(session: Session | scoped_session[Any]) -> Session:
    return session() if isinstance(session, scoped_session) else session


def _state(session: Session) -> _State:
    state: _State | None = session.info.get(STATE_KEY)
    if state is None:
        state = session.info[STATE_KEY] = _State()
    return state


def note(session: Session | scoped_session[Any], name: str, ids: Iterable[int | None]) -> None:
    """Add ids to a participant's pending work, at the innermost level open now."""
    real = _real(session)
    wanted = {int(i) for i in ids if i is not None}
    if not wanted:
        return
    state = _state(real)
    frame = state.frame_for(real.get_nested_transaction())
    frame.pending.setdefault(name, set()).update(wanted)


# --- the session events ------------------------------------------------------------------------


def _after_flush(session: Session, _flush_context: Any) -> None:
    for participant in _Registry.participants:
        note(session, participant.name, participant.collect(session))


def _after_transaction_create(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        _state(session).frames.append(_Frame(transaction))


def _before_commit(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint is being released: its work waits for the outermost commit
    for participant in _Registry.participants:
        session.flush()  # the commit's own flush comes after this hook: collect its ids first
        ids = _state(session).take(participant.name)
        if ids:
            participant.apply(session, ids)
            _state(session).applied.append(participant.name)
    session.flush()
    late = _state(session).pending_names()
    if late:
        raise RuntimeError(
            f"session hooks: work for {', '.join(late)} appeared after it had run in this commit; "
            "the participant that caused it must come earlier in ztl.infrastructure.session_hooks.PARTICIPANTS"
        )


def _after_commit(session: Session) -> None:
    state: _State | None = session.info.get(STATE_KEY)
    if state is None:
        return
    savepoint = session.get_nested_transaction()
    if savepoint is not None:
        state.release(savepoint)
        return
    session.info.pop(STATE_KEY, None)
    lost = state.pending_names()
    if lost:  # the outer transaction committed past an open savepoint (see the module docstring)
        log.error("session hooks: %s never ran for this committed transaction", ", ".join(lost))
    applied = set(state.applied)
    for participant in _Registry.participants:
        if participant.name in applied and participant.committed is not None:
            participant.committed()


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    state: _State | None = session.info.get(STATE_KEY)
    if state is None:
        return
    if transaction.nested:
        state.discard(transaction)  # released ones were handed on in after_commit already
    elif transaction.parent is None:
        session.info.pop(STATE_KEY, None)  # committed or rolled back: nothing is owed any more


_LISTENERS: tuple[tuple[str, Callable[..., None]], ...] = (
    ("after_flush", _after_flush),
    ("after_transaction_create", _after_transaction_create),
    ("before_commit", _before_commit),
    ("after_commit", _after_commit),
    ("after_transaction_end", _after_transaction_end),
)


def install_session_hooks() -> None:
    """Register the hooks on every Session, once per process (create_app may run many times)."""
    if _Registry.participants:
        return
    participants: list[Participant] = []
    for module_name in PARTICIPANTS:
        participant = importlib.import_module(module_name).SESSION_HOOK
        if not isinstance(participant, Participant):
            raise TypeError(f"{module_name}.SESSION_HOOK is not a session hook Participant")
        participants.append(participant)
    names = [p.name for p in participants]
    if len(set(names)) != len(names):
        raise ValueError(f"session hook participants share a name: {names}")
    _Registry.participants = tuple(participants)
    for name, listener in _LISTENERS:
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
