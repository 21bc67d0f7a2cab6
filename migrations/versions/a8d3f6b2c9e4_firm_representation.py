"""firm representation: the register's legal representatives and clerk-approved delegations

Revision ID: a8d3f6b2c9e4
Revises: f5c2d8e1a3b7
Create Date: 2026-12-06 10:00:00.000000

Until now anyone who typed a firm's partita IVA could apply for its permits and buy its hotel
booklets. A person now acts for a firm only as one of its legal representatives (the businesses
file's `legal_representatives` column, kept in `business_representative`) or as a delegate a
clerk approved (`firm_delegation`, with its two documents in `firm_delegation_document`).
The representatives arrive with the next import of a businesses file that has the column; until
then only delegations (and the counter) give access to a firm.
"""

import sqlalchemy as sa
from alembic import op

revision = "a8d3f6b2c9e4"
down_revision = "f5c2d8e1a3b7"
branch_labels = None
depends_on = None

LIVE = "status IN ('requested', 'approved')"


def upgrade():
    op.create_table(
        "business_representative",
        sa.Column("partita_iva", sa.String(length=11), nullable=False),
        sa.Column("person_key", sa.String(length=16), nullable=False),
        sa.Column("codice_fiscale", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["partita_iva"],
            ["business.partita_iva"],
            name="fk_business_representative_partita_iva_business",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("partita_iva", "person_key", name="pk_business_representative"),
    )
    op.create_index(
        "ix_business_representative_person_key", "business_representative", ["person_key"]
    )
    op.create_table(
        "firm_delegation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partita_iva", sa.String(length=11), nullable=False),
        sa.Column("delegate_user_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.Column("revocation_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('requested', 'approved', 'refused', 'revoked')",
            name=op.f("ck_firm_delegation_status"),
        ),
        sa.ForeignKeyConstraint(
            ["delegate_user_id"],
            ["user_account.id"],
            name="fk_firm_delegation_delegate_user_id_user_account",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user_account.id"],
            name="fk_firm_delegation_decided_by_id_user_account",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"],
            ["user_account.id"],
            name="fk_firm_delegation_revoked_by_id_user_account",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_firm_delegation"),
    )
    op.create_index("ix_firm_delegation_partita_iva", "firm_delegation", ["partita_iva"])
    op.create_index(
        "ix_firm_delegation_delegate_user_id", "firm_delegation", ["delegate_user_id"]
    )
    op.create_index("ix_firm_delegation_queue", "firm_delegation", ["status", "requested_at"])
    op.create_index(
        "uq_firm_delegation_live",
        "firm_delegation",
        ["partita_iva", "delegate_user_id"],
        unique=True,
        sqlite_where=sa.text(LIVE),
        postgresql_where=sa.text(LIVE),
    )
    op.create_table(
        "firm_delegation_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delegation_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=60), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("size_bytes >= 0", name=op.f("ck_firm_delegation_document_size_bytes")),
        sa.ForeignKeyConstraint(
            ["delegation_id"],
            ["firm_delegation.id"],
            name="fk_firm_delegation_document_delegation_id_firm_delegation",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_firm_delegation_document"),
        sa.UniqueConstraint(
            "delegation_id", "kind", name="uq_firm_delegation_document_delegation_id_kind"
        ),
        sa.UniqueConstraint("stored_name", name="uq_firm_delegation_document_stored_name"),
    )
    op.create_index(
        "ix_firm_delegation_document_delegation_id",
        "firm_delegation_document",
        ["delegation_id"],
    )


def downgrade():
    op.drop_index(
        "ix_firm_delegation_document_delegation_id", table_name="firm_delegation_document"
    )
    op.drop_table("firm_delegation_document")
    op.drop_index("uq_firm_delegation_live", table_name="firm_delegation")
    op.drop_index("ix_firm_delegation_queue", table_name="firm_delegation")
    op.drop_index("ix_firm_delegation_delegate_user_id", table_name="firm_delegation")
    op.drop_index("ix_firm_delegation_partita_iva", table_name="firm_delegation")
    op.drop_table("firm_delegation")
    op.drop_index("ix_business_representative_person_key", table_name="business_representative")
    op.drop_table("business_representative")
