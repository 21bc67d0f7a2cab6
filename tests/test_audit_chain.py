"""The audit trail's hash chain and `ztl audit verify`.

A chain built by normal use verifies; an edited, a deleted middle and a deleted last event are each
found and named; rows inserted around the application are found; a rewrite of the whole chain is
found only against an exported anchor (the limit the docstrings state); concurrent writers form one
chain in commit order; a savepoint rolled back leaves no hole; a missing head row is re-created;
and the migration chains the events stored before it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy.orm import Session

from tests.conftest import _psycopg_url, make_app, postgres_base_url
from tests.factories import issue_resident
from ztl.extensions import db
from ztl.infrastructure.events import record_event
from ztl.infrastructure.unit_of_work import Actor, unit_of_work
from ztl.models import AuditChainHead, Event
from ztl.records.audit_chain import (
    GENESIS_HASH,
    canonical_event,
    event_hash,
    personal_digest,
    verify_chain,
)

PREVIOUS_REVISION = "7b578601c8fd"


def _record(count: int, subject: str = "chain") -> list[int]:
    """`count` events, one transaction each; their ids."""
    ids = []
    for n in range(count):
        with unit_of_work() as session:
            event = record_event(
                session,
                Actor.cli(),
                "permit",
                subject,
                "noted",
                reason=f"nota {n} è così",
                data={"n": n, "nested": {"b": [1, 2.5, None], "a": "ü"}},
            )
            session.flush()
            ids.append(event.id)
    return ids


def _sql(statement: str, **params: Any) -> None:
    """Tampering as an attacker with database access would: raw SQL, around the application."""
    db.session.execute(sa.text(statement), params)
    db.session.commit()


def _raw_time(moment: dt.datetime) -> Any:
    """A time for raw SQL: SQLite stores UTC as text without its offset, as the column type does."""
    if db.engine.dialect.name == "sqlite":
        return moment.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")
    return moment


def _verify(runner: FlaskCliRunner, *extra: str) -> Any:
    return runner.invoke(args=["audit", "verify", *extra])


def _forged(row: Any, **changes: Any) -> dict[str, Any]:
    """The row with some fields changed and its personal digest recomputed, as an attacker who
    read the salt from the table would (the hash is then the attacker's to recompute too)."""
    forged = {**row, **changes}
    forged["personal_digest"] = personal_digest(row["personal_salt"], forged)
    return forged


def _chain() -> list[tuple[int, int, str, str]]:
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(Event.id, Event.chain_seq, Event.prev_hash, Event.hash).order_by(Event.chain_seq)
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_canonical_form_is_fixed() -> None:
    """Changing the canonical form would break every stored chain: this pins it."""
    fields = {
        "occurred_at": dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        "actor_user_id": 7,
        "actor_label": "clerk@comune.example",
        "subject_type": "permit",
        "subject_id": "42",
        "action": "revoked",
        "reason": "targa venduta, però",
        "data": {"z": 1, "a": {"y": [1, "x"], "b": None}},
    }
    salt = "0123456789abcdef" * 2
    assert (
        personal_digest(salt, fields)
        == hashlib.sha256(
            (
                salt + '{"actor_label":"clerk@comune.example","data":{"a":{"b":null,"y":[1,"x"]},'
                '"z":1},"reason":"targa venduta, però"}'
            ).encode()
        ).hexdigest()
    )
    fields["personal_digest"] = personal_digest(salt, fields)
    assert canonical_event(fields) == (
        '{"action":"revoked","actor_user_id":7,"occurred_at":"2026-03-28T23:30:00.000000+00:00",'
        f'"personal":"{fields["personal_digest"]}","subject_id":"42","subject_type":"permit"}}'
    )
    assert personal_digest("f" * 32, fields) != fields["personal_digest"]  # the salt hides it
    assert event_hash(GENESIS_HASH, fields) == event_hash(GENESIS_HASH, dict(fields))
    assert event_hash(GENESIS_HASH, fields) != event_hash("1" * 64, fields)
    assert len(event_hash(GENESIS_HASH, fields)) == 64


def test_normal_use_builds_a_chain_that_verifies(city: Flask, runner: FlaskCliRunner) -> None:
    issue_resident()
    _record(3)
    chain = _chain()
    assert len(chain) == 19, (
        chain
    )  # the demo load's, the issuance's (its fee paid at the counter too), the three
    assert [seq for _id, seq, _p, _h in chain] == list(range(1, len(chain) + 1))
    assert chain[0][2] == GENESIS_HASH
    assert all(chain[i][2] == chain[i - 1][3] for i in range(1, len(chain)))
    head = db.session.get(AuditChainHead, 1)
    assert head is not None
    assert (head.last_seq, head.last_hash) == (len(chain), chain[-1][3])

    result = _verify(runner)
    assert result.exit_code == 0, result.output
    assert f"audit trail intact: {len(chain)} events checked" in result.output
    assert f"chain head: {len(chain)}:{chain[-1][3]}" in result.output


def test_an_empty_trail_verifies(app: Flask, runner: FlaskCliRunner) -> None:
    result = _verify(runner)
    assert result.exit_code == 0, result.output
    assert "0 events checked" in result.output


def test_an_edited_reason_is_found_and_named(app: Flask, runner: FlaskCliRunner) -> None:
    ids = _record(5)
    _sql("UPDATE event SET reason = 'nothing happened' WHERE id = :id", id=ids[2])
    result = _verify(runner)
    assert result.exit_code == 1, result.output
    assert f"event {ids[2]} (position 3) was altered" in result.output
    assert "2 events checked before the break" in result.output


def test_an_edit_with_its_hash_recomputed_breaks_the_next_link(
    app: Flask, runner: FlaskCliRunner
) -> None:
    ids = _record(4)
    row = db.session.execute(sa.select(*Event.__table__.c).where(Event.id == ids[1])).one()._mapping
    forged = _forged(row, data={"n": 99})
    _sql(
        "UPDATE event SET data = :data, personal_digest = :personal, hash = :hash WHERE id = :id",
        data='{"n": 99}',
        personal=forged["personal_digest"],
        hash=event_hash(row["prev_hash"], forged),
        id=ids[1],
    )
    result = _verify(runner)
    assert result.exit_code == 1, result.output
    assert f"event {ids[2]} (position 3): prev_hash does not match the hash of event {ids[1]}" in (
        result.output
    )


def test_a_deleted_middle_event_is_found(app: Flask, runner: FlaskCliRunner) -> None:
    ids = _record(5)
    _sql("DELETE FROM event WHERE id = :id", id=ids[2])
    result = _verify(runner)
    assert result.exit_code == 1, result.output
    assert f"event {ids[3]} (position 4): the events at position 3 are missing" in result.output


def test_a_deletion_hidden_by_renumbering_is_found(app: Flask, runner: FlaskCliRunner) -> None:
    ids = _record(5)
    _sql("DELETE FROM event WHERE id = :id", id=ids[1])
    for later in ids[2:]:
        _sql("UPDATE event SET chain_seq = chain_seq - 1 WHERE id = :id", id=later)
    _sql("UPDATE audit_chain_head SET last_seq = last_seq - 1")
    result = _verify(runner)
    assert result.exit_code == 1, result.output
    assert f"event {ids[2]} (position 2): prev_hash does not match" in result.output


def test_a_deleted_last_event_is_found_by_the_head(app: Flask, runner: FlaskCliRunner) -> None:
    ids = _record(4)
    _sql("DELETE FROM event WHERE id = :id", id=ids[-1])
    result = _verify(runner)
    assert result.exit_code == 1, result.output
    assert "the chain ends at position 3 but its head names position 4" in result.output
    assert "the last 1 event was deleted" in result.output


def test_a_replaced_last_event_is_found_by_the_head(app: Flask, runner: FlaskCliRunner) -> None:
    """The last event edited and its hash recomputed: no later row, but the head, disagrees."""
    ids = _record(3)
    row = db.session.execute(sa.select(*Event.__table__.c).where(Event.id == ids[-1])).one()
    forged = dict(row._mapping, action="revoked")
    _sql(
        "UPDATE event SET action = 'revoked', hash = :h WHERE id = :id",
        h=event_hash(row.prev_hash, forged),
        id=ids[-1],
    )
    result = _verify(runner)
    assert result.exit_code == 1, result.output
    assert f"the last event (id {ids[-1]}, position 3) does not match the chain head" in (
        result.output
    )


def test_deleted_last_events_and_a_moved_head_are_found_by_an_anchor(
    app: Flask, runner: FlaskCliRunner
) -> None:
    """Deleting the last event and moving the head back is found against an exported anchor."""
    _record(4)
    before = _verify(runner)
    anchor = before.output.split("chain head: ")[1].split()[0]
    _sql("DELETE FROM event WHERE chain_seq = 4")
    chain = _chain()
    _sql("UPDATE audit_chain_head SET last_seq = 3, last_hash = :h", h=chain[-1][3])
    assert _verify(runner).exit_code == 0  # consistent on its own: only an anchor can tell
    result = _verify(runner, "--anchor", anchor)
    assert result.exit_code == 1, result.output
    assert "the exported anchor at position 4 is beyond the end of the chain" in result.output


def test_a_rewritten_chain_is_found_only_against_an_anchor(
    app: Flask, runner: FlaskCliRunner
) -> None:
    """What the chain does not prove: a full rewrite passes, unless an exported head disagrees."""
    ids = _record(4)
    anchor = _verify(runner).output.split("chain head: ")[1].split()[0]
    _sql("UPDATE event SET reason = 'rewritten' WHERE id = :id", id=ids[1])
    prev = GENESIS_HASH
    for event_id in ids:  # the attacker recomputes every hash from the edited row on
        row = (
            db.session.execute(sa.select(*Event.__table__.c).where(Event.id == event_id))
            .one()
            ._mapping
        )
        forged = _forged(row)
        digest = event_hash(prev, forged)
        _sql(
            "UPDATE event SET prev_hash = :p, personal_digest = :d, hash = :h WHERE id = :id",
            p=prev,
            d=forged["personal_digest"],
            h=digest,
            id=event_id,
        )
        prev = digest
    _sql("UPDATE audit_chain_head SET last_hash = :h", h=prev)

    assert _verify(runner).exit_code == 0
    result = _verify(runner, "--anchor", anchor)
    assert result.exit_code == 1, result.output
    assert f"event {ids[-1]} (position 4): its hash differs from the exported anchor" in (
        result.output
    )


def test_an_intact_chain_matches_its_anchor(app: Flask, runner: FlaskCliRunner) -> None:
    _record(2)
    anchor = _verify(runner).output.split("chain head: ")[1].split()[0]
    _record(2)
    result = _verify(runner, "--anchor", anchor)
    assert result.exit_code == 0, result.output
    assert "4 events checked" in result.output


@pytest.mark.parametrize("anchor", ["x", "3", "0:" + "a" * 64, "3:" + "a" * 63, "3:" + "g" * 64])
def test_a_malformed_anchor_is_bad_usage(app: Flask, runner: FlaskCliRunner, anchor: str) -> None:
    result = _verify(runner, "--anchor", anchor)
    assert result.exit_code == 2, result.output
    assert "SEQ:HASH" in result.output


def test_a_row_inserted_around_the_application_is_found(app: Flask, runner: FlaskCliRunner) -> None:
    _record(2)
    _sql(
        "INSERT INTO event (occurred_at, actor_label, subject_type, subject_id, action, data, "
        "chain_seq, prev_hash, hash) VALUES (:at, 'cli', 'permit', '1', 'issued', '{}', 0, '', '')",
        at=_raw_time(dt.datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=dt.UTC)),
    )
    planted = db.session.execute(sa.select(sa.func.max(Event.id))).scalar_one()
    result = _verify(runner)
    assert result.exit_code == 1, result.output
    assert f"event {planted} is outside the chain" in result.output


