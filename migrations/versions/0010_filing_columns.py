"""filing: year, platform and external_id as indexed columns, backfilled from `fields`

Queries filter filings on a 年检's year and a 登记's platform and ID (issue 16 item 1); these
lived only inside the JSON and were filtered in Python. The columns copy the answers verbatim
(models.filing.filing_columns): an integer year, a platform of at most 8 characters, an ID of at
most 200; anything else stays NULL. The backfill is SQL, in id ranges, so a province's filings
are never read into Python and no statement touches more than BATCH rows.

Revision ID: 0010_filing_columns
Revises: 0003_hardening
Create Date: 2026-12-05 02:30:00
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0010_filing_columns'
down_revision = '0003_hardening'
branch_labels = None
depends_on = None

BATCH = 5000  # filings updated per statement

# The same rule as models.filing.filing_columns, in each dialect's JSON functions.
BACKFILL = {
    "sqlite": """
        UPDATE filing SET
          year = CASE WHEN json_type(fields, '$.year') = 'integer'
                      THEN json_extract(fields, '$.year') END,
          platform = CASE WHEN json_type(fields, '$.platform') = 'text'
                           AND length(json_extract(fields, '$.platform')) <= 8
                          THEN json_extract(fields, '$.platform') END,
          external_id = CASE WHEN json_type(fields, '$.external_id') = 'text'
                              AND length(json_extract(fields, '$.external_id')) <= 200
                             THEN json_extract(fields, '$.external_id') END
        WHERE id >= :low AND id < :high""",
    "postgresql": """
        UPDATE filing SET
          year = CASE WHEN json_typeof(fields -> 'year') = 'number'
                       AND (fields ->> 'year') ~ '^-?[0-9]{1,9}$'
                      THEN (fields ->> 'year')::integer END,
          platform = CASE WHEN json_typeof(fields -> 'platform') = 'string'
                           AND length(fields ->> 'platform') <= 8
                          THEN fields ->> 'platform' END,
          external_id = CASE WHEN json_typeof(fields -> 'external_id') = 'string'
                              AND length(fields ->> 'external_id') <= 200
                             THEN fields ->> 'external_id' END
        WHERE id >= :low AND id < :high""",
}


def upgrade() -> None:
    with op.batch_alter_table('filing', schema=None) as batch_op:
        batch_op.add_column(sa.Column('year', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=8),
                                      nullable=True))
        batch_op.add_column(sa.Column('external_id',
                                      sqlmodel.sql.sqltypes.AutoString(length=200),
                                      nullable=True))
    backfill()
    with op.batch_alter_table('filing', schema=None) as batch_op:
        batch_op.create_index('ix_filing_kind_year', ['kind', 'year'], unique=False)
        batch_op.create_index('ix_filing_platform_external_id', ['platform', 'external_id'],
                              unique=False)


def backfill() -> None:
    """Copy the answers into the new columns, BATCH ids at a time."""
    bind = op.get_bind()
    low, high = bind.execute(sa.text("SELECT min(id), max(id) FROM filing")).one()
    if low is None:
        return
    statement = sa.text(BACKFILL[bind.dialect.name])
    for start in range(low, high + 1, BATCH):
        bind.execute(statement, {"low": start, "high": start + BATCH})


def downgrade() -> None:
    with op.batch_alter_table('filing', schema=None) as batch_op:
        batch_op.drop_index('ix_filing_platform_external_id')
        batch_op.drop_index('ix_filing_kind_year')
        batch_op.drop_column('external_id')
        batch_op.drop_column('platform')
        batch_op.drop_column('year')
