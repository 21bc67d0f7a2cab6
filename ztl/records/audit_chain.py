"""The audit trail's hash chain: every committed event is linked to the one committed before it.

What it proves. Each event row carries its position in the chain (`chain_seq`, 1, 2, 3... in commit
order), the hash of the event before it (`prev_hash`) and its own `hash`: the hex SHA-256 of
`prev_hash` followed by a canonical form of the event (see `canonical_event`).

Personal data and retention. An event's personal fields (who acted as a label, often an e-mail;
the reason, a clerk's or resident's words; the data, plates and evidence) enter the hash through a
salted digest (`personal_digest`: SHA-256 of a random per-event salt and the fields), not as they
are. Years later, when retention anonymises a permit or an application, `redact_events` blanks
those fields in its events and deletes the salt: the chain still verifies (the digest is still
there and still hashed), and without the salt the digest cannot be reversed by trying every plate
or codice fiscale. What stays verifiable for ever: when, which record, what action, which account.
`verify_chain` accepts a redacted event only if its personal fields are blank and its record
(permit or application) is anonymised; anything else redacted is reported as tampering. The one row of
`audit_chain_head` names the last position and hash. `verify_chain` walks the rows in position
order and recomputes every hash, so a row edited behind the application's back (a reason rewritten
with SQL) no longer matches its hash, a row deleted from the middle leaves a gap in the positions
(or, renumbered, a `prev_hash` that no longer matches the row before it), and rows deleted at the
end leave a head that names a position or a hash the table no longer has.

What it does not prove. Anyone with write access to the database can rewrite the whole chain from
the altered row onwards, head included: the hashes are not secret and not signed. The chain makes
tampering detectable only against a copy kept elsewhere: export the head (`ztl audit verify` prints
its position and hash) regularly, e.g. in the daily job's output, to a log host or to the
municipality's records, and check old anchors with `ztl audit verify --anchor SEQ:HASH`. A rewrite
must then also agree with every exported anchor, which a database administrator cannot reach.
The chain also says nothing about events that were never written (a change made without its event).

Why chain at commit and not at insert. Several processes (gunicorn workers, hosts) write events at
once, and ids are assigned at flush: id order is not commit order, and a transaction may hold its
ids for a long time before committing (or roll back). So a row is inserted with `chain_seq` 0 and
empty hashes, and the before-commit hook (`SESSION_HOOK`, run by ztl.infrastructure.session_hooks) gives the
transaction's new events their positions, in id order, while holding the lock on the head row until
commit: positions follow commit order and two transactions never take the same one. The hook runs
after the enforcement hook (ztl.enforcement.changes; the order is `ztl.infrastructure.session_hooks.PARTICIPANTS`),
so every transaction takes its locks in the same order (enforcement state, then audit head) and they
cannot deadlock on each other. A transaction without new events takes no lock. Events written inside
a savepoint that rolls back are forgotten with it; those written before it are still chained.

Paths around the hook. Only events added through the ORM session are chained (every service uses
`ztl.infrastructure.events.record_event`). No code inserts events with bulk SQL today; code that does
must report the new ids with `note(session, HOOK_NAME, ids)` (`ztl.infrastructure.session_hooks`)
in the same transaction, or `ztl audit verify`
reports those rows as outside the chain (chain_seq 0 once committed). Events are append-only:
updating or deleting one (even through the ORM) breaks the chain by design. Deleting a user
account would set `actor_user_id` of its events to NULL (the foreign key says SET NULL) and so show
as an edit; accounts are deactivated, never deleted.

The events stored before the chain existed were chained by the migration in id order.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, scoped_session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from ztl.extensions import db
from ztl.infrastructure.session_hooks import Participant
from ztl.models import Application, AuditChainHead, Event, Permit, utcnow

GENESIS_HASH = "0" * 64  # the prev_hash of the first event of a chain
HEAD_ID = 1
HOOK_NAME = "audit_chain"
CHUNK = 500  # ids per statement when chaining a transaction's events (SQLite's variable limit)
HASH_PATTERN = re.compile(r"[0-9a-f]{64}")

REDACTED_LABEL = "anonimizzato"  # the actor label of a redacted event
REDACTABLE_SUBJECTS = ("permit", "application")  # records that retention anonymises

# What the hash covers, read the same way when chaining and when verifying: these columns as they
# are, and the personal ones through their salted digest.
HASHED_COLUMNS = (
    Event.occurred_at,
    Event.actor_user_id,
    Event.subject_type,
    Event.subject_id,
    Event.action,
)
PERSONAL_COLUMNS = (Event.actor_label, Event.reason, Event.data)
CHAIN_COLUMNS = (
    Event.id,
    Event.chain_seq,
    Event.prev_hash,
    Event.hash,
    Event.personal_digest,
    Event.personal_salt,
    Event.redacted_at,
    *HASHED_COLUMNS,
    *PERSONAL_COLUMNS,
)


def _canonical_json(document: Mapping[str, Any]) -> str:
    """Sorted keys at every level, no spaces, UTF-8 text: the same on every engine and every run."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def personal_digest(salt: str, fields: Mapping[Any, Any]) -> str:
    """Hex SHA-256 of the event's salt and its personal fields (actor label, reason, data).

    The salt (32 hex characters, random per event) makes the digest a commitment that hides what
    it commits to: without it, a digest of "plate AB123CD" could be found by trying every plate.
    """
    document = {
        "actor_label": fields["actor_label"],
        "data": fields["data"],
        "reason": fields["reason"],
    }
    return hashlib.sha256((salt + _canonical_json(document)).encode("utf-8")).hexdigest()


