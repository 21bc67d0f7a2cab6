"""audit chain: events chained by hash, and the chain head

Revision ID: fc91bce0eee1
Revises: 7b578601c8fd
Create Date: 2026-11-25 11:40:03.844728

Every event gets a position in the chain (chain_seq), the hash of the event before it (prev_hash)
and its own hash, which covers its personal fields through a salted digest (personal_salt,
personal_digest) so that retention can erase them later (redacted_at); audit_chain_head holds the
last position and hash (see ztl/records/audit_chain.py). The events already stored are chained here in id order (their commit
order is not known any more), with the same canonical form as the application: the function below
is a frozen copy, because a migration must not import application code that may change later.
"""
import datetime as dt
import hashlib
import json
import secrets

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'fc91bce0eee1'
down_revision = '7b578601c8fd'
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64
HEAD_ID = 1
BATCH = 5000

event = sa.table(
    "event",
    sa.column("id", sa.Integer()),
    sa.column("occurred_at", sa.DateTime(timezone=True)),
    sa.column("actor_user_id", sa.Integer()),
    sa.column("actor_label", sa.String()),
    sa.column("subject_type", sa.String()),
    sa.column("subject_id", sa.String()),
    sa.column("action", sa.String()),
    sa.column("reason", sa.Text()),
    sa.column("data", sa.JSON()),
    sa.column("chain_seq", sa.Integer()),
    sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
    sa.column("personal_digest", sa.String()),
    sa.column("personal_salt", sa.String()),
)
head = sa.table(
    "audit_chain_head",
    sa.column("id", sa.Integer()),
    sa.column("last_seq", sa.Integer()),
    sa.column("last_hash", sa.String()),
    sa.column("changed_at", sa.DateTime(timezone=True)),
)


def _canonical(document):
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _personal_digest(salt, row):
    """Frozen copy of ztl.records.audit_chain.personal_digest as of this revision."""
    document = {"actor_label": row.actor_label, "data": row.data, "reason": row.reason}
    return hashlib.sha256((salt + _canonical(document)).encode("utf-8")).hexdigest()


def _event_hash(prev_hash, row, personal):
    """Frozen copy of ztl.records.audit_chain.event_hash as of this revision."""
    occurred_at = row.occurred_at
    if occurred_at.tzinfo is None:  # SQLite keeps UTC without its offset
        occurred_at = occurred_at.replace(tzinfo=dt.UTC)
    document = {
        "action": row.action,
        "actor_user_id": row.actor_user_id,
        "occurred_at": occurred_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "personal": personal,
        "subject_id": row.subject_id,
        "subject_type": row.subject_type,
    }
    return hashlib.sha256((prev_hash + _canonical(document)).encode("utf-8")).hexdigest()


def _backfill(bind):
    """Chain the stored events in id order, a page at a time (keyset pagination)."""
    seq, prev, last_id = 0, GENESIS_HASH, 0
    chain = ("chain_seq", "prev_hash", "hash", "personal_digest", "personal_salt")
    columns = [c for c in event.c if c.name not in chain]
    update = (
        event.update()
        .where(event.c.id == sa.bindparam("b_id"))
        .values(
            chain_seq=sa.bindparam("b_seq"),
            prev_hash=sa.bindparam("b_prev"),
            hash=sa.bindparam("b_hash"),
            personal_digest=sa.bindparam("b_personal"),
            personal_salt=sa.bindparam("b_salt"),
        )
    )
    while True:
        rows = bind.execute(
            sa.select(*columns).where(event.c.id > last_id).order_by(event.c.id).limit(BATCH)
        ).all()
        if not rows:
            return seq, prev
        changes = []
        for row in rows:
            seq += 1
            salt = secrets.token_hex(16)
            personal = _personal_digest(salt, row)
            digest = _event_hash(prev, row, personal)
            changes.append(
                {"b_id": row.id, "b_seq": seq, "b_prev": prev, "b_hash": digest,
                 "b_personal": personal, "b_salt": salt}
            )
            prev = digest
        bind.execute(update, changes)
        last_id = rows[-1].id


def upgrade():
    op.create_table('audit_chain_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain_head'))
    )
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain_seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('personal_digest', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('personal_salt', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('redacted_at', sa.DateTime(timezone=True), nullable=True))

    last_seq, last_hash = _backfill(op.get_bind())
    op.bulk_insert(head, [{"id": HEAD_ID, "last_seq": last_seq, "last_hash": last_hash, "changed_at": dt.datetime.now(dt.UTC)}])

    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.alter_column('chain_seq', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('personal_digest', existing_type=sa.String(length=64), nullable=False, server_default='')
        batch_op.create_index('uq_event_chain_seq', ['chain_seq'], unique=True, sqlite_where=sa.text('chain_seq > 0'), postgresql_where=sa.text('chain_seq > 0'))


def downgrade():
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_index('uq_event_chain_seq', sqlite_where=sa.text('chain_seq > 0'), postgresql_where=sa.text('chain_seq > 0'))
        batch_op.drop_column('redacted_at')
        batch_op.drop_column('personal_salt')
        batch_op.drop_column('personal_digest')
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('chain_seq')

    op.drop_table('audit_chain_head')
