"""Every table, imported here so that SQLModel.metadata is complete for Alembic."""

from models.account import ACCOUNT_STATUSES, Account
from models.audit import AuditLog
from models.base import utcnow
from models.card import Card
from models.conversation import Conversation
from models.counter import Counter
from models.directory import ALL_DEPARTMENTS, ROLES, Department, Membership, RoleGrant, User
from models.filing import FILING_KINDS, FILING_STATUSES, Decision, Filing
from models.inbound import InboundEvent
from models.outbox import OUTBOX_STATUSES, OutboxMessage, SendCount
from models.reminder import ReminderSent, ZeroReport
from models.token import KeyValue

__all__ = [
    "ACCOUNT_STATUSES", "ALL_DEPARTMENTS", "Account", "AuditLog", "Card", "Conversation", "Counter",
    "Decision", "Department", "FILING_KINDS", "FILING_STATUSES", "Filing", "InboundEvent",
    "KeyValue", "Membership", "OUTBOX_STATUSES", "OutboxMessage", "ROLES", "ReminderSent",
    "RoleGrant", "SendCount", "User", "ZeroReport",
    "utcnow",
]
