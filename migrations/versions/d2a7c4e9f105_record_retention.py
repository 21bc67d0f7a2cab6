"""record retention: anonymised_at on applications and permits

Revision ID: d2a7c4e9f105
Revises: fc91bce0eee1
Create Date: 2026-11-26 09:15:00.000000

`ztl retention purge` anonymises permits and applications `[retention] records_years` after their
end (ztl/records/retention.py) and stamps them here, so a second run leaves them alone.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd2a7c4e9f105'
down_revision = 'fc91bce0eee1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anonymised_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('permit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anonymised_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('permit', schema=None) as batch_op:
        batch_op.drop_column('anonymised_at')

    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_column('anonymised_at')
