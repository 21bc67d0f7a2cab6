"""notifications and hotel booklets

Revision ID: b6bbe2cb4d39
Revises: 7c1e2f5a9b30
Create Date: 2026-11-25 09:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "b6bbe2cb4d39"
down_revision = "7c1e2f5a9b30"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "hotel_booklet",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("holder_id", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("payment_reference", sa.String(length=40), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("price_cents >= 0", name=op.f("ck_hotel_booklet_price")),
        sa.CheckConstraint("used >= 0 AND used <= size", name=op.f("ck_hotel_booklet_used")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_hotel_booklet_user_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotel_booklet")),
        sa.UniqueConstraint("payment_reference", name=op.f("uq_hotel_booklet_payment_reference")),
    )
    with op.batch_alter_table("hotel_booklet", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hotel_booklet_holder_id"), ["holder_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_hotel_booklet_user_id"), ["user_id"], unique=False)

    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("permit_id", sa.Integer(), nullable=True),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
            name=op.f("fk_notification_application_id_application"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["permit_id"],
            ["permit.id"],
            name=op.f("fk_notification_permit_id_permit"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
        sa.UniqueConstraint("kind", "permit_id", name="uq_notification_kind_permit"),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index("ix_notification_application", ["application_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_notification_permit_id"), ["permit_id"], unique=False)


def downgrade():
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_permit_id"))
        batch_op.drop_index("ix_notification_application")

    op.drop_table("notification")
    with op.batch_alter_table("hotel_booklet", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hotel_booklet_user_id"))
        batch_op.drop_index(batch_op.f("ix_hotel_booklet_holder_id"))

    op.drop_table("hotel_booklet")
