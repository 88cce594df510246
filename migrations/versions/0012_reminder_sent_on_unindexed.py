"""remindersent.sent_on loses its index (issue 16)

Nothing reads reminders by date alone: the campaign and the nudges read a target's last
reminder through the unique (kind, target, period, seq) key. The index only cost the daily
run: at 100,000 accounts the campaign inserts ~87,000 keys in one transaction, and keeping a
third index over them took ~0.3 s of its ~5 s on PostgreSQL (measured: 5.01-5.15 s with it,
4.78-4.79 s without, same database, same minute).

Revision ID: 0012_reminder_sent_on_unindexed
Revises: 0011_page_indexes
Create Date: 2026-12-05 09:00:00
"""
from alembic import op

revision = '0012_reminder_sent_on_unindexed'
down_revision = '0011_page_indexes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('remindersent', schema=None) as batch_op:
        batch_op.drop_index('ix_remindersent_sent_on')


def downgrade() -> None:
    with op.batch_alter_table('remindersent', schema=None) as batch_op:
        batch_op.create_index('ix_remindersent_sent_on', ['sent_on'], unique=False)
