"""What the audit API returns."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, Field


class AuditEventOut(BaseModel):
    seq: int
    event_id: uuid.UUID
    occurred_at: dt.datetime
    action: str
    tag: str
    outcome: str
    actor_user: str
    actor_agency: str | None
    actor_area: str | None
    actor_roles: str | None
    nominal_id: uuid.UUID | None
    section: str | None
    item_id: uuid.UUID | None
    purpose: str | None
    request_id: str | None
    details: str | None


class AuditPage(BaseModel):
    events: list[AuditEventOut]
    next: str | None = Field(description="send it as `cursor` for the page after; null: this is the last")


EXPORT_COLUMNS = list(AuditEventOut.model_fields)
