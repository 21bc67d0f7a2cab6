"""integrity the database enforces: one permit per application, one successor, guest nights, receipts

Revision ID: 9a4d6e2f1c57
Revises: 5e0c1d7a2b84
Create Date: 2026-12-05 13:55:00.000000

Invariants that held only while every code path took the right lock now hold in the database:
- a permit names the permit it replaced (`replaces_id`, unique): one successor per permit;
- at most one first permit per application (a partial unique index: successors are excluded);
- a hotel registers a plate at most once per night (`guest_night`, one row per night);
- a payment receipt is accepted once (`payment_notification`, partial unique index);
- a form submission is remembered (`form_submission`), so a repeat gets the first one's result.
Existing chains are carried over from `replaced_by_id`; existing guest registrations get their
nights, computed from their validity in the municipality's time zone.
"""

import datetime as dt
import json
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "9a4d6e2f1c57"
down_revision = "5e0c1d7a2b84"
branch_labels = None
depends_on = None


def _timezone(bind):
    row = bind.execute(sa.text("SELECT timezone FROM city ORDER BY id LIMIT 1")).first()
    return ZoneInfo(row[0] if row else "Europe/Rome")


def _as_utc(value):
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def upgrade():
    with op.batch_alter_table("permit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("replaces_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint("uq_permit_replaces_id", ["replaces_id"])
        batch_op.create_foreign_key(
            "fk_permit_replaces_id_permit", "permit", ["replaces_id"], ["id"], ondelete="SET NULL"
        )
    bind = op.get_bind()
    bind.execute(
        sa.text(
            "UPDATE permit SET replaces_id = (SELECT old.id FROM permit AS old "
            "WHERE old.replaced_by_id = permit.id) "
            "WHERE id IN (SELECT replaced_by_id FROM permit WHERE replaced_by_id IS NOT NULL)"
        )
    )
    op.create_index(
        "uq_permit_first_of_application",
        "permit",
        ["application_id"],
        unique=True,
        sqlite_where=sa.text("replaces_id IS NULL"),
        postgresql_where=sa.text("replaces_id IS NULL"),
    )
    op.create_table(
        "guest_night",
        sa.Column("holder_id", sa.String(length=16), nullable=False),
        sa.Column("plate", sa.String(length=12), nullable=False),
        sa.Column("night", sa.Date(), nullable=False),
        sa.Column("permit_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["permit_id"],
            ["permit.id"],
            name="fk_guest_night_permit_id_permit",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("holder_id", "plate", "night", name="pk_guest_night"),
    )
    op.create_index("ix_guest_night_permit_id", "guest_night", ["permit_id"], unique=False)
    _carry_guest_nights(bind)
    op.create_table(
        "payment_notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("receipt_id", sa.String(length=64), nullable=False),
        sa.Column("iuv", sa.String(length=40), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_payment_notification"),
    )
    op.create_index(
        "ix_payment_notification_receipt_id", "payment_notification", ["receipt_id"]
    )
    op.create_index("ix_payment_notification_iuv", "payment_notification", ["iuv"])
    op.create_index(
        "uq_payment_notification_accepted_receipt",
        "payment_notification",
        ["receipt_id"],
        unique=True,
        sqlite_where=sa.text("outcome = 'accepted'"),
        postgresql_where=sa.text("outcome = 'accepted'"),
    )
    _create_form_submission()


def _create_form_submission():
    op.create_table(
        "form_submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("endpoint", sa.String(length=80), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("location", sa.String(length=500), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name="fk_form_submission_user_id_user_account",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_form_submission"),
        sa.UniqueConstraint("key_hash", name="uq_form_submission_key_hash"),
    )
    op.create_index("ix_form_submission_user_id", "form_submission", ["user_id"])
    op.create_index("ix_form_submission_created_at", "form_submission", ["created_at"])


def _carry_guest_nights(bind):
    """Active hotel-guest registrations (permits issued from a booklet) keep their nights."""
    timezone = _timezone(bind)
    rows = bind.execute(
        sa.text(
            "SELECT p.id, p.holder_id, pp.plate, p.valid_from, p.valid_to, a.details "
            "FROM permit p JOIN permit_plate pp ON pp.permit_id = p.id "
            "JOIN application a ON a.id = p.application_id "
            "WHERE p.status = 'active'"
        )
    ).all()
    seen = set()
    for permit_id, holder, plate, valid_from, valid_to, details in rows:
        text = details if isinstance(details, str) else json.dumps(details or {})
        if '"booklet"' not in (text or ""):
            continue
        day = _as_utc(valid_from).astimezone(timezone).date()
        last = (_as_utc(valid_to) - dt.timedelta(microseconds=1)).astimezone(timezone).date()
        while day <= last:
            if (holder, plate, day) not in seen:
                seen.add((holder, plate, day))
                bind.execute(
                    sa.text(
                        "INSERT INTO guest_night (holder_id, plate, night, permit_id) "
                        "VALUES (:holder, :plate, :night, :permit)"
                    ),
                    {"holder": holder, "plate": plate, "night": day, "permit": permit_id},
                )
            day += dt.timedelta(days=1)


def downgrade():
    op.drop_index("ix_form_submission_created_at", table_name="form_submission")
    op.drop_index("ix_form_submission_user_id", table_name="form_submission")
    op.drop_table("form_submission")
    op.drop_index("uq_payment_notification_accepted_receipt", table_name="payment_notification")
    op.drop_index("ix_payment_notification_iuv", table_name="payment_notification")
    op.drop_index("ix_payment_notification_receipt_id", table_name="payment_notification")
    op.drop_table("payment_notification")
    op.drop_index("ix_guest_night_permit_id", table_name="guest_night")
    op.drop_table("guest_night")
    op.drop_index("uq_permit_first_of_application", table_name="permit")
    with op.batch_alter_table("permit", schema=None) as batch_op:
        batch_op.drop_constraint("fk_permit_replaces_id_permit", type_="foreignkey")
        batch_op.drop_constraint("uq_permit_replaces_id", type_="unique")
        batch_op.drop_column("replaces_id")
