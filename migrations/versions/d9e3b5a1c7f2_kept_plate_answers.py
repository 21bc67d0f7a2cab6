"""the police phone: the last plate answers kept with the browser session

Revision ID: d9e3b5a1c7f2
Revises: a8d3f6b2c9e4
Create Date: 2026-12-05 21:00:00.000000

The police home keeps an officer's last plate answers on the page. They are kept on the server,
with the signed-in browser's session (not in the cookie, which every request carries and anyone
holding it can read), and emptied when that session ends.
"""

import sqlalchemy as sa
from alembic import op

revision = "d9e3b5a1c7f2"
down_revision = "a8d3f6b2c9e4"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("browser_session") as batch:
        batch.add_column(sa.Column("kept_answers", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("browser_session") as batch:
        batch.drop_column("kept_answers")