def canonical_event(fields: Mapping[Any, Any]) -> str:
    """The event as one JSON text: its public fields and the digest of its personal ones.

    `occurred_at` in UTC ISO 8601 with microseconds. The fields are those of a row read back from
    the database (not the objects in memory), so what is hashed is exactly what `ztl audit verify`
    reads later; `personal_digest` is the stored one (see `personal_digest`).
    """
    occurred_at: dt.datetime = fields["occurred_at"]
    if occurred_at.tzinfo is None:  # defensive: the column type always returns aware UTC times
        occurred_at = occurred_at.replace(tzinfo=dt.UTC)
    document = {
        "action": fields["action"],
        "actor_user_id": fields["actor_user_id"],
        "occurred_at": occurred_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "personal": fields["personal_digest"],
        "subject_id": fields["subject_id"],
        "subject_type": fields["subject_type"],
    }
    return _canonical_json(document)


def event_hash(prev_hash: str, fields: Mapping[Any, Any]) -> str:
    """Hex SHA-256 of the previous hash (64 characters, so the join is unambiguous) and the event."""
    return hashlib.sha256((prev_hash + canonical_event(fields)).encode("utf-8")).hexdigest()


# --- chaining, in the transaction that writes the events -------------------------------------


def _collect(session: Session) -> list[int]:
    """After a flush: the events it inserted."""
    return [obj.id for obj in session.new if isinstance(obj, Event)]


