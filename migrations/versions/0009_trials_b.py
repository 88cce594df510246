"""filing.due_on: the day by which a department must act on a filing

A 年检 sent back for 限期整改 and a closure ordered by a failed 年检 carry a deadline (30 days
unless the office gives a day); the daily reminders remind the account's administrators before
it and tell the department's heads and the office after it.

Revision ID: 0009_trials_b
Revises: 0004
Create Date: 2026-12-05 12:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0009_trials_b'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('filing', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_on', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('filing', schema=None) as batch_op:
        batch_op.drop_column('due_on')
