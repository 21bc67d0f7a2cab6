"""payment positions and refund requests: pagoPA debt positions kept here

Revision ID: a7c3e5f9b214
Revises: d9e3b5a1c7f2
Create Date: 2026-12-06 03:00:00.000000

A debt position per application or booklet to pay (ztl/payments/positions.py), the refunds the
accounting office owes, and on each received receipt how it came and for which position. Notices
issued before this revision become positions: open while waiting, paid once paid, cancelled when
the application was withdrawn or refused.
"""
import datetime as dt

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c3e5f9b214'
down_revision = 'd9e3b5a1c7f2'
branch_labels = None
depends_on = None

NOTICE_DAYS = 30


def upgrade():
    op.create_table(
        'payment_position',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('iuv', sa.String(length=17), nullable=False),
        sa.Column('notice_number', sa.String(length=18), nullable=False),
        sa.Column('remote_id', sa.String(length=35), nullable=False),
        sa.Column('provider', sa.String(length=20), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=True),
        sa.Column('booklet_id', sa.Integer(), nullable=True),
        sa.Column('category_code', sa.String(length=20), nullable=False),
        sa.Column('purpose', sa.String(length=20), nullable=False),
        sa.Column('fee_cents', sa.Integer(), nullable=False),
        sa.Column('stamp_duty_cents', sa.Integer(), nullable=False),
        sa.Column('amount_cents', sa.Integer(), nullable=False),
        sa.Column('payer_kind', sa.String(length=1), nullable=False),
        sa.Column('payer_tax_code', sa.String(length=16), nullable=False),
        sa.Column('payer_name', sa.String(length=200), nullable=False),
        sa.Column('reason', sa.String(length=140), nullable=False),
        sa.Column('expires_on', sa.Date(), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('receipt_id', sa.String(length=64), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('opening', 'open', 'paid', 'cancelling', 'cancelled', 'expired')",
            name=op.f('ck_payment_position_state'),
        ),
        sa.CheckConstraint(
            'fee_cents >= 0 AND stamp_duty_cents >= 0 AND amount_cents = fee_cents + '
            'stamp_duty_cents AND amount_cents > 0',
            name=op.f('ck_payment_position_money'),
        ),
        sa.CheckConstraint(
            '(application_id IS NULL) <> (booklet_id IS NULL)',
            name=op.f('ck_payment_position_one_debt'),
        ),
        sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_payment_position_application_id_application'), ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['booklet_id'], ['hotel_booklet.id'], name=op.f('fk_payment_position_booklet_id_hotel_booklet'), ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_position')),
        sa.UniqueConstraint('iuv', name=op.f('uq_payment_position_iuv')),
        sa.UniqueConstraint('notice_number', name=op.f('uq_payment_position_notice_number')),
        sa.UniqueConstraint('remote_id', name=op.f('uq_payment_position_remote_id')),
    )
    with op.batch_alter_table('payment_position', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_position_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_position_booklet_id'), ['booklet_id'], unique=False)
        batch_op.create_index('ix_payment_position_state', ['state'], unique=False)
        batch_op.create_index(
            'uq_payment_position_live_application',
            ['application_id'],
            unique=True,
            sqlite_where=sa.text("state NOT IN ('cancelling', 'cancelled')"),
            postgresql_where=sa.text("state NOT IN ('cancelling', 'cancelled')"),
        )

    op.create_table(
        'refund_request',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('position_id', sa.Integer(), nullable=False),
        sa.Column('receipt_id', sa.String(length=64), nullable=False),
        sa.Column('amount_cents', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=20), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('done_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint('amount_cents > 0', name=op.f('ck_refund_request_amount')),
        sa.CheckConstraint(
            "reason IN ('rejected', 'withdrawn', 'double_payment', 'cancelled_notice')",
            name=op.f('ck_refund_request_reason'),
        ),
        sa.ForeignKeyConstraint(['done_by_id'], ['user_account.id'], name=op.f('fk_refund_request_done_by_id_user_account'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['position_id'], ['payment_position.id'], name=op.f('fk_refund_request_position_id_payment_position'), ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_refund_request')),
        sa.UniqueConstraint('receipt_id', name=op.f('uq_refund_request_receipt_id')),
    )
    with op.batch_alter_table('refund_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refund_request_position_id'), ['position_id'], unique=False)

    with op.batch_alter_table('payment_notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=20), nullable=False, server_default='signed'))
        batch_op.add_column(sa.Column('payer_tax_code', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('code', sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column('position_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_payment_notification_position_id'), ['position_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_payment_notification_position_id_payment_position'), 'payment_position', ['position_id'], ['id'], ondelete='SET NULL')

    _positions_for_earlier_notices()


def _positions_for_earlier_notices():
    """Every notice issued so far becomes a position, so receipts find them as they find new ones."""
    bind = op.get_bind()
    now = dt.datetime.now(dt.UTC)
    rows = bind.execute(sa.text(
        "SELECT a.id, a.payment_reference, a.applicant_id, a.fee_cents, a.stamp_duty_cents, "
        "a.status, a.paid_at, a.submitted_at, c.code FROM application a "
        "JOIN category c ON c.id = a.category_id "
        "WHERE a.payment_reference IS NOT NULL"
    )).fetchall()
    for (app_id, iuv, payer, fee, stamp, status, paid_at, submitted_at, code) in rows:
        if fee + stamp <= 0:
            continue
        state = 'paid' if paid_at else ('cancelled' if status in ('withdrawn', 'rejected') else 'open')
        _insert(bind, iuv, payer, code, 'application', fee, stamp, state, paid_at,
                submitted_at or now, now, application_id=app_id)
    booklets = bind.execute(sa.text(
        "SELECT id, payment_reference, holder_id, price_cents, paid_at, created_at "
        "FROM hotel_booklet WHERE payment_reference IS NOT NULL AND price_cents > 0"
    )).fetchall()
    for (booklet_id, iuv, holder, price, paid_at, created_at) in booklets:
        state = 'paid' if paid_at else 'open'
        _insert(bind, iuv, holder, '8A', 'booklet', price, 0, state, paid_at,
                created_at or now, now, booklet_id=booklet_id)


def _insert(bind, iuv, payer, code, purpose, fee, stamp, state, paid_at, created, now,
            application_id=None, booklet_id=None):
    created = created if isinstance(created, dt.datetime) else now
    bind.execute(
        sa.text(
            "INSERT INTO payment_position (iuv, notice_number, remote_id, provider, "
            "application_id, booklet_id, category_code, purpose, fee_cents, stamp_duty_cents, "
            "amount_cents, payer_kind, payer_tax_code, payer_name, reason, expires_on, state, "
            "created_at, opened_at, paid_at) VALUES (:iuv, :number, :remote, 'earlier', :app, "
            ":booklet, :code, :purpose, :fee, :stamp, :amount, :kind, :payer, :payer, :reason, "
            ":expires, :state, :created, :created, :paid)"
        ),
        {
            'iuv': iuv[:17], 'number': ('3' + iuv)[:18], 'remote': ('ZTL-' + iuv)[:35],
            'app': application_id, 'booklet': booklet_id, 'code': code, 'purpose': purpose,
            'fee': fee, 'stamp': stamp, 'amount': fee + stamp,
            'kind': 'G' if payer.isdigit() else 'F', 'payer': payer,
            'reason': f'ZTL {code}', 'expires': (created + dt.timedelta(days=NOTICE_DAYS)).date(),
            'state': state, 'created': created, 'paid': paid_at,
        },
    )


def downgrade():
    with op.batch_alter_table('payment_notification', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_payment_notification_position_id_payment_position'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_payment_notification_position_id'))
        batch_op.drop_column('position_id')
        batch_op.drop_column('code')
        batch_op.drop_column('payer_tax_code')
        batch_op.drop_column('channel')
    with op.batch_alter_table('refund_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refund_request_position_id'))
    op.drop_table('refund_request')
    with op.batch_alter_table('payment_position', schema=None) as batch_op:
        batch_op.drop_index('uq_payment_position_live_application')
        batch_op.drop_index('ix_payment_position_state')
        batch_op.drop_index(batch_op.f('ix_payment_position_booklet_id'))
        batch_op.drop_index(batch_op.f('ix_payment_position_application_id'))
    op.drop_table('payment_position')
