"""revocation list state

Revision ID: 7c1e2f5a9b30
Revises: 3411379f27a6
Create Date: 2026-11-25 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "7c1e2f5a9b30"
down_revision = "3411379f27a6"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "revocation_list_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revocation_list_state")),
    )


def downgrade():
    op.drop_table("revocation_list_state")