def test_a_row_appended_past_the_head_is_found(app: Flask, runner: FlaskCliRunner) -> None:
    _record(2)
    _sql(
        "INSERT INTO event (occurred_at, actor_label, subject_type, subject_id, action, data, "
        "chain_seq, prev_hash, hash) VALUES (:at, 'cli', 'permit', '1', 'issued', '{}', 3, '', '')",
        at=_raw_time(dt.datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=dt.UTC)),
    )
    result = _verify(runner)
    assert result.exit_code == 1, result.output
    assert "lies beyond the chain head (position 2)" in result.output


def test_a_deleted_head_row_is_recreated_and_the_break_reported(
    app: Flask, runner: FlaskCliRunner
) -> None:
    ids = _record(2)
    _sql("DELETE FROM audit_chain_head")
    assert "the chain head row (audit_chain_head) is missing" in _verify(runner).output
    new = _record(1)  # writing goes on: no duplicate position, a visible break instead
    assert _chain()[-1][:2] == (new[0], 3)
    result = _verify(runner)
    assert result.exit_code == 1, result.output
    assert f"event {new[0]} (position 3): prev_hash does not match the hash of event {ids[1]}" in (
        result.output
    )


def test_a_rolled_back_savepoint_leaves_no_hole(app: Flask, runner: FlaskCliRunner) -> None:
    with unit_of_work() as session:
        record_event(session, Actor.cli(), "permit", "1", "first")
        session.flush()
        savepoint = session.begin_nested()
        record_event(session, Actor.cli(), "permit", "1", "undone")
        session.flush()
        savepoint.rollback()
        record_event(session, Actor.cli(), "permit", "1", "second")
    actions = db.session.execute(sa.select(Event.action).order_by(Event.chain_seq)).scalars()
    assert list(actions) == ["first", "second"]
    result = _verify(runner)
    assert result.exit_code == 0, result.output
    assert "2 events checked" in result.output


