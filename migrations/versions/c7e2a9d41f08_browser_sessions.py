"""browser sessions known to the server: signing out ends a session at once

Revision ID: c7e2a9d41f08
Revises: 9a4d6e2f1c57
Create Date: 2026-12-05 14:05:00.000000

A signed cookie is valid until it expires, wherever it was copied; a row per signed-in browser lets
sign-out, a deactivation or the person themself end it on the server. Existing cookies carry no
session token, so everyone signs in again once after the upgrade.
"""

import sqlalchemy as sa
from alembic import op

revision = "c7e2a9d41f08"
down_revision = "9a4d6e2f1c57"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "browser_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=40), nullable=True),
        sa.Column("browser", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name="fk_browser_session_user_id_user_account",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_browser_session"),
        sa.UniqueConstraint("token_hash", name="uq_browser_session_token_hash"),
    )
    op.create_index("ix_browser_session_user_id", "browser_session", ["user_id"])


def downgrade():
    op.drop_index("ix_browser_session_user_id", table_name="browser_session")
    op.drop_table("browser_session")
