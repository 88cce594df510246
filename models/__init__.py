"""Every table, imported here so that SQLModel.metadata is complete for Alembic."""

from models.account import Account
from models.audit import AuditLog
from models.base import utcnow
from models.card import Card
from models.conversation import Conversation
from models.counter import Counter
from models.directory import ALL_DEPARTMENTS, ROLES, Department, Membership, RoleGrant, User
from models.filing import Decision, Filing
from models.inbound import InboundEvent
from models.outbox import OUTBOX_STATUSES, OutboxMessage, SendCount
from models.reminder import ReminderSent, ZeroReport
from models.status import AccountStatus, FilingStatus
from models.token import QUESTION_PREFIX, KeyValue

__all__ = [
    "AccountStatus", "ALL_DEPARTMENTS", "Account", "AuditLog", "Card", "Conversation", "Counter",
    "Decision", "Department", "FilingStatus", "Filing", "InboundEvent",
    "KeyValue", "Membership", "OUTBOX_STATUSES", "OutboxMessage", "ROLES", "ReminderSent",
    "QUESTION_PREFIX", "RoleGrant", "SendCount", "User", "ZeroReport",
    "utcnow",
]
