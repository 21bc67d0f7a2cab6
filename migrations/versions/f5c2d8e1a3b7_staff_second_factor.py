"""staff second factor: time-based one-time codes (TOTP) and recovery codes

Revision ID: f5c2d8e1a3b7
Revises: e4b1c3a7d2f6
Create Date: 2026-12-06 09:00:00.000000

Clerks, supervisors, police and administrators sign in with a password and a one-time code
(ztl/accounts/second_factor.py). `second_factor` holds one authenticator per account: its secret
encrypted with AES-GCM (never in clear) and the last time step accepted, so that a code is used
once. `recovery_code` holds the SHA-256 of each recovery code and when it was spent. Existing
accounts have neither: in production they enrol at their next sign-in.
"""

import sqlalchemy as sa
from alembic import op

revision = "f5c2d8e1a3b7"
down_revision = "e4b1c3a7d2f6"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "second_factor",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("last_step", sa.Integer(), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name="fk_second_factor_user_id_user_account",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name="pk_second_factor"),
    )
    op.create_table(
        "recovery_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name="fk_recovery_code_user_id_user_account",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_recovery_code"),
        sa.UniqueConstraint("user_id", "code_hash", name="uq_recovery_code_user_id_code_hash"),
    )


def downgrade():
    op.drop_table("recovery_code")
    op.drop_table("second_factor")