def _insert_head_if_missing(connection: Connection, values: dict[str, Any]) -> None:
    """Create the head row unless a concurrent transaction just did (then wait for it)."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.execute(
            postgresql.insert(AuditChainHead).values(values).on_conflict_do_nothing()
        )
    elif dialect == "sqlite":
        connection.execute(sqlite.insert(AuditChainHead).values(values).on_conflict_do_nothing())
    else:
        connection.execute(insert(AuditChainHead).values(values))


def _lock_head(connection: Connection) -> tuple[int, str]:
    """Lock the head row until commit and return (last position, last hash).

    The migration seeds the row. If it is missing (the tests empty every table; or someone deleted
    it), it is created again: from the genesis hash after the highest position still stored, so
    an emptied database starts a fresh chain at 1 and a deleted head in a live database leaves a
    break that `ztl audit verify` reports, rather than stopping every write on a duplicate position.
    On SQLite FOR UPDATE is not rendered: the transaction already holds the database's write lock.
    """
    query = (
        select(AuditChainHead.last_seq, AuditChainHead.last_hash)
        .where(AuditChainHead.id == HEAD_ID)
        .with_for_update()
    )
    row = connection.execute(query).first()
    if row is None:
        highest = connection.execute(select(func.coalesce(func.max(Event.chain_seq), 0)))
        values = {
            "id": HEAD_ID,
            "last_seq": int(highest.scalar_one()),
            "last_hash": GENESIS_HASH,
            "changed_at": utcnow(),
        }
        _insert_head_if_missing(connection, values)
        row = connection.execute(query).one()
    return int(row.last_seq), str(row.last_hash)


def _chain_new_events(session: Session, ids: set[int]) -> None:
    """Before commit: give this transaction's new events their positions and hashes."""
    connection = session.connection()
    seq, prev = _lock_head(connection)
    ordered = sorted(ids)
    assigned: list[dict[str, Any]] = []
    for start in range(0, len(ordered), CHUNK):
        # A row that is gone (a noted id whose insert was undone) is simply not found; chained
        # ones are left alone.
        rows = connection.execute(
            select(*CHAIN_COLUMNS)
            .where(Event.id.in_(ordered[start : start + CHUNK]), Event.chain_seq == 0)
            .order_by(Event.id)
        )
        for row in rows:
            seq += 1
            salt = secrets.token_hex(16)
            personal = personal_digest(salt, row._mapping)
            digest = event_hash(prev, {**row._mapping, "personal_digest": personal})
            assigned.append(
                {
                    "b_id": row.id,
                    "b_seq": seq,
                    "b_prev": prev,
                    "b_hash": digest,
                    "b_salt": salt,
                    "b_personal": personal,
                }
            )
            prev = digest
    if not assigned:
        return
    connection.execute(
        update(Event)
        .where(Event.id == bindparam("b_id"))
        .values(
            chain_seq=bindparam("b_seq"),
            prev_hash=bindparam("b_prev"),
            hash=bindparam("b_hash"),
            personal_salt=bindparam("b_salt"),
            personal_digest=bindparam("b_personal"),
        ),
        assigned,
    )
    connection.execute(
        update(AuditChainHead)
        .where(AuditChainHead.id == HEAD_ID)
        .values(last_seq=seq, last_hash=prev, changed_at=utcnow())
    )
    # Keep the objects in memory in step (sessions that do not expire them on commit).
    for values in assigned:
        obj = session.identity_map.get(identity_key(Event, values["b_id"]))
        if obj is not None:
            set_committed_value(obj, "chain_seq", values["b_seq"])
            set_committed_value(obj, "prev_hash", values["b_prev"])
            set_committed_value(obj, "hash", values["b_hash"])
            set_committed_value(obj, "personal_salt", values["b_salt"])
            set_committed_value(obj, "personal_digest", values["b_personal"])


SESSION_HOOK = Participant(HOOK_NAME, collect=_collect, apply=_chain_new_events)


# --- redaction, by retention ------------------------------------------------------------------


