"""several nodes: the daily jobs' runs, and each e-mail's idempotency key

Revision ID: c4f7a2d9e815
Revises: b8e2d4f6a913
Create Date: 2026-12-06 09:00:00.000000

job_run: one row per daily job and local day, claimed by the first scheduler that asks (whichever
node), so a day's run happens once. notification.idempotency_key: a message taken again from the
queue after a worker died is recognised and not sent twice.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4f7a2d9e815'
down_revision = 'b8e2d4f6a913'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'job_run',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('queued_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('output', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name', 'day', name='uq_job_run_name_day'),
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idempotency_key', sa.String(length=120), nullable=True))
        batch_op.create_unique_constraint('uq_notification_idempotency_key', ['idempotency_key'])


def downgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_constraint('uq_notification_idempotency_key', type_='unique')
        batch_op.drop_column('idempotency_key')
    op.drop_table('job_run')