def test_a_rolled_back_transaction_takes_no_position(app: Flask, runner: FlaskCliRunner) -> None:
    with pytest.raises(RuntimeError), unit_of_work() as session:
        record_event(session, Actor.cli(), "permit", "1", "lost")
        session.flush()
        raise RuntimeError("refused")
    _record(1)
    assert [seq for _i, seq, _p, _h in _chain()] == [1]
    assert _verify(runner).exit_code == 0


def test_positions_follow_commit_order_not_id_order(app: Flask, runner: FlaskCliRunner) -> None:
    """The event flushed first but committed last comes last in the chain."""
    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite serialises writers from their first write: no interleaving possible")
    first, second = Session(db.engine), Session(db.engine)
    try:
        early = record_event(first, Actor.cli(), "permit", "1", "flushed first")
        first.flush()
        late = record_event(second, Actor.cli(), "permit", "2", "flushed second")
        second.flush()
        assert early.id < late.id
        second.commit()
        first.commit()
        assert (late.chain_seq, early.chain_seq) == (1, 2)  # kept in step in memory too
    finally:
        first.close()
        second.close()
    assert [(i, s) for i, s, _p, _h in _chain()] == [(late.id, 1), (early.id, 2)]
    assert _verify(runner).exit_code == 0


def test_concurrent_writers_form_one_chain(app: Flask, runner: FlaskCliRunner) -> None:
    """8 threads x 20 transactions, each holding its id a while before committing."""
    threads_count, per_thread = 8, 20
    errors: list[BaseException] = []
    start = threading.Barrier(threads_count)

    def writer(number: int) -> None:
        pause = random.Random(number)
        try:
            with app.app_context():
                start.wait()
                for n in range(per_thread):
                    with unit_of_work() as session:
                        record_event(
                            session, Actor.cli(), "permit", str(number), "noted", data={"n": n}
                        )
                        session.flush()  # the id is taken now; the position only at commit
                        time.sleep(pause.random() / 500)
                db.session.remove()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []

    chain = _chain()
    total = threads_count * per_thread
    assert [seq for _i, seq, _p, _h in chain] == list(range(1, total + 1))
    result = _verify(runner)
    assert result.exit_code == 0, result.output
    assert f"{total} events checked" in result.output
    if db.engine.dialect.name == "postgresql":
        ids = [event_id for event_id, _s, _p, _h in chain]
        print(f"PostgreSQL: chain order differs from id order: {ids != sorted(ids)}")


