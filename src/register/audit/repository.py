"""Writing audit events, in the caller's transaction, and the queries auditors ask."""

from __future__ import annotations

import uuid

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ..store.models import AuditEvent
from .events import AuditEntry


class AuditLog:
    def __init__(self, session: Session) -> None:
        self.session = session

    def record(self, entry: AuditEntry) -> None:
        """Insert the event in the current transaction: a rolled-back change leaves no event, a committed one always has it."""
        self.session.execute(insert(AuditEvent).values(**entry.columns()))

    def for_record(self, nominal_id: uuid.UUID, limit: int = 1000) -> list[AuditEvent]:
        """Who looked at or changed this record, oldest first."""
        return list(self.session.scalars(select(AuditEvent).where(AuditEvent.nominal_id == nominal_id).order_by(AuditEvent.seq).limit(limit)))

    def for_user(self, user_id: str, limit: int = 1000) -> list[AuditEvent]:
        """What this user did, oldest first."""
        return list(self.session.scalars(select(AuditEvent).where(AuditEvent.actor_user == user_id).order_by(AuditEvent.seq).limit(limit)))
