"""Granting and revoking roles with an audit trail: what the CLI and /admin/roles both call.

workflow.roles changes the grants; this adds the AuditLog row (`role:grant` / `role:revoke`, actor
and time) in the same transaction, only when something changed."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from models import ALL_DEPARTMENTS, AuditLog
from workflow import roles


def grant(session: Session, *, actor: str, at: datetime, userid: str, role: str,
          department_id: int | None = None) -> bool:
    """Grant `role` to `userid` and audit it; False if it was already granted."""
    added = roles.grant(session, userid, role, department_id, granted_by=actor)
    if added:
        scope = ALL_DEPARTMENTS if department_id is None else department_id
        session.add(AuditLog(at=at, actor=actor, action="role:grant", before={},
                             after={"userid": userid, "role": role, "department_id": scope}))
    return added


def revoke(session: Session, *, actor: str, at: datetime, userid: str, role: str,
           department_id: int | None = None) -> int:
    """Revoke `role` (one department's grant, or all of them) and audit it; how many went."""
    removed = roles.revoke(session, userid, role, department_id)
    if removed:
        session.add(AuditLog(at=at, actor=actor, action="role:revoke",
                             before={"userid": userid, "role": role,
                                     "department_id": department_id},
                             after={"removed": removed}))
    return removed