# --- the migration ---------------------------------------------------------------------------


@pytest.fixture
def fresh_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the same engine, apart from the session's migrated one."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    base = postgres_base_url()
    assert base is not None
    schema = f"ztl_audit_{secrets.token_hex(4)}"
    admin = sa.create_engine(_psycopg_url(base))
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    yield f"{_psycopg_url(base)}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def test_the_migration_chains_existing_events(fresh_database: str, tmp_path: Path) -> None:
    from flask_migrate import upgrade

    fresh = make_app(fresh_database, tmp_path / "instance")
    with fresh.app_context():
        upgrade(revision=PREVIOUS_REVISION)
        rows: list[dict[str, Any]] = [
            {
                "occurred_at": dt.datetime(2025, 1, 1, 12, tzinfo=dt.UTC)
                + dt.timedelta(minutes=n, microseconds=n * 7),
                "actor_label": "cli" if n % 2 else "clerk@comune.example",
                "subject_type": "permit",
                "subject_id": str(n),
                "action": "issued",
                "reason": None if n % 3 else f"motivo {n}: città",
                "data": f'{{"n": {n}, "b": [1, 2.5], "a": {{"z": null, "c": "è"}}}}',
            }
            for n in range(1, 13)
        ]
        db.session.execute(
            sa.text(
                "INSERT INTO event (occurred_at, actor_label, subject_type, subject_id, action, "
                "reason, data) VALUES (:occurred_at, :actor_label, :subject_type, :subject_id, "
                ":action, :reason, :data)"
            ),
            [{**r, "occurred_at": _raw_time(r["occurred_at"])} for r in rows],
        )
        db.session.commit()
        db.session.remove()

        upgrade()
        report = verify_chain(db.session())
        assert report.intact, report.problem
        assert (report.checked, report.head_seq) == (12, 12)
        db.session.rollback()
        seqs = db.session.execute(sa.select(Event.chain_seq).order_by(Event.id)).scalars()
        assert list(seqs) == list(range(1, 13))

        _record(1)  # the application continues the migrated chain
        report = verify_chain(db.session())
        assert report.intact, report.problem
        assert report.checked == 13
        db.session.remove()
        db.engine.dispose()
