"""transit ledger: gates' readings, their hourly counts and refused messages; gate tokens

Revision ID: b8e2d4f6a913
Revises: a7c3e5f9b214
Create Date: 2026-12-06 06:00:00.000000

The ledger of ztl/transits/: one row per gate reading (authorized ones without plate, instant or
picture), the counts per gate and hour that outlive purged rows, the MQTT messages that could not
be read as transits, and the gate a gate token speaks for.
"""

from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = 'b8e2d4f6a913'
down_revision = 'a7c3e5f9b214'
branch_labels = None
depends_on = None

STATUSES = "'authorized', 'pending', 'cleared', 'violation', 'confirmed', 'dismissed', 'held'"


def upgrade():
    op.create_table(
        'transit',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('gate', sa.String(length=20), nullable=False),
        sa.Column('source_id', sa.String(length=64), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('hour', sa.DateTime(timezone=True), nullable=False),
        sa.Column('skew_seconds', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=10), nullable=False),
        sa.Column('answer', sa.String(length=12), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('zone', sa.String(length=10), nullable=True),
        sa.Column('direction', sa.String(length=5), nullable=True),
        sa.Column('plate', sa.String(length=12), nullable=True),
        sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('confidence', sa.Integer(), nullable=True),
        sa.Column('image_ref', sa.String(length=500), nullable=True),
        sa.Column('image_file', sa.String(length=64), nullable=True),
        sa.Column('image_type', sa.String(length=20), nullable=True),
        sa.Column('pending_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('considered', sa.Text(), nullable=True),
        sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
        sa.Column('reviewed_by_label', sa.String(length=200), nullable=True),
        sa.Column('dismissal', sa.String(length=20), nullable=True),
        sa.Column('review_note', sa.Text(), nullable=True),
        sa.Column('notify_by', sa.Date(), nullable=True),
        sa.Column('anonymised_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(f'status IN ({STATUSES})', name=op.f('ck_transit_status')),
        sa.CheckConstraint(f'answer IN ({STATUSES})', name=op.f('ck_transit_answer')),
        sa.CheckConstraint(
            'confidence IS NULL OR confidence BETWEEN 0 AND 100',
            name=op.f('ck_transit_confidence'),
        ),
        sa.ForeignKeyConstraint(
            ['reviewed_by_id'],
            ['user_account.id'],
            name=op.f('fk_transit_reviewed_by_id_user_account'),
            ondelete='SET NULL',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_transit')),
        sa.UniqueConstraint('gate', 'source_id', name='uq_transit_gate_source'),
    )
    op.create_index('ix_transit_status_pending_until', 'transit', ['status', 'pending_until'])
    op.create_index('ix_transit_received_at', 'transit', ['received_at'])
    op.create_index('ix_transit_hour_gate', 'transit', ['hour', 'gate'])
    op.create_index(op.f('ix_transit_plate'), 'transit', ['plate'])
    op.create_table(
        'transit_hour_count',
        sa.Column('gate', sa.String(length=20), nullable=False),
        sa.Column('hour', sa.DateTime(timezone=True), nullable=False),
        sa.Column('authorized', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('gate', 'hour', name=op.f('pk_transit_hour_count')),
    )
    op.create_table(
        'transit_refusal',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('channel', sa.String(length=10), nullable=False),
        sa.Column('gate', sa.String(length=20), nullable=True),
        sa.Column('source_id', sa.String(length=64), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_transit_refusal')),
    )
    op.create_index('ix_transit_refusal_received_at', 'transit_refusal', ['received_at'])
    with op.batch_alter_table('api_token') as batch:
        batch.add_column(sa.Column('gate', sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table('api_token') as batch:
        batch.drop_column('gate')
    op.drop_index('ix_transit_refusal_received_at', table_name='transit_refusal')
    op.drop_table('transit_refusal')
    op.drop_table('transit_hour_count')
    op.drop_index(op.f('ix_transit_plate'), table_name='transit')
    op.drop_index('ix_transit_hour_gate', table_name='transit')
    op.drop_index('ix_transit_received_at', table_name='transit')
    op.drop_index('ix_transit_status_pending_until', table_name='transit')
    op.drop_table('transit')
