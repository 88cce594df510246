"""indexes for the pages and chat lists of a province (issue 16): filing (status, kind) and
account (status, department_id, last_review_year), outboxmessage card_task_id

待办 and the queue select the filings waiting at given stages, i.e. given (kind, status) pairs:
with an index on kind alone a province's 待办 read every filing of a kind (0.5 s on SQLite).
The review page counts the active accounts per department and those recorded as reviewed: the
account index holds the three columns it reads, so the count never touches the account rows.
待办 asks, per card it lists, whether that card's send is still queued (bot.notify.card_is_live)
by its task id, which had no index: during a campaign (thousands of messages queued) each card
read every queued message.

Revision ID: 0011_page_indexes
Revises: 0010_filing_columns
Create Date: 2026-12-05 07:40:00
"""
from alembic import op

revision = '0011_page_indexes'
down_revision = '0010_filing_columns'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('filing', schema=None) as batch_op:
        batch_op.create_index('ix_filing_status_kind', ['status', 'kind'], unique=False)
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.create_index('ix_account_status_department_review',
                              ['status', 'department_id', 'last_review_year'], unique=False)
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.create_index('ix_outboxmessage_card_task_id', ['card_task_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.drop_index('ix_outboxmessage_card_task_id')
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.drop_index('ix_account_status_department_review')
    with op.batch_alter_table('filing', schema=None) as batch_op:
        batch_op.drop_index('ix_filing_status_kind')
