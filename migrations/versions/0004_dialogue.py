"""conversation.dialogue: a form's dialogue state, typed, out of conversation.answers

The ten `_`-prefixed keys kept in `answers` (_dept, _raw, _oneshot, _skipped, _history,
_failed, _choice, _edit, _pending, _resume) move to their own column under their new names
(handlers.forms.state.Dialogue); `answers` keeps the field values only.

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-04 17:00:00
"""
import json

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0002'
branch_labels = None
depends_on = None

RENAMED = {"_dept": "department_id", "_raw": "raw", "_oneshot": "oneshot", "_skipped": "skipped",
           "_history": "history", "_failed": "failed", "_choice": "choice", "_edit": "editing",
           "_pending": "pending", "_resume": "resume"}

conversation = sa.table("conversation", sa.column("userid", sa.String),
                        sa.column("answers", sa.JSON), sa.column("dialogue", sa.JSON))


def upgrade() -> None:
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dialogue', sa.JSON(), nullable=False,
                                      server_default='{}'))
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.alter_column('dialogue', server_default=None)
    connection = op.get_bind()
    for userid, answers in connection.execute(sa.select(conversation.c.userid,
                                                        conversation.c.answers)).all():
        answers = json.loads(answers) if isinstance(answers, str) else dict(answers or {})
        dialogue = {new: answers.pop(old) for old, new in RENAMED.items() if old in answers}
        if dialogue.get("choice") and dialogue["choice"].get("for") == "_dept":
            dialogue["choice"]["for"] = "department"
        connection.execute(conversation.update().where(conversation.c.userid == userid)
                           .values(answers=answers, dialogue=dialogue))


def downgrade() -> None:
    connection = op.get_bind()
    for userid, answers, dialogue in connection.execute(sa.select(
            conversation.c.userid, conversation.c.answers, conversation.c.dialogue)).all():
        answers = json.loads(answers) if isinstance(answers, str) else dict(answers or {})
        dialogue = json.loads(dialogue) if isinstance(dialogue, str) else dict(dialogue or {})
        if dialogue.get("choice") and dialogue["choice"].get("for") == "department":
            dialogue["choice"]["for"] = "_dept"
        answers.update({old: dialogue[new] for old, new in RENAMED.items() if new in dialogue})
        connection.execute(conversation.update().where(conversation.c.userid == userid)
                           .values(answers=answers))
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.drop_column('dialogue')
