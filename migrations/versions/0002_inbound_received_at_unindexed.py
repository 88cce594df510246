"""inboundevent.received_at loses its index

Every callback inserts an inbound row; the index cost about a third of that insert (one more
B-tree page per commit), and only the daily prune reads the column.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 19:05:00
"""
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('inboundevent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inboundevent_received_at'))


def downgrade() -> None:
    with op.batch_alter_table('inboundevent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inboundevent_received_at'), ['received_at'],
                              unique=False)
