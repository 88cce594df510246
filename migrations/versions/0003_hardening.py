"""outboxmessage: failing_since and alerted_at (issue 15 item 4)

A row is retried until 72 h after the first failure of its current run of failures
(failing_since), not for 12 attempts; admins are told once about dead rows (alerted_at).
Rows failing when this runs get failing_since at their next failure.

Revision ID: 0003_hardening
Revises: 0009_trials_b
Create Date: 2026-12-04 16:47:20
"""
import sqlalchemy as sa
from alembic import op

import models.base

revision = '0003_hardening'
down_revision = '0009_trials_b'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failing_since', models.base.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('alerted_at', models.base.UTCDateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.drop_column('alerted_at')
        batch_op.drop_column('failing_since')
