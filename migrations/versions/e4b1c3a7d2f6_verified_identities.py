"""identities asserted by SPID/CIE providers: verified accounts, frozen self-declared ones

Revision ID: e4b1c3a7d2f6
Revises: c7e2a9d41f08
Create Date: 2026-12-05 16:10:00.000000

Existing accounts keep their identity and are marked self-declared (identity_verified_by null): the
first SPID/CIE sign-in asserting their codice fiscale either confirms them (same e-mail) or freezes
them in favour of the verified person.
"""

import sqlalchemy as sa
from alembic import op

revision = "e4b1c3a7d2f6"
down_revision = "c7e2a9d41f08"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("identity_verified_by", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("frozen_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("external_identity", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_acr", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("external_identity", schema=None) as batch_op:
        batch_op.drop_column("last_used_at")
        batch_op.drop_column("last_acr")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("frozen_at")
        batch_op.drop_column("identity_verified_by")