def redact_events(
    session: Session | scoped_session[Any],
    subject_type: str,
    subject_ids: Iterable[int],
    now: dt.datetime,
) -> int:
    """Blank the personal fields of the chained events of these records; how many were blanked.

    For retention only (ztl.records.retention), in the transaction that anonymises the
    records: `verify_chain` accepts a redacted event only when its record is anonymised. The salt
    goes with the fields, so the digest left in the chain reveals nothing. Events not chained yet
    (written in this transaction, like the "anonymised" event itself) are left as they are.
    """
    if subject_type not in REDACTABLE_SUBJECTS:
        raise ValueError(f"only the events of {REDACTABLE_SUBJECTS} are redacted")
    ordered = sorted({str(i) for i in subject_ids})
    count = 0
    for start in range(0, len(ordered), CHUNK):
        result = session.execute(
            update(Event)
            .where(
                Event.subject_type == subject_type,
                Event.subject_id.in_(ordered[start : start + CHUNK]),
                Event.chain_seq > 0,
                Event.redacted_at.is_(None),
            )
            .values(
                actor_label=REDACTED_LABEL,
                reason=None,
                data={},
                personal_salt=None,
                redacted_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        count += int(result.rowcount)  # type: ignore[attr-defined]
    return count


def _is_blank(row: Any) -> bool:
    return (
        row.actor_label == REDACTED_LABEL
        and row.reason is None
        and not row.data
        and row.personal_salt is None
    )


def _illegitimate_redaction(
    session: Session, redacted: list[tuple[str, str, int]]
) -> tuple[int, str] | None:
    """The first redacted event whose record is not anonymised (erased around retention)."""
    anonymised: dict[str, set[int]] = {}
    for subject_type, model in (("permit", Permit), ("application", Application)):
        ids = sorted({int(s) for t, s, _e in redacted if t == subject_type and s.isdigit()})
        found: set[int] = set()
        for start in range(0, len(ids), CHUNK):
            found.update(
                session.scalars(
                    select(model.id).where(
                        model.id.in_(ids[start : start + CHUNK]), model.anonymised_at.is_not(None)
                    )
                )
            )
        anonymised[subject_type] = found
    for subject_type, subject_id, event_id in redacted:
        known = anonymised.get(subject_type, set())
        if not subject_id.isdigit() or int(subject_id) not in known:
            return event_id, (
                f"event {event_id} was redacted but its {subject_type} {subject_id} is not "
                "anonymised: its personal fields were erased around the application"
            )
    return None


# --- verification -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainReport:
    """What `verify_chain` found: intact, or the first problem and the event it concerns."""

    checked: int  # chained events whose hash was recomputed
    head_seq: int | None  # the head as read at the start (None: no head row)
    head_hash: str | None
    problem: str | None = None  # None: the chain is intact
    event_id: int | None = None  # the event the problem is about, when there is one
    redacted: int = 0  # events whose personal fields retention erased (still in the chain)

    @property
    def intact(self) -> bool:
        return self.problem is None


def parse_anchor(text: str) -> tuple[int, str]:
    """An exported head, "SEQ:HASH" (as `ztl audit verify` prints it); ValueError if malformed."""
    seq_text, _, digest = text.strip().partition(":")
    digest = digest.strip().lower()
    if not seq_text.strip().isdigit() or int(seq_text) < 1 or not HASH_PATTERN.fullmatch(digest):
        raise ValueError(f"anchor {text!r}: expected SEQ:HASH, e.g. 1234:{'ab' * 32}")
    return int(seq_text), digest


def verify_chain(
    session: Session,
    *,
    anchors: Mapping[int, str] | None = None,
    batch: int = 10_000,
    progress: Callable[[int], None] | None = None,
) -> ChainReport:
    """Walk the chain in position order, recompute every hash, and report the first broken link.

    Rows are streamed (`yield_per`), never all loaded: a million events take seconds and little
    memory. The head is read first and the walk stops at its position, so events committed while
    the walk runs (always after the head, since positions follow commit order) are not mistaken
    for tampering. `anchors` maps positions to hashes exported earlier; each must still match.
    """
    anchors = dict(anchors or {})
    head = session.execute(
        select(AuditChainHead.last_seq, AuditChainHead.last_hash).where(
            AuditChainHead.id == HEAD_ID
        )
    ).first()
    if head is None:
        first = session.execute(select(func.min(Event.id))).scalar_one_or_none()
        if first is None:
            return ChainReport(0, None, None) if not anchors else _missing_anchor(0, None, anchors)
        problem = "the chain head row (audit_chain_head) is missing: it was deleted"
        return ChainReport(0, None, None, problem)
    head_seq, head_hash = int(head.last_seq), str(head.last_hash)

    def broken(problem: str, event_id: int | None = None) -> ChainReport:
        return ChainReport(checked, head_seq, head_hash, problem, event_id)

    checked = 0
    redacted: list[tuple[str, str, int]] = []  # (subject type, subject id, event id)
    expected_seq, prev_hash, prev_id = 1, GENESIS_HASH, None
    rows = session.connection().execute(
        select(*CHAIN_COLUMNS)
        .where(Event.chain_seq > 0, Event.chain_seq <= head_seq)
        .order_by(Event.chain_seq)
        .execution_options(yield_per=batch)
    )
    try:
        for row in rows:
            seq = int(row.chain_seq)
            if seq < expected_seq:
                return broken(f"event {row.id}: chain position {seq} is used twice", row.id)
            if seq > expected_seq:
                missing = (
                    f"position {expected_seq}"
                    if seq == expected_seq + 1
                    else f"positions {expected_seq} to {seq - 1}"
                )
                return broken(
                    f"event {row.id} (position {seq}): the events at {missing} are missing "
                    "(deleted)",
                    row.id,
                )
            if row.prev_hash != prev_hash:
                before = f"event {prev_id}" if prev_id is not None else "the genesis hash"
                return broken(
                    f"event {row.id} (position {seq}): prev_hash does not match the hash of "
                    f"{before}: the previous row was altered, or rows were removed and the chain "
                    "renumbered",
                    row.id,
                )
            if row.redacted_at is None:
                salt = row.personal_salt
                if not salt or personal_digest(salt, row._mapping) != row.personal_digest:
                    return broken(
                        f"event {row.id} (position {seq}) was altered: its fields no longer "
                        "match its hash",
                        row.id,
                    )
            elif _is_blank(row):
                redacted.append((row.subject_type, row.subject_id, row.id))
            else:
                return broken(
                    f"event {row.id} (position {seq}) is marked as redacted but still holds "
                    "personal fields: it was altered",
                    row.id,
                )
            if event_hash(prev_hash, row._mapping) != row.hash:
                return broken(
                    f"event {row.id} (position {seq}) was altered: its fields no longer match "
                    "its hash",
                    row.id,
                )
            if seq in anchors and anchors.pop(seq) != row.hash:
                return broken(
                    f"event {row.id} (position {seq}): its hash differs from the exported anchor "
                    "(the chain was rewritten)",
                    row.id,
                )
            prev_hash, prev_id = row.hash, row.id
            expected_seq += 1
            checked += 1
            if progress is not None and checked % batch == 0:
                progress(checked)
    finally:
        rows.close()

    if checked != head_seq:
        gone = head_seq - checked
        return broken(
            f"the chain ends at position {checked} but its head names position {head_seq}: "
            f"the last {gone} event{'s' if gone != 1 else ''} {'were' if gone != 1 else 'was'} "
            "deleted",
            prev_id,
        )
    if prev_hash != head_hash:
        last = f"the last event (id {prev_id}, position {checked})" if prev_id else "the genesis"
        return broken(
            f"{last} does not match the chain head's hash: it was replaced, or the head was "
            "altered",
            prev_id,
        )
    illegitimate = _illegitimate_redaction(session, redacted)
    if illegitimate is not None:
        return broken(illegitimate[1], illegitimate[0])
    if anchors:
        return _missing_anchor(checked, head_seq, anchors, head_hash)
    report = _outside_rows(session, checked, head_seq, head_hash)
    return replace(report, redacted=len(redacted))


def verify_audit_trail(
    anchors: Mapping[int, str] | None = None, progress: Callable[[int], None] | None = None
) -> ChainReport:
    """`verify_chain` on the application's database, in a read-only transaction of its own."""
    session = db.session()
    try:
        return verify_chain(session, anchors=anchors, progress=progress)
    finally:
        session.rollback()


def _missing_anchor(
    checked: int, head_seq: int | None, anchors: Mapping[int, str], head_hash: str | None = None
) -> ChainReport:
    seq = min(anchors)
    problem = (
        f"the exported anchor at position {seq} is beyond the end of the chain "
        f"(position {head_seq or 0}): events were deleted and the head rewritten"
    )
    return ChainReport(checked, head_seq, head_hash, problem)


def _outside_rows(session: Session, checked: int, head_seq: int, head_hash: str) -> ChainReport:
    """Committed rows the walk did not reach: never chained, or past the head."""
    unchained = session.execute(
        select(Event.id, Event.chain_seq).where(Event.chain_seq <= 0).order_by(Event.id).limit(1)
    ).first()
    if unchained is not None:
        problem = (
            f"event {unchained.id} is outside the chain (chain_seq {unchained.chain_seq}): "
            "it was inserted around the application"
        )
        return ChainReport(checked, head_seq, head_hash, problem, unchained.id)
    beyond = session.execute(
        select(Event.id, Event.chain_seq)
        .where(Event.chain_seq > head_seq)
        .order_by(Event.chain_seq)
        .limit(1)
    ).first()
    if beyond is not None:
        # Committed after the head was read (positions follow commit order), or planted there.
        now_seq = session.execute(
            select(AuditChainHead.last_seq).where(AuditChainHead.id == HEAD_ID)
        ).scalar_one_or_none()
        if now_seq is None or beyond.chain_seq > now_seq:
            problem = (
                f"event {beyond.id} (position {beyond.chain_seq}) lies beyond the chain head "
                f"(position {now_seq if now_seq is not None else head_seq}): it was added around "
                "the application"
            )
            return ChainReport(checked, head_seq, head_hash, problem, beyond.id)
    return ChainReport(checked, head_seq, head_hash)
